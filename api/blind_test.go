package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/api"
)

// TestBlindReviewHidesOthersDecisions: on a blind review still open, GET
// /v1/documents/{id}, GET /v1/reviews/{id} and the document's audit trail
// keep a decision from everyone but its author and auditors, and say how
// many they left out; once the review closes, everyone sees it.
func TestBlindReviewHidesOthersDecisions(t *testing.T) {
	s := newServer(t, 0)
	ctx := context.Background()
	now := time.Now().UTC()
	doc := &countersign.Document{ID: "b1", TaskType: "contract-review", Content: "text", ContentSHA256: "b1",
		Status: countersign.StatusAwaitingReview, SubmittedBy: "sam", CreatedAt: now}
	if _, _, err := s.store.CreateDocument(ctx, doc); err != nil {
		t.Fatal(err)
	}
	review := &countersign.Review{ID: "b1-r1", DocumentID: "b1", TaskType: "contract-review", Status: countersign.ReviewPending,
		CreatedAt: now, DueAt: now.Add(time.Hour), Reasons: []string{"hitl"}, Blind: true}
	if err := s.store.OpenReview(ctx, review); err != nil {
		t.Fatal(err)
	}
	if r, err := s.store.GetReview(ctx, "b1-r1"); err != nil || !r.Blind {
		t.Fatalf("stored review = %+v, %v: it should be blind", r, err)
	}
	first := &countersign.Decision{ID: "b1-r1/1", ReviewID: "b1-r1", DocumentID: "b1", Action: countersign.ActionCorrect,
		Fields: countersign.Fields{"term_months": 24}, Actor: "user-reviewer", Role: countersign.RoleReviewer, At: now}
	if err := s.store.RecordDecision(ctx, first, false); err != nil {
		t.Fatal(err)
	}
	data, _ := json.Marshal(map[string]any{"review_id": "b1-r1", "decision_id": first.ID, "action": first.Action, "fields": first.Fields})
	for _, e := range []countersign.AuditEvent{
		{ID: "b1/1", DocumentID: "b1", Type: countersign.EventReviewOpened, Actor: countersign.SystemActor, At: now, Data: json.RawMessage(`{"review_id":"b1-r1"}`)},
		{ID: "b1/2", DocumentID: "b1", Type: countersign.EventDecisionRecorded, Actor: first.Actor, At: now, Data: data},
	} {
		if _, err := s.store.AppendAudit(ctx, e); err != nil {
			t.Fatal(err)
		}
	}

	look := func(role countersign.Role) (docView api.DocumentView, reviewView api.ReviewView, trail api.AuditEvents) {
		t.Helper()
		for path, into := range map[string]any{"/v1/documents/b1": &docView, "/v1/reviews/b1-r1": &reviewView, "/v1/documents/b1/audit": &trail} {
			a := s.do(http.MethodGet, path, s.tokens[role], "")
			if a.status != http.StatusOK {
				t.Fatalf("GET %s as %s = %d %s", path, role, a.status, a.message())
			}
			raw, _ := json.Marshal(a.body)
			if err := json.Unmarshal(raw, into); err != nil {
				t.Fatal(err)
			}
		}
		return
	}
	decisionEvents := func(tr api.AuditEvents) int {
		n := 0
		for _, e := range tr.Events {
			if e.Type == countersign.EventDecisionRecorded {
				n++
			}
		}
		return n
	}

	// The approver has not decided: the reviewer's correction is hidden.
	d, r, tr := look(countersign.RoleApprover)
	if len(d.Decisions) != 0 || d.Hidden != 1 || len(r.Decisions) != 0 || r.Hidden != 1 || decisionEvents(tr) != 0 || tr.Hidden != 1 || len(tr.Events) != 1 {
		t.Fatalf("the second reviewer sees decisions %v / %v and %d decision events (hidden %d, %d, %d): the blind review's first decision must be hidden",
			d.Decisions, r.Decisions, decisionEvents(tr), d.Hidden, r.Hidden, tr.Hidden)
	}
	if !r.Review.Blind {
		t.Fatalf("review view = %+v: it should say it is blind", r.Review)
	}
	// Its author sees it, and so does an auditor, who decides nothing.
	for _, role := range []countersign.Role{countersign.RoleReviewer, countersign.RoleAuditor} {
		if role == countersign.RoleAuditor {
			// Auditors read the trail, not documents' queue views.
			tr := api.AuditEvents{}
			a := s.do(http.MethodGet, "/v1/documents/b1/audit", s.tokens[role], "")
			raw, _ := json.Marshal(a.body)
			_ = json.Unmarshal(raw, &tr)
			if a.status != http.StatusOK || decisionEvents(tr) != 1 || tr.Hidden != 0 {
				t.Fatalf("the auditor's trail = %d %+v", a.status, tr)
			}
			continue
		}
		d, r, tr := look(role)
		if len(d.Decisions) != 1 || d.Hidden != 0 || len(r.Decisions) != 1 || decisionEvents(tr) != 1 || tr.Hidden != 0 {
			t.Fatalf("the author sees %v / %v and %d decision events", d.Decisions, r.Decisions, decisionEvents(tr))
		}
	}

	// Closed, the review hides nothing.
	if err := s.store.CloseReviews(ctx, "b1", now, countersign.SystemActor); err != nil {
		t.Fatal(err)
	}
	if d, r, tr := look(countersign.RoleApprover); len(d.Decisions) != 1 || d.Hidden != 0 || len(r.Decisions) != 1 || decisionEvents(tr) != 1 {
		t.Fatalf("after the review closed the approver sees %v / %v and %d decision events", d.Decisions, r.Decisions, decisionEvents(tr))
	}
}
