package e2e

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
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

// gateTaskTypes writes the contract-review example three times into a
// fresh folder, with the human gate's keys: contract-review needs two
// approvals, contract-reject times out after 2s and rejects, contract-hold
// escalates after 1s and holds after 2s.
func gateTaskTypes(t *testing.T) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "examples", "contract-review", "tasktype.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	const policy = "\npolicy:\n  mode: hitl\n"
	if !strings.Contains(string(raw), policy) {
		t.Fatal("examples/contract-review/tasktype.yaml has no hitl policy to extend")
	}
	dir := t.TempDir()
	for name, keys := range map[string]string{
		"contract-review": "  approvals_required: 2\n",
		"contract-blind":  "  approvals_required: 2\n  blind_review: true\n",
		"contract-reject": "  sla: {remind_after: 1s, timeout_after: 2s, timeout_action: reject}\n",
		"contract-hold":   "  sla: {escalate_after: 1s, escalate_to: {channel: \"#leads\"}, timeout_after: 2s, timeout_action: hold}\n",
	} {
		source := strings.Replace(string(raw), policy, policy+keys, 1)
		source = strings.Replace(source, "\nname: contract-review\n", "\nname: "+name+"\n", 1)
		if err := os.WriteFile(filepath.Join(dir, name+".yaml"), []byte(source), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestHumanGateOverHTTP: two approvals, a disagreement settled by an
// adjudicator, and both timeout actions, through the REST API on the real
// server. With make histories, each run is recorded.
func TestHumanGateOverHTTP(t *testing.T) {
	ctx := context.Background()
	a := startAppWith(t, config.Config{TaskTypesDir: gateTaskTypes(t)}, app.Roles{Embedded: true, Worker: true, API: true})
	u := newUsers(t, a)
	tok, err := u.admin.CreateToken(ctx, "ravi", countersign.RoleReviewer, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	ravi := apiclient.New(a.APIURL, tok.Secret)
	approveReq := api.DecisionRequest{Action: countersign.ActionApprove}

	// Two approvals by two people.
	two := submitAndWait(t, u, "contract-review", "msa-northwind-harbor.txt")
	first, err := u.reviewer.Decide(ctx, two.ID, approveReq)
	if err != nil || first.Document.Status != countersign.StatusAwaitingReview {
		t.Fatalf("first approval = %+v, %v; want the document still awaiting review", first, err)
	}
	if _, err := u.reviewer.Decide(ctx, two.ID, approveReq); status(err) != http.StatusForbidden || !strings.Contains(err.Error(), "nobody counts twice") {
		t.Fatalf("the same reviewer again: %v, want 403", err)
	}
	second, err := u.approver.Decide(ctx, two.ID, approveReq)
	if err != nil || second.Document.Status != countersign.StatusAccepted {
		t.Fatalf("second approval = %+v, %v", second, err)
	}
	doc, err := u.auditor.Document(ctx, two.DocumentID)
	if err != nil || len(doc.Decisions) != 2 || strings.Join(doc.Final.Lineage.Reviewers, ",") != "rita,anna" {
		t.Fatalf("document = %+v, %v", doc, err)
	}

	// A disagreement, settled by an approver who was not part of it.
	disputed := submitAndWait(t, u, "contract-review", "saas-quantumledger-maplestreet.txt")
	if _, err := u.reviewer.Decide(ctx, disputed.ID, approveReq); err != nil {
		t.Fatal(err)
	}
	if _, err := ravi.Decide(ctx, disputed.ID, api.DecisionRequest{Action: countersign.ActionReject, Reason: "not the signed copy"}); err != nil {
		t.Fatal(err)
	}
	adjudication := waitForReviewID(t, u.reviewer, countersign.ReviewID(disputed.DocumentID, 2))
	if !strings.HasPrefix(adjudication.Reasons[0], "adjudication of review "+disputed.ID) {
		t.Fatalf("adjudication review = %+v", adjudication)
	}
	if _, err := ravi.Decide(ctx, adjudication.ID, approveReq); status(err) != http.StatusForbidden {
		t.Fatalf("a reviewer adjudicating: %v, want 403", err)
	}
	settled, err := u.approver.Decide(ctx, adjudication.ID, api.DecisionRequest{Action: countersign.ActionReject, Reason: "unsigned"})
	if err != nil || settled.Document.Status != countersign.StatusRejected {
		t.Fatalf("adjudication = %+v, %v", settled, err)
	}

	// Blind: the second person decides without seeing the first's
	// correction, and the two agree on their own.
	blindSub, err := u.submitter.Submit(ctx, api.SubmitRequest{TaskType: "contract-blind", Content: sample(t, "contract-review", "msa-northwind-harbor.txt")})
	if err != nil {
		t.Fatal(err)
	}
	blind := waitForReview(t, u.reviewer, blindSub.ID)
	fix := api.DecisionRequest{Action: countersign.ActionCorrect, Fields: countersign.Fields{"term_months": 24}}
	if _, err := u.reviewer.Decide(ctx, blind.ID, fix); err != nil {
		t.Fatal(err)
	}
	if doc, err := u.approver.Document(ctx, blind.DocumentID); err != nil || len(doc.Decisions) != 0 || doc.Hidden != 1 || !doc.Review.Blind {
		t.Fatalf("the second person's view of a blind review = %+v, %v: the first correction must be hidden", doc, err)
	}
	if events, err := u.approver.Audit(ctx, blind.DocumentID); err != nil || slices.ContainsFunc(events, func(e countersign.AuditEvent) bool { return e.Type == countersign.EventDecisionRecorded }) {
		t.Fatalf("the second person's trail of a blind review shows a decision (%v)", err)
	}
	if d, err := u.approver.Decide(ctx, blind.ID, fix); err != nil || d.Document.Status != countersign.StatusAccepted {
		t.Fatalf("the second, identical correction = %+v, %v", d, err)
	}
	if doc, err := u.approver.Document(ctx, blind.DocumentID); err != nil || len(doc.Decisions) != 2 || doc.Hidden != 0 {
		t.Fatalf("a closed blind review = %+v, %v: both decisions show", doc, err)
	}

	// Timeouts: reject, and hold until someone decides.
	rejected, err := u.submitter.Submit(ctx, api.SubmitRequest{TaskType: "contract-reject", Content: sample(t, "contract-review", "nda-blueheron-cedarridge.txt")})
	if err != nil {
		t.Fatal(err)
	}
	waitCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	final, err := u.submitter.WaitFinal(waitCtx, rejected.ID, 100*time.Millisecond)
	if err != nil || final.Status != countersign.StatusRejected || final.Final.Reason != "timed out after 2s with no decision" {
		t.Fatalf("timed-out document = %+v, %v", final, err)
	}
	if _, err := u.reviewer.Decide(ctx, countersign.ReviewID(rejected.ID, 1), approveReq); status(err) != http.StatusConflict {
		t.Fatalf("a decision after the timeout: %v, want 409", err)
	}
	sub, err := u.submitter.Submit(ctx, api.SubmitRequest{TaskType: "contract-hold", Content: sample(t, "contract-review", "consulting-lindqvist-fjord.txt")})
	if err != nil {
		t.Fatal(err)
	}
	held := waitForReview(t, u.reviewer, sub.ID)
	waitForEvent(t, u.auditor, held.DocumentID, countersign.EventReviewTimedOut)
	// The hold is told to the escalation tier (a second escalation) before
	// anyone decides; deciding sooner races that notice.
	waitForEvents(t, u.auditor, held.DocumentID, countersign.EventReviewEscalated, 2)
	if doc, err := u.auditor.Document(ctx, held.DocumentID); err != nil || doc.Status != countersign.StatusAwaitingReview || doc.Review.Status != countersign.ReviewPending {
		t.Fatalf("held document = %+v, %v", doc, err)
	}
	if d, err := u.reviewer.Decide(ctx, held.ID, approveReq); err != nil || d.Document.Status != countersign.StatusAccepted {
		t.Fatalf("deciding a held review = %+v, %v", d, err)
	}
	events, err := u.auditor.Audit(ctx, held.DocumentID)
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, e := range events {
		types = append(types, e.Type)
	}
	if got := strings.Join(types, " "); !strings.Contains(got, "review.opened review.escalated review.timed_out review.escalated decision.recorded document.finalized") {
		t.Fatalf("held document's trail: %s", got)
	}

	checkHistories(t, a, os.Getenv(recordEnv) != "", map[string]string{
		"two_approvers":  two.DocumentID,
		"blind_review":   blind.DocumentID,
		"adjudication":   disputed.DocumentID,
		"timeout_reject": rejected.ID,
		"timeout_hold":   held.DocumentID,
	})
}

// waitForReviewID polls the queue until the review with the given ID is
// pending.
func waitForReviewID(t *testing.T, c *apiclient.Client, reviewID string) countersign.Review {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		page, err := c.Reviews(context.Background(), apiclient.ReviewQuery{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page.Reviews {
			if r.ID == reviewID {
				return r
			}
		}
	}
	t.Fatalf("review %s not in the queue after a minute", reviewID)
	return countersign.Review{}
}

// waitForEvent polls a document's trail until it has an event of the type.
func waitForEvent(t *testing.T, c *apiclient.Client, documentID, eventType string) {
	t.Helper()
	waitForEvents(t, c, documentID, eventType, 1)
}

// waitForEvents waits until the document's trail has n events of a type.
func waitForEvents(t *testing.T, c *apiclient.Client, documentID, eventType string, n int) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		events, err := c.Audit(context.Background(), documentID)
		if err != nil {
			t.Fatal(err)
		}
		seen := 0
		for _, e := range events {
			if e.Type == eventType {
				seen++
			}
		}
		if seen >= n {
			return
		}
	}
	t.Fatalf("document %s has fewer than %d %s events after a minute", documentID, n, eventType)
}
