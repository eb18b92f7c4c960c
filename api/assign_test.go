package api_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/auth"
)

// TestReassignOverHTTP: an approver reassigns a review to a reviewer who
// could decide it, and the trail keeps who had it before; a reviewer may
// not reassign; nobody is assigned a review they could not decide (the
// submitter, someone who decided it, someone without a token); a
// reviewer cannot claim a review assigned to someone else before it is
// due, its assignee can, and the list shows the assignee.
func TestReassignOverHTTP(t *testing.T) {
	s := newServer(t, 0)
	ctx := context.Background()
	now := time.Now().UTC()
	people := map[string]string{}
	for _, user := range []string{"rita", "sam", "tom", "subby"} {
		secret, _, err := auth.Issue(ctx, s.store, "test", countersign.ChannelCLI, user, countersign.RoleReviewer, 0, now)
		if err != nil {
			t.Fatal(err)
		}
		people[user] = secret
	}
	if _, _, err := s.store.CreateDocument(ctx, &countersign.Document{ID: "d1", TaskType: "contract-review", TaskTypeVersion: "v", Content: "x",
		Status: countersign.StatusAwaitingReview, SubmittedBy: "subby", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	r := &countersign.Review{ID: countersign.ReviewID("d1", 1), DocumentID: "d1", TaskType: "contract-review", CreatedAt: now, DueAt: now.Add(time.Hour)}
	if err := s.store.OpenReview(ctx, r); err != nil {
		t.Fatal(err)
	}
	if _, err := s.store.AssignReview(ctx, countersign.Assign{ReviewID: r.ID, To: "rita"}); err != nil {
		t.Fatal(err)
	}
	if err := s.store.RecordDecision(ctx, &countersign.Decision{ID: r.ID + "/1", ReviewID: r.ID, DocumentID: "d1", Action: countersign.ActionApprove,
		Actor: "tom", Role: countersign.RoleReviewer, Channel: countersign.ChannelAPI, At: now}, false); err != nil {
		t.Fatal(err)
	}
	path := "/v1/reviews/" + r.ID + "/assign"
	approver := s.tokens[countersign.RoleApprover]

	if a := s.do("POST", path, people["rita"], `{"to":"sam"}`); a.status != 403 {
		t.Fatalf("a reviewer reassigning = %d %s, want 403", a.status, a.message())
	}
	for to, want := range map[string]string{
		"subby":  "subby submitted document d1",
		"tom":    "tom decided review " + r.ID + " already",
		"nobody": "nobody has no live API token",
		"":       "name the person to assign review",
	} {
		a := s.do("POST", path, approver, `{"to":"`+to+`"}`)
		if a.status != 422 || !strings.Contains(a.message(), want) {
			t.Errorf("assigning to %q = %d %q, want 422 saying %q", to, a.status, a.message(), want)
		}
	}
	a := s.do("POST", path, approver, `{"to":"sam"}`)
	if a.status != 200 {
		t.Fatalf("reassigning to sam = %d %s", a.status, a.message())
	}
	if got := a.body["review"].(map[string]any)["assigned_to"]; got != "sam" {
		t.Fatalf("assigned_to = %v, want sam", got)
	}
	// rita, who had it, may no longer claim it; sam may.
	if a := s.do("POST", "/v1/reviews/"+r.ID+"/claim", people["rita"], ""); a.status != 409 || !strings.Contains(a.message(), "is assigned to sam") {
		t.Fatalf("rita claiming sam's review = %d %q, want 409 naming sam", a.status, a.message())
	}
	if a := s.do("POST", "/v1/reviews/"+r.ID+"/claim", people["sam"], ""); a.status != 200 {
		t.Fatalf("sam claiming his review = %d %q", a.status, a.message())
	}
	list := s.do("GET", "/v1/reviews?status=pending", people["sam"], "")
	if rows := list.body["reviews"].([]any); len(rows) != 1 || rows[0].(map[string]any)["assigned_to"] != "sam" {
		t.Fatalf("list = %v, want the review assigned to sam", list.body)
	}
	trail := s.do("GET", "/v1/documents/d1/audit", approver, "")
	var assigned []string
	for _, e := range trail.body["events"].([]any) {
		ev := e.(map[string]any)
		if ev["type"] != countersign.EventReviewAssigned {
			continue
		}
		raw, _ := json.Marshal(ev["data"])
		var d struct{ To, Previous string }
		_ = json.Unmarshal(raw, &d)
		assigned = append(assigned, ev["actor"].(string)+": "+d.Previous+">"+d.To)
	}
	if got, want := strings.Join(assigned, "; "), "user-approver: rita>sam"; got != want {
		t.Fatalf("review.assigned events = %q, want %q", got, want)
	}
}
