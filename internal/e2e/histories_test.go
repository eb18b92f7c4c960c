package e2e

import (
	"context"
	"errors"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/activities"
	"github.com/countersign/countersign/api"
	"github.com/countersign/countersign/api/apiclient"
	"github.com/countersign/countersign/internal/app"
	"github.com/countersign/countersign/internal/config"
	"github.com/countersign/countersign/workflows"
)

// The policies of the task types TestReviewHistories adds, each a copy of
// pii-extraction under its own name: a veto window long enough to veto in,
// one that closes at once, every auto-accepted document audited and
// supervised (a 50% budget, so one corrected audit of two tightens
// nothing the test depends on), and a reject rule every draft matches.
const (
	vetoPolicy = `policy:
  mode: hotl
  auto_accept_threshold: 0.9
  review_due: 24h
  veto_window: 1h
`
	shortWindowPolicy = `policy:
  mode: hotl
  auto_accept_threshold: 0.9
  review_due: 24h
  veto_window: 1s
`
	auditedPolicy = `policy:
  mode: hotl
  auto_accept_threshold: 0.9
  review_due: 24h
  audit_sample_rate: 1
  supervision:
    error_budget: 0.5
    level: 0.95
    bound: wilson
    on_breach: raise_threshold
`
	rejectRulePolicy = `policy:
  mode: hotl
  auto_accept_threshold: 0.9
  review_due: 24h
  reject_rules:
    - name: any email
      when: 'has(fields.email)'
`
)

// TestReviewHistories runs, on the embedded Temporal server, the shapes of
// a review that the other end-to-end runs leave out: a veto within the
// veto window, a window that closes with no veto, an audit that confirms
// and one that corrects an auto-accepted document, a document a reject
// rule rejects with no person, a correction approved by someone else
// naming it, three people deciding a two-approval review at once (the
// third accepted while the others were recorded, and refused by the
// handler once the review closed), a start for a final document refused
// before anything is recorded, a review whose document is not in the
// store, which fails, and a review cancelled while it waits for a person.
// With make histories, each run is recorded.
func TestReviewHistories(t *testing.T) {
	ctx := context.Background()
	dir := gateTaskTypes(t)
	addRenamedPII(t, dir, "pii-veto", vetoPolicy)
	addRenamedPII(t, dir, "pii-window", shortWindowPolicy)
	addRenamedPII(t, dir, "pii-audit", auditedPolicy)
	addRenamedPII(t, dir, "pii-reject", rejectRulePolicy)
	a := startAppWith(t, config.Config{TaskTypesDir: dir}, app.Roles{Embedded: true, Worker: true, API: true})
	u := newUsers(t, a)
	ravi := newUser(t, a, u, "ravi", countersign.RoleReviewer)
	ada := newUser(t, a, u, "ada", countersign.RoleApprover)
	record := os.Getenv(recordEnv) != ""

	// A veto within the window rejects the accepted document.
	vetoed := submitFinal(t, u, "pii-veto", "email-maria-gonzalez.txt")
	if vetoed.Status != countersign.StatusAccepted || vetoed.Route.Outcome != countersign.OutcomeAutoAccept {
		t.Fatalf("document under a veto window = %s, %+v; want accepted, auto_accept", vetoed.Status, vetoed.Route)
	}
	veto, err := u.approver.Veto(ctx, vetoed.ID, api.VetoRequest{Action: countersign.ActionReject, Reason: "sent to the wrong mailbox"})
	if err != nil || veto.Document.Status != countersign.StatusRejected {
		t.Fatalf("veto = %+v, %v; want the document rejected", veto, err)
	}

	// A window that closes with no veto: delivered once it has.
	windowed := submitFinal(t, u, "pii-window", "email-maria-gonzalez.txt")
	waitForEvent(t, u.auditor, windowed.ID, countersign.EventDocumentDelivered)

	// Audits: one confirms the output, the other corrects it.
	confirmed := submitFinal(t, u, "pii-audit", "claim-form-daniel-obrien.txt")
	corrected := submitFinal(t, u, "pii-audit", "email-maria-gonzalez.txt")
	for _, doc := range []*api.DocumentView{confirmed, corrected} {
		if doc.Route.Outcome != countersign.OutcomeAutoAcceptWithAudit {
			t.Fatalf("document %s at audit_sample_rate 1: route %+v, want auto_accept_with_audit", doc.ID, doc.Route)
		}
	}
	audit := waitForReviewID(t, u.reviewer, countersign.ReviewID(confirmed.ID, 1))
	if d, err := u.reviewer.Decide(ctx, audit.ID, api.DecisionRequest{Action: countersign.ActionApprove}); err != nil || d.Document.Status != countersign.StatusAccepted {
		t.Fatalf("audit that confirms = %+v, %v", d, err)
	}
	audit = waitForReviewID(t, u.reviewer, countersign.ReviewID(corrected.ID, 1))
	if d, err := u.reviewer.Decide(ctx, audit.ID, api.DecisionRequest{Action: countersign.ActionCorrect, Fields: countersign.Fields{"email": "maria.gonzalez@home.example"}}); err != nil || d.Document.Status != countersign.StatusAccepted {
		t.Fatalf("audit that corrects = %+v, %v", d, err)
	}
	waitForEvent(t, u.auditor, corrected.ID, countersign.EventCorrectedAfterAudit)

	// A reject rule rejects with no person.
	ruled := submitFinal(t, u, "pii-reject", "claim-form-daniel-obrien.txt")
	if ruled.Status != countersign.StatusRejected || ruled.Route.Outcome != countersign.OutcomeReject || ruled.Review != nil {
		t.Fatalf("document a reject rule matched = %s, %+v, review %+v; want rejected by the rule, no review", ruled.Status, ruled.Route, ruled.Review)
	}

	// A correction, approved by someone else who names it.
	review := submitAndWait(t, u, "contract-review", "nda-blueheron-cedarridge.txt")
	fix, err := u.reviewer.Decide(ctx, review.ID, api.DecisionRequest{Action: countersign.ActionCorrect, Fields: countersign.Fields{"term_months": 36}})
	if err != nil || fix.Document.Status != countersign.StatusAwaitingReview {
		t.Fatalf("correction = %+v, %v; want the review still open", fix, err)
	}
	approved, err := u.approver.Decide(ctx, review.ID, api.DecisionRequest{Action: countersign.ActionApprove, Approves: fix.Decision.ID})
	if err != nil || approved.Document.Status != countersign.StatusAccepted {
		t.Fatalf("approval naming the correction = %+v, %v", approved, err)
	}
	correctionApproved := review.DocumentID

	concurrent := decideAtOnce(t, a, u, record, []*apiclient.Client{u.reviewer, ravi, ada})

	checkHistories(t, a, record, map[string]string{
		"veto":                 vetoed.ID,
		"veto_window_closed":   windowed.ID,
		"audit_confirmed":      confirmed.ID,
		"audit_corrected":      corrected.ID,
		"reject_rule":          ruled.ID,
		"correction_approved":  correctionApproved,
		"concurrent_decisions": concurrent,
	})

	// A start through the Temporal frontend for the final document of the
	// closed window, with a forged threshold: refused, nothing recorded.
	tt, err := a.TaskTypes.Get("pii-window")
	if err != nil {
		t.Fatal(err)
	}
	forged := workflows.ReviewInput{
		DocumentID: windowed.ID, TaskType: tt.Name, TaskTypeVersion: tt.Version, Policy: tt.Policy,
		Schema: tt.Schema, SubmittedBy: "sam", Channel: countersign.ChannelAPI,
	}
	forged.Policy.AutoAcceptThreshold = 0
	err = startReview(ctx, a, forged)
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || appErr.Type() != activities.ErrUntrustedStart {
		t.Fatalf("forged start: %v, want refused as %s", err, activities.ErrUntrustedStart)
	}

	// A review whose document is not in the store fails.
	missing := workflows.ReviewInput{
		DocumentID: "no-such-document", TaskType: tt.Name, TaskTypeVersion: tt.Version, Policy: tt.Policy,
		Schema: tt.Schema, SubmittedBy: "sam", Channel: countersign.ChannelAPI,
	}
	if err := startReview(ctx, a, missing); err == nil || !strings.Contains(err.Error(), "review failed") && !strings.Contains(err.Error(), "not found") {
		t.Fatalf("review of a document not in the store: %v, want it failed", err)
	}

	// A review cancelled through Temporal while it waits for a person: the
	// document fails, and the review's closing notice still goes out.
	// Its own copy of a contract: decideAtOnce may have used them all.
	sub, err := u.submitter.Submit(ctx, api.SubmitRequest{TaskType: "contract-review", Content: sample(t, "contract-review", "nda-blueheron-cedarridge.txt") + "\nFile copy.\n"})
	if err != nil {
		t.Fatal(err)
	}
	waiting := waitForReview(t, u.reviewer, sub.ID)
	if err := a.Temporal.CancelWorkflow(ctx, workflows.ReviewWorkflowID(waiting.DocumentID), ""); err != nil {
		t.Fatal(err)
	}
	if doc := waitForFinal(t, u.reviewer, waiting.DocumentID); doc.Status != countersign.StatusFailed {
		t.Fatalf("cancelled review's document = %s, want failed", doc.Status)
	}

	checkHistories(t, a, record, map[string]string{
		"untrusted_start":  windowed.ID,
		"document_missing": missing.DocumentID,
		"cancelled":        waiting.DocumentID,
	})
}

// newUser is a client of a new user with role.
func newUser(t *testing.T, a *app.App, u users, user string, role countersign.Role) *apiclient.Client {
	t.Helper()
	tok, err := u.admin.CreateToken(context.Background(), user, role, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return apiclient.New(a.APIURL, tok.Secret)
}

// submitFinal submits a pii-extraction sample as taskType and waits for its document to be final.
func submitFinal(t *testing.T, u users, taskType, name string) *api.DocumentView {
	t.Helper()
	sub, err := u.submitter.Submit(context.Background(), api.SubmitRequest{TaskType: taskType, Content: sample(t, "pii-extraction", name)})
	if err != nil {
		t.Fatal(err)
	}
	return waitForFinal(t, u.reviewer, sub.ID)
}

// startReview starts a review workflow through the Temporal frontend, as
// anyone who can reach it could, and waits for it to end. The reuse policy
// lets Temporal run a document's workflow ID again.
func startReview(ctx context.Context, a *app.App, in workflows.ReviewInput) error {
	run, err := a.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: workflows.ReviewWorkflowID(in.DocumentID), TaskQueue: workflows.TaskQueue,
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
	}, workflows.ReviewWorkflowType, in)
	if err != nil {
		return err
	}
	return run.Get(ctx, nil)
}

// decideAtOnce has deciders approve a two-approval review at the same
// moment until one run shows the shape it is for: a decision accepted
// while others were being recorded, then refused by the handler because
// the review closed meanwhile. It returns that document. The shape depends
// on timing: when no run shows it, the last document is returned, unless
// the history is to be recorded.
func decideAtOnce(t *testing.T, a *app.App, u users, record bool, deciders []*apiclient.Client) string {
	t.Helper()
	samples := []string{"msa-northwind-harbor.txt", "saas-quantumledger-maplestreet.txt", "consulting-lindqvist-fjord.txt"}
	var last string
	for _, name := range samples {
		review := submitAndWait(t, u, "contract-review", name)
		statuses := make([]int, len(deciders))
		var wg sync.WaitGroup
		for i, c := range deciders {
			wg.Go(func() {
				_, err := c.Decide(context.Background(), review.ID, api.DecisionRequest{Action: countersign.ActionApprove})
				statuses[i] = status(err)
			})
		}
		wg.Wait()
		doc := waitForFinal(t, u.reviewer, review.DocumentID)
		if doc.Status != countersign.StatusAccepted || len(doc.Decisions) != 2 {
			t.Fatalf("review decided by %d people at once: %s with %d decisions (statuses %v); want accepted with 2", len(deciders), doc.Status, len(doc.Decisions), statuses)
		}
		refused := 0
		for _, s := range statuses {
			if s == http.StatusConflict {
				refused++
			}
		}
		if refused != len(deciders)-2 {
			t.Fatalf("statuses %v, want all but two refused with 409", statuses)
		}
		last = review.DocumentID
		history := fetchHistory(t, a.Temporal, workflows.ReviewWorkflowID(last))
		if accepted, failed := updateOutcomes(history); accepted == len(deciders) && failed == len(deciders)-2 {
			return last
		}
		t.Logf("%s: the decisions did not overlap in the workflow; again", last)
	}
	if record {
		t.Fatalf("no run of %d samples had a decision refused after it was accepted: nothing to record", len(samples))
	}
	return last
}

// updateOutcomes counts the updates a history accepted and those that
// completed with a failure.
func updateOutcomes(h *historypb.History) (accepted, failed int) {
	for _, e := range h.Events {
		if e.GetWorkflowExecutionUpdateAcceptedEventAttributes() != nil {
			accepted++
		}
		if c := e.GetWorkflowExecutionUpdateCompletedEventAttributes(); c != nil && c.GetOutcome().GetFailure() != nil {
			failed++
		}
	}
	return accepted, failed
}
