package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/auth"
)

// TestReviewGroups: a task type with review groups is closed to reviewers
// outside them (queue, document, trail and decision), open to its groups'
// reviewers, and to every other role; a task type without groups is open
// to every reviewer.
func TestReviewGroups(t *testing.T) {
	s := newServer(t, 0)
	ctx := context.Background()
	contracts, err := s.types.Get("contract-review")
	if err != nil {
		t.Fatal(err)
	}
	contracts.ReviewGroups = []string{"contracts", "legal"}
	now := time.Now().UTC()
	for _, d := range []struct{ id, taskType string }{{"c1", "contract-review"}, {"p1", "pii-extraction"}} {
		doc := &countersign.Document{ID: d.id, TaskType: d.taskType, TaskTypeVersion: "v", Content: "x", ContentSHA256: d.id, Status: countersign.StatusAwaitingReview, SubmittedBy: "sam", CreatedAt: now}
		if _, _, err := s.store.CreateDocument(ctx, doc); err != nil {
			t.Fatal(err)
		}
		r := &countersign.Review{ID: d.id + "-r1", DocumentID: d.id, TaskType: d.taskType, Status: countersign.ReviewPending, CreatedAt: now, DueAt: now.Add(time.Hour)}
		if err := s.store.OpenReview(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	token := func(user string, role countersign.Role, groups ...string) string {
		secret, _, err := auth.Issue(ctx, s.store, "test", countersign.ChannelCLI, user, role, 0, now, groups...)
		if err != nil {
			t.Fatal(err)
		}
		return secret
	}
	lena := token("lena", countersign.RoleReviewer, "claims", "legal")
	pete := token("pete", countersign.RoleReviewer, "claims")
	nobody := token("nobody", countersign.RoleReviewer)
	anna := token("anna", countersign.RoleApprover)
	otto := token("otto", countersign.RoleAuditor)

	queue := func(tok, query string) []string {
		t.Helper()
		a := s.do(http.MethodGet, "/v1/reviews"+query, tok, "")
		if a.status != http.StatusOK {
			t.Fatalf("GET /v1/reviews%s = %d %v", query, a.status, a.body)
		}
		var ids []string
		for _, r := range a.body["reviews"].([]any) {
			ids = append(ids, r.(map[string]any)["id"].(string))
		}
		return ids
	}
	for _, tc := range []struct {
		who, tok string
		want     string
	}{{"lena (legal)", lena, "c1-r1,p1-r1"}, {"pete (claims)", pete, "p1-r1"}, {"a reviewer without groups", nobody, "p1-r1"}, {"an approver", anna, "c1-r1,p1-r1"}, {"an auditor", otto, "c1-r1,p1-r1"}} {
		if got := strings.Join(queue(tc.tok, ""), ","); got != tc.want {
			t.Errorf("%s's queue = %s, want %s", tc.who, got, tc.want)
		}
	}
	for _, path := range []string{"/v1/reviews?task_type=contract-review", "/v1/documents/c1", "/v1/documents/c1/audit"} {
		if a := s.do(http.MethodGet, path, pete, ""); a.status != http.StatusForbidden || a.code() != "forbidden" {
			t.Errorf("pete GET %s = %d %v, want 403", path, a.status, a.body)
		}
		if a := s.do(http.MethodGet, path, lena, ""); a.status != http.StatusOK {
			t.Errorf("lena GET %s = %d %v, want 200", path, a.status, a.body)
		}
	}
	// A document's ID where a review's is wanted: the answer names its
	// reviews, to those who may review it, and to no one else.
	if a := s.do(http.MethodPost, "/v1/reviews/c1/decision", lena, `{"action":"approve"}`); a.status != http.StatusNotFound || !strings.Contains(a.message(), "c1 is a document; its reviews are c1-r1") {
		t.Errorf("lena deciding a document ID = %d %v, want 404 naming c1-r1", a.status, a.body)
	}
	if a := s.do(http.MethodPost, "/v1/reviews/c1/decision", pete, `{"action":"approve"}`); a.status != http.StatusNotFound || strings.Contains(a.message(), "c1-r1") {
		t.Errorf("pete deciding a document ID he may not review = %d %v, want a plain 404", a.status, a.body)
	}
	// Refused before the decision goes anywhere (this server has no Temporal).
	if a := s.do(http.MethodPost, "/v1/reviews/c1-r1/decision", pete, `{"action":"approve"}`); a.status != http.StatusForbidden {
		t.Errorf("pete deciding a contract review = %d %v, want 403", a.status, a.body)
	}
	if a := s.do(http.MethodGet, "/v1/documents/p1", pete, ""); a.status != http.StatusOK {
		t.Errorf("pete GET a pii document = %d, want 200", a.status)
	}
	// Batches count documents of every task type: closed to a reviewer
	// whose groups do not cover them all, open to one whose groups do.
	for _, path := range []string{"/v1/batches", "/v1/batches/room-7"} {
		if a := s.do(http.MethodGet, path, pete, ""); a.status != http.StatusForbidden || !strings.Contains(a.message(), "you may review: pii-extraction") {
			t.Errorf("pete GET %s = %d %v, want 403 naming what he may review", path, a.status, a.body)
		}
		if a := s.do(http.MethodGet, path, nobody, ""); a.status != http.StatusForbidden {
			t.Errorf("a reviewer without groups GET %s = %d, want 403", path, a.status)
		}
	}
	if a := s.do(http.MethodGet, "/v1/batches", lena, ""); a.status != http.StatusOK {
		t.Errorf("lena GET /v1/batches = %d %v, want 200", a.status, a.body)
	}
	if a := s.do(http.MethodGet, "/v1/batches/room-7", lena, ""); a.status != http.StatusNotFound {
		t.Errorf("lena GET an unknown batch = %d %v, want 404", a.status, a.body)
	}
}

// TestReviewsOfAnUnknownTaskType: a task type name that is neither
// configured nor has reviews (a typo) is refused with the names of those
// configured, not answered as an empty queue; a configured type with no
// reviews is an empty queue; a type no longer configured still lists the
// reviews it left.
func TestReviewsOfAnUnknownTaskType(t *testing.T) {
	s := newServer(t, 0)
	ctx := context.Background()
	now := time.Now().UTC()
	doc := &countersign.Document{ID: "old1", TaskType: "retired-type", TaskTypeVersion: "v", Content: "x", ContentSHA256: "old1", Status: countersign.StatusAwaitingReview, SubmittedBy: "sam", CreatedAt: now}
	if _, _, err := s.store.CreateDocument(ctx, doc); err != nil {
		t.Fatal(err)
	}
	if err := s.store.OpenReview(ctx, &countersign.Review{ID: "old1-r1", DocumentID: "old1", TaskType: "retired-type", Status: countersign.ReviewPending, CreatedAt: now, DueAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	// A retired type whose only review is closed is not a typo either.
	done := &countersign.Document{ID: "old2", TaskType: "closed-type", TaskTypeVersion: "v", Content: "x", ContentSHA256: "old2", Status: countersign.StatusAwaitingReview, SubmittedBy: "sam", CreatedAt: now}
	if _, _, err := s.store.CreateDocument(ctx, done); err != nil {
		t.Fatal(err)
	}
	if err := s.store.OpenReview(ctx, &countersign.Review{ID: "old2-r1", DocumentID: "old2", TaskType: "closed-type", Status: countersign.ReviewPending, CreatedAt: now, DueAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := s.store.CloseReviews(ctx, "old2", now, countersign.SystemActor); err != nil {
		t.Fatal(err)
	}
	reviewer := s.tokens[countersign.RoleReviewer]
	if a := s.do(http.MethodGet, "/v1/reviews?task_type=closed-type", reviewer, ""); a.status != http.StatusOK {
		t.Fatalf("pending reviews of a retired type with closed reviews only = %d %q, want 200 and none", a.status, a.message())
	}

	typo := s.do(http.MethodGet, "/v1/reviews?task_type=contracts", reviewer, "")
	if typo.status != http.StatusBadRequest || !strings.Contains(typo.message(), `unknown task type "contracts"`) || !strings.Contains(typo.message(), "contract-review") {
		t.Fatalf("reviews of a misspelt task type = %d %q, want 400 naming it and the known ones", typo.status, typo.message())
	}
	for _, query := range []string{"?task_type=contract-review", "?task_type=retired-type"} {
		if a := s.do(http.MethodGet, "/v1/reviews"+query, reviewer, ""); a.status != http.StatusOK {
			t.Fatalf("GET /v1/reviews%s = %d %q, want 200", query, a.status, a.message())
		}
	}
	if a := s.do(http.MethodGet, "/v1/reviews?task_type=retired-type", reviewer, ""); len(a.body["reviews"].([]any)) != 1 {
		t.Fatalf("reviews of a retired task type = %v, want its review", a.body)
	}
}
