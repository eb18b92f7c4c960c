package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/api"
	"github.com/countersign/countersign/api/apiclient"
	"github.com/countersign/countersign/internal/app"
	"github.com/countersign/countersign/internal/config"
)

// TestAssignmentInThePipeline runs a task type that assigns its reviews
// round robin to a group, and needs two approvals, on the real stack:
// three documents go to the group's three members, one each; when the
// assignee approves, the review moves to another member (four eyes); an
// approver reassigns it, not to the person who approved; the second
// approval finalizes the document; the trail keeps every assignee and
// the chain verifies.
func TestAssignmentInThePipeline(t *testing.T) {
	dir := piiWithPolicy(t, "policy:\n  mode: hitl\n  review_due: 24h\n  approvals_required: 2\nassignment:\n  strategy: round_robin\n  to: [group:ap]\n")
	a := startAppWith(t, config.Config{TaskTypesDir: dir}, app.Roles{Embedded: true, Worker: true, API: true})
	u := newUsers(t, a)
	ctx := context.Background()
	members := map[string]*apiclient.Client{}
	for i := range 3 {
		user := fmt.Sprintf("ap%d", i)
		tok, err := u.admin.CreateToken(ctx, user, countersign.RoleReviewer, time.Hour, "ap")
		if err != nil {
			t.Fatal(err)
		}
		members[user] = apiclient.New(a.APIURL, tok.Secret)
	}
	assigned := func(documentID string, not ...string) countersign.Review {
		t.Helper()
		for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			r := waitForReview(t, u.reviewer, documentID)
			if r.AssignedTo != "" && !slices.Contains(not, r.AssignedTo) {
				return r
			}
		}
		t.Fatalf("the review of %s was not assigned to someone other than %v", documentID, not)
		return countersign.Review{}
	}
	content := sample(t, "pii-extraction", "email-maria-gonzalez.txt")
	var docs []string
	var got []string
	for i := range 3 {
		sub, err := u.submitter.Submit(ctx, api.SubmitRequest{TaskType: "pii-extraction", Content: fmt.Sprintf("%s\nCase %d.\n", content, i)})
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, sub.ID)
		got = append(got, assigned(sub.ID).AssignedTo)
	}
	slices.Sort(got)
	if strings.Join(got, ",") != "ap0,ap1,ap2" {
		t.Fatalf("three reviews assigned to %v, want ap0, ap1 and ap2 once each", got)
	}

	r := assigned(docs[0])
	first := r.AssignedTo
	if _, err := members[first].Decide(ctx, r.ID, api.DecisionRequest{Action: countersign.ActionApprove}); err != nil {
		t.Fatalf("%s approving: %v", first, err)
	}
	second := assigned(docs[0], first).AssignedTo
	if _, err := u.approver.Assign(ctx, r.ID, first); status(err) != http.StatusUnprocessableEntity || !strings.Contains(err.Error(), "decided review") {
		t.Fatalf("reassigning to %s, who approved: %v, want 422", first, err)
	}
	var third string
	for user := range members {
		if user != first && user != second {
			third = user
		}
	}
	if got, err := u.approver.Assign(ctx, r.ID, third); err != nil || got.AssignedTo != third {
		t.Fatalf("reassigning to %s: %+v, %v", third, got, err)
	}
	if _, err := members[second].Claim(ctx, r.ID); status(err) != http.StatusConflict {
		t.Fatalf("%s claiming %s's review: %v, want 409", second, third, err)
	}
	if got, err := members[third].Next(ctx, "", ""); err != nil || got == nil || got.ID != r.ID {
		t.Fatalf("next for %s = %+v, %v; want the review assigned to them", third, got, err)
	}
	if _, err := members[third].Decide(ctx, r.ID, api.DecisionRequest{Action: countersign.ActionApprove}); err != nil {
		t.Fatalf("%s approving: %v", third, err)
	}
	if view := waitForFinal(t, u.reviewer, docs[0]); view.Status != countersign.StatusAccepted {
		t.Fatalf("document %s is %s after two approvals, want accepted", docs[0], view.Status)
	}

	events, err := u.approver.Audit(ctx, docs[0])
	if err != nil {
		t.Fatal(err)
	}
	var trail []string
	for _, e := range events {
		if e.Type != countersign.EventReviewAssigned {
			continue
		}
		var d struct{ To, Previous string }
		if err := json.Unmarshal(e.Data, &d); err != nil {
			t.Fatal(err)
		}
		trail = append(trail, fmt.Sprintf("%s: %s>%s", e.Actor, d.Previous, d.To))
	}
	want := []string{
		countersign.SystemActor + ": >" + first,
		countersign.SystemActor + ": " + first + ">" + second,
		"anna: " + second + ">" + third,
	}
	if strings.Join(trail, "; ") != strings.Join(want, "; ") {
		t.Fatalf("review.assigned events:\n%s\nwant\n%s", strings.Join(trail, "\n"), strings.Join(want, "\n"))
	}
	report, err := u.auditor.VerifyAudit(ctx)
	if err != nil || !report.OK {
		t.Fatalf("audit verification: %+v, %v", report, err)
	}
}
