package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/api"
	"github.com/countersign/countersign/api/apiclient"
	"github.com/countersign/countersign/internal/app"
	"github.com/countersign/countersign/internal/config"
	"github.com/countersign/countersign/workflows"
)

// TestTerminatedReviewIsAbandoned terminates, through Temporal, the
// workflow of a document waiting for a person: the worker's reconciler
// closes its review with the reason, the review leaves the queue, the
// document fails with that reason, and the audit chain verifies.
func TestTerminatedReviewIsAbandoned(t *testing.T) {
	ctx := context.Background()
	a := startAppWith(t, config.Config{ReconcileInterval: time.Second}, app.Roles{Embedded: true, Worker: true, API: true})
	u := newUsers(t, a)
	review := submitAndWait(t, u, "contract-review", "consulting-lindqvist-fjord.txt")
	if err := a.Temporal.TerminateWorkflow(ctx, workflows.ReviewWorkflowID(review.DocumentID), "", "stuck on a bad deploy"); err != nil {
		t.Fatal(err)
	}

	waitUntil(t, "review "+review.ID+" to leave the queue", func() (bool, string) {
		pending := pendingReviews(t, u.reviewer, "")
		return !slices.Contains(pending, review.ID), fmt.Sprintf("pending: %v", pending)
	})
	doc, err := u.reviewer.Document(ctx, review.DocumentID)
	if err != nil {
		t.Fatal(err)
	}
	if doc.Status != countersign.StatusFailed || doc.Review == nil || doc.Review.Status != countersign.ReviewClosed || doc.Review.ClosedBy != countersign.SystemActor {
		t.Fatalf("document after the termination: status %s, review %+v; want failed, its review closed by countersign", doc.Status, doc.Review)
	}
	events, err := u.reviewer.Audit(ctx, review.DocumentID)
	if err != nil {
		t.Fatal(err)
	}
	abandoned := lastEvent(t, events, countersign.EventReviewAbandoned)
	var data struct {
		WorkflowStatus string   `json:"workflow_status"`
		Reason         string   `json:"reason"`
		Reviews        []string `json:"reviews"`
	}
	if err := json.Unmarshal(abandoned.Data, &data); err != nil {
		t.Fatal(err)
	}
	if data.WorkflowStatus != "terminated" || !slices.Equal(data.Reviews, []string{review.ID}) || !strings.Contains(data.Reason, "stuck on a bad deploy") || abandoned.Actor != countersign.SystemActor {
		t.Fatalf("review.abandoned = %s by %s; want the terminated status, the review and the operator's reason, by countersign", abandoned.Data, abandoned.Actor)
	}
	failed := lastEvent(t, events, countersign.EventDocumentFailed)
	var why struct {
		Error string `json:"error"`
	}
	if err := json.Unmarshal(failed.Data, &why); err != nil || why.Error != data.Reason || failed.Seq < abandoned.Seq {
		t.Fatalf("document.failed = %s (seq %d, abandoned %d); want the same reason, after the abandonment", failed.Data, failed.Seq, abandoned.Seq)
	}
	if _, err := u.approver.Decide(ctx, review.ID, api.DecisionRequest{Action: countersign.ActionApprove}); status(err) != 409 {
		t.Fatalf("deciding the abandoned review: %v, want 409", err)
	}
	if report, err := u.admin.VerifyAudit(ctx); err != nil || !report.OK {
		t.Fatalf("audit: %+v, %v", report, err)
	}
}

// TestTerminatedAuditKeepsOutcome terminates the workflow of an accepted
// document while its audit review is open: only the audit review closes;
// the document stays accepted, with its final record.
func TestTerminatedAuditKeepsOutcome(t *testing.T) {
	ctx := context.Background()
	a := startAppWith(t, config.Config{TaskTypesDir: piiWithPolicy(t, hotlPolicy), ReconcileInterval: time.Second},
		app.Roles{Embedded: true, Worker: true, API: true})
	u := newUsers(t, a)
	const taskType = "pii-extraction"
	sub, err := u.submitter.Submit(ctx, api.SubmitRequest{TaskType: taskType, Content: sample(t, taskType, "email-maria-gonzalez.txt")})
	if err != nil {
		t.Fatal(err)
	}
	var auditID string
	waitUntil(t, "the audit review of "+sub.ID, func() (bool, string) {
		page, err := u.reviewer.Reviews(ctx, apiclient.ReviewQuery{Kind: string(countersign.ReviewAudit), Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page.Reviews {
			if r.DocumentID == sub.ID {
				auditID = r.ID
				return true, ""
			}
		}
		return false, fmt.Sprintf("%d audit reviews", len(page.Reviews))
	})
	before, err := u.reviewer.Document(ctx, sub.ID)
	if err != nil || before.Status != countersign.StatusAccepted || before.Final == nil {
		t.Fatalf("document under audit: %+v, %v; want accepted with a final record", before, err)
	}
	if err := a.Temporal.TerminateWorkflow(ctx, workflows.ReviewWorkflowID(sub.ID), "", "audit no longer needed"); err != nil {
		t.Fatal(err)
	}

	waitUntil(t, "audit review "+auditID+" to leave the queue", func() (bool, string) {
		pending := pendingReviews(t, u.reviewer, countersign.ReviewAudit)
		return !slices.Contains(pending, auditID), fmt.Sprintf("pending: %v", pending)
	})
	after, err := u.reviewer.Document(ctx, sub.ID)
	if err != nil {
		t.Fatal(err)
	}
	if after.Status != countersign.StatusAccepted || after.Final == nil || after.Final.Fields["email"] != before.Final.Fields["email"] {
		t.Fatalf("document after the termination: %s, final %+v; want accepted as before", after.Status, after.Final)
	}
	events, err := u.reviewer.Audit(ctx, sub.ID)
	if err != nil {
		t.Fatal(err)
	}
	abandoned := lastEvent(t, events, countersign.EventReviewAbandoned)
	if !strings.Contains(string(abandoned.Data), auditID) || !strings.Contains(string(abandoned.Data), `"document_status":"accepted"`) {
		t.Fatalf("review.abandoned = %s; want the audit review, the document accepted", abandoned.Data)
	}
	if types := eventTypes(events); slices.Contains(types, countersign.EventDocumentFailed) {
		t.Fatalf("trail %v: the accepted document failed", types)
	}
	if report, err := u.admin.VerifyAudit(ctx); err != nil || !report.OK {
		t.Fatalf("audit: %+v, %v", report, err)
	}
}

// pendingReviews lists the IDs of the pending reviews of a kind (any, when
// empty).
func pendingReviews(t *testing.T, c *apiclient.Client, kind countersign.ReviewKind) []string {
	t.Helper()
	page, err := c.Reviews(context.Background(), apiclient.ReviewQuery{Kind: string(kind), Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range page.Reviews {
		ids = append(ids, r.ID)
	}
	return ids
}

// lastEvent is the last event of a type in a trail.
func lastEvent(t *testing.T, events []countersign.AuditEvent, eventType string) countersign.AuditEvent {
	t.Helper()
	for i := len(events) - 1; i >= 0; i-- {
		if events[i].Type == eventType {
			return events[i]
		}
	}
	t.Fatalf("no %s in the trail %v", eventType, eventTypes(events))
	return countersign.AuditEvent{}
}

// TestDecisionFindsReviewAbandoned decides a review whose workflow was
// terminated, long before the reconciler's next round, three times at once
// as impatient people would: each refusal closes the review at once, and
// the trail records its abandonment and the document's failure once.
func TestDecisionFindsReviewAbandoned(t *testing.T) {
	ctx := context.Background()
	a := startAppWith(t, config.Config{ReconcileInterval: time.Hour}, app.Roles{Embedded: true, Worker: true, API: true})
	u := newUsers(t, a)
	review := submitAndWait(t, u, "contract-review", "consulting-lindqvist-fjord.txt")
	if err := a.Temporal.TerminateWorkflow(ctx, workflows.ReviewWorkflowID(review.DocumentID), "", "operator cleanup"); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	statuses := make([]int, 3)
	for i := range statuses {
		wg.Go(func() {
			_, err := u.approver.Decide(ctx, review.ID, api.DecisionRequest{Action: countersign.ActionApprove})
			statuses[i] = status(err)
		})
	}
	wg.Wait()
	if !slices.Equal(statuses, []int{409, 409, 409}) {
		t.Fatalf("deciding the terminated review three times at once: %v, want 409 each time", statuses)
	}
	if pending := pendingReviews(t, u.reviewer, ""); slices.Contains(pending, review.ID) {
		t.Fatalf("review %s still pending after the refused decision", review.ID)
	}
	doc, err := u.reviewer.Document(ctx, review.DocumentID)
	if err != nil || doc.Status != countersign.StatusFailed {
		t.Fatalf("document after the refused decision: %+v, %v; want failed", doc, err)
	}
	events, err := u.reviewer.Audit(ctx, review.DocumentID)
	if err != nil {
		t.Fatal(err)
	}
	if abandoned := lastEvent(t, events, countersign.EventReviewAbandoned); !strings.Contains(string(abandoned.Data), "operator cleanup") {
		t.Fatalf("review.abandoned = %s, want the operator's reason", abandoned.Data)
	}
	if types := eventTypes(events); eventCount(types, countersign.EventReviewAbandoned) != 1 || eventCount(types, countersign.EventDocumentFailed) != 1 {
		t.Fatalf("trail %v: want one review.abandoned and one document.failed", types)
	}
	if report, err := u.admin.VerifyAudit(ctx); err != nil || !report.OK {
		t.Fatalf("audit: %+v, %v", report, err)
	}
}
