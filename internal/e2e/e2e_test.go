// Package e2e runs countersign whole: the embedded Temporal server, the real
// worker, the real HTTP router and a real store (SQLite, and Postgres),
// driven only through the public REST API.
package e2e

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/temporalproto"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	sdkworker "go.temporal.io/sdk/worker"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/api"
	"github.com/countersign/countersign/api/apiclient"
	"github.com/countersign/countersign/internal/app"
	"github.com/countersign/countersign/internal/config"
	"github.com/countersign/countersign/internal/store/postgres/pgtest"
	"github.com/countersign/countersign/workflows"
)

// recordEnv, when set, makes the end-to-end runs write their workflow
// histories to workflows/testdata/histories for the replay tests.
const recordEnv = "COUNTERSIGN_RECORD_HISTORIES"

func quietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// startApp starts roles on a fresh data dir with free ports.
func startApp(t testing.TB, databaseURL string, roles app.Roles) *app.App {
	t.Helper()
	return startAppWith(t, config.Config{DatabaseURL: databaseURL}, roles)
}

// startAppWith starts roles with cfg, on a fresh data dir with free ports.
func startAppWith(t testing.TB, cfg config.Config, roles app.Roles) *app.App {
	t.Helper()
	cfg.DataDir, cfg.HTTPAddr, cfg.Namespace = t.TempDir(), "127.0.0.1:0", "default"
	if cfg.AuditSettle == 0 {
		// The tests decide audits within seconds, and wait for the
		// supervisor no longer.
		cfg.AuditSettle = time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	a, err := app.Start(ctx, cfg, roles, quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Stop)
	if roles.Worker {
		if err := a.WaitReady(ctx); err != nil {
			t.Fatal(err)
		}
	}
	return a
}

func TestPipelineSQLite(t *testing.T) {
	a := startApp(t, "", app.Roles{Embedded: true, Worker: true, API: true})
	runPipeline(t, a, os.Getenv(recordEnv) != "")
}

func TestPipelinePostgres(t *testing.T) {
	a := startApp(t, pgtest.Database(t), app.Roles{Embedded: true, Worker: true, API: true})
	runPipeline(t, a, false)
}

// users are the API clients of one run, one per role.
type users struct {
	admin, submitter, reviewer, approver, auditor *apiclient.Client
}

func newUsers(t testing.TB, a *app.App) users {
	t.Helper()
	admin := apiclient.New(a.APIURL, a.AdminToken)
	mk := func(user string, role countersign.Role) *apiclient.Client {
		tok, err := admin.CreateToken(context.Background(), user, role, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		return apiclient.New(a.APIURL, tok.Secret)
	}
	return users{
		admin:     admin,
		submitter: mk("sam", countersign.RoleSubmitter),
		reviewer:  mk("rita", countersign.RoleReviewer),
		approver:  mk("anna", countersign.RoleApprover),
		auditor:   mk("otto", countersign.RoleAuditor),
	}
}

func sample(t testing.TB, taskType, name string) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "examples", taskType, "samples", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}

// runPipeline is the whole story through HTTP: submit, wait for the review,
// decide, see the final state and a verifying audit chain. With record, the
// runs' histories are written for the replay tests.
func runPipeline(t *testing.T, a *app.App, record bool) {
	ctx := context.Background()
	u := newUsers(t, a)

	contract := api.SubmitRequest{TaskType: "contract-review", ExternalID: "MSA-2025-017", Content: sample(t, "contract-review", "msa-northwind-harbor.txt")}
	first, err := u.submitter.Submit(ctx, contract)
	if err != nil || !first.Created || first.Status != countersign.StatusProcessing {
		t.Fatalf("submit = %+v, %v", first, err)
	}
	again, err := u.submitter.Submit(ctx, contract)
	if err != nil || again.ID != first.ID || again.Created {
		t.Fatalf("resubmission = %+v, %v; want the same document, not created", again, err)
	}
	clash := contract
	clash.Content += "\nAmendment No. 1"
	if _, err := u.submitter.Submit(ctx, clash); status(err) != http.StatusConflict {
		t.Fatalf("same external ID, other content: %v, want 409", err)
	}

	review := waitForReview(t, u.reviewer, first.ID)
	if review.TaskType != "contract-review" || review.Confidence != 1 || len(review.Reasons) == 0 || !review.DueAt.After(review.CreatedAt) {
		t.Fatalf("review = %+v", review)
	}

	// Refusals reach nothing.
	if _, err := u.submitter.Decide(ctx, review.ID, api.DecisionRequest{Action: countersign.ActionApprove}); status(err) != http.StatusForbidden {
		t.Fatalf("submitter decides: %v, want 403", err)
	}
	if _, err := u.auditor.Decide(ctx, review.ID, api.DecisionRequest{Action: countersign.ActionApprove}); status(err) != http.StatusForbidden {
		t.Fatalf("auditor decides: %v, want 403", err)
	}
	if _, err := u.reviewer.Decide(ctx, review.ID, api.DecisionRequest{Action: "escalate"}); status(err) != http.StatusUnprocessableEntity {
		t.Fatalf("unknown action: %v, want 422", err)
	}
	bad := api.DecisionRequest{Action: countersign.ActionCorrect, Fields: countersign.Fields{"term_months": "two years"}}
	if _, err := u.reviewer.Decide(ctx, review.ID, bad); status(err) != http.StatusUnprocessableEntity || !strings.Contains(err.Error(), "term_months") {
		t.Fatalf("correction failing the schema: %v, want 422 naming term_months", err)
	}
	if _, err := u.reviewer.Decide(ctx, "nope-r1", api.DecisionRequest{Action: countersign.ActionApprove}); status(err) != http.StatusNotFound {
		t.Fatalf("unknown review: %v, want 404", err)
	}

	correction := api.DecisionRequest{Action: countersign.ActionCorrect, Fields: countersign.Fields{"term_months": 24, "party_b": "Harbor Freight Logistics, LLC"}}
	decided, err := u.reviewer.Decide(ctx, review.ID, correction)
	if err != nil {
		t.Fatal(err)
	}
	if decided.Document.Status != countersign.StatusAccepted || decided.Decision.Actor != "rita" || decided.Decision.Channel != countersign.ChannelAPI {
		t.Fatalf("decision = %+v", decided)
	}
	if _, err := u.approver.Decide(ctx, review.ID, api.DecisionRequest{Action: countersign.ActionApprove}); status(err) != http.StatusConflict {
		t.Fatalf("second decision: %v, want 409", err)
	}

	doc, err := u.submitter.Document(ctx, first.ID)
	if err != nil {
		t.Fatal(err)
	}
	if doc.Status != countersign.StatusAccepted || doc.Final == nil || doc.Final.Fields["term_months"] != float64(24) ||
		doc.Final.Fields["party_a"] != "Northwind Analytics, Inc." || len(doc.Decisions) != 1 || doc.Review == nil || doc.Review.Status != countersign.ReviewClosed {
		t.Fatalf("document after the correction = %+v", doc)
	}
	if doc.Draft.Evidence["party_a"].Quote == "" || doc.Confidence.Fields["party_a"].Signals[countersign.SignalGrounding] != 1 || doc.Route.Outcome != countersign.OutcomeHumanReview {
		t.Fatalf("draft, confidence or route missing: %+v %+v %+v", doc.Draft, doc.Confidence, doc.Route)
	}

	// A confident PII draft is accepted without a person.
	pii, err := u.submitter.Submit(ctx, api.SubmitRequest{TaskType: "pii-extraction", Content: sample(t, "pii-extraction", "claim-form-daniel-obrien.txt")})
	if err != nil {
		t.Fatal(err)
	}
	waitCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	auto, err := u.submitter.WaitFinal(waitCtx, pii.ID, 100*time.Millisecond)
	if err != nil || auto.Status != countersign.StatusAccepted || auto.Route.Outcome != countersign.OutcomeAutoAccept || auto.Review != nil {
		t.Fatalf("PII document = %+v, %v", auto, err)
	}

	// A retried decision with the same Idempotency-Key answers the recorded
	// decision; another decision under the same key is refused.
	keyed := submitAndWait(t, u, "contract-review", "consulting-lindqvist-fjord.txt")
	once, err := u.reviewer.DecideOnce(ctx, keyed.ID, "click-1", api.DecisionRequest{Action: countersign.ActionApprove})
	if err != nil {
		t.Fatal(err)
	}
	retry, err := u.reviewer.DecideOnce(ctx, keyed.ID, "click-1", api.DecisionRequest{Action: countersign.ActionApprove})
	if err != nil || retry.Decision.ID != once.Decision.ID || retry.Document.Status != countersign.StatusAccepted {
		t.Fatalf("retried decision = %+v, %v; want the first one, %+v", retry, err, once)
	}
	if _, err := u.approver.DecideOnce(ctx, keyed.ID, "click-1", api.DecisionRequest{Action: countersign.ActionReject, Reason: "no"}); status(err) != http.StatusConflict {
		t.Fatalf("someone else with the same key: %v, want 409", err)
	}

	// Two more shapes of run for the recorded histories: approve and reject.
	approved := submitAndDecide(t, u, "contract-review", "saas-quantumledger-maplestreet.txt", api.DecisionRequest{Action: countersign.ActionApprove})
	rejected := submitAndDecide(t, u, "contract-review", "nda-blueheron-cedarridge.txt", api.DecisionRequest{Action: countersign.ActionReject, Reason: "draft, not the signed copy"})
	if approved.Status != countersign.StatusAccepted || rejected.Status != countersign.StatusRejected {
		t.Fatalf("approved %s, rejected %s", approved.Status, rejected.Status)
	}

	// Delivery follows the decision's answer: wait for its event.
	var events []countersign.AuditEvent
	for wait := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if events, err = u.auditor.Audit(ctx, first.ID); err != nil {
			t.Fatal(err)
		}
		if len(events) >= 8 || time.Now().After(wait) {
			break
		}
	}
	var types []string
	for _, e := range events {
		types = append(types, e.Type)
		if e.Hash == "" || e.PrevHash == "" || e.DocumentID != first.ID {
			t.Fatalf("incomplete audit event %+v", e)
		}
	}
	if got, want := strings.Join(types, " "), "document.received draft.created confidence.scored route.decided review.opened decision.recorded document.finalized document.delivered"; got != want {
		t.Fatalf("audit trail:\n got %s\nwant %s", got, want)
	}
	if events[0].Actor != "sam" || events[5].Actor != "rita" || events[5].Channel != countersign.ChannelAPI {
		t.Fatalf("audit actors: received by %s, decided by %s via %s", events[0].Actor, events[5].Actor, events[5].Channel)
	}
	report, err := u.auditor.VerifyAudit(ctx)
	if err != nil || !report.OK || report.Events < int64(4*7) {
		t.Fatalf("verify = %+v, %v", report, err)
	}

	// A review an operator terminated cannot silently restart: resubmitting
	// says what happened.
	stuck := submitAndWait(t, u, "pii-extraction", "support-ticket-unsigned.txt")
	if err := a.Temporal.TerminateWorkflow(ctx, workflows.ReviewWorkflowID(stuck.DocumentID), "", "operator test"); err != nil {
		t.Fatal(err)
	}
	_, err = u.submitter.Submit(ctx, api.SubmitRequest{TaskType: "pii-extraction", Content: sample(t, "pii-extraction", "support-ticket-unsigned.txt")})
	if status(err) != http.StatusConflict || !strings.Contains(err.Error(), "ended as terminated") {
		t.Fatalf("resubmitting a terminated review: %v, want 409 naming the termination", err)
	}

	checkHistories(t, a, record, map[string]string{
		"correct":     first.ID,
		"auto_accept": pii.ID,
		"approve":     approved.ID,
		"reject":      rejected.ID,
	})
}

// submitAndWait submits a sample and waits for its review to be pending.
func submitAndWait(t *testing.T, u users, taskType, name string) countersign.Review {
	t.Helper()
	sub, err := u.submitter.Submit(context.Background(), api.SubmitRequest{TaskType: taskType, Content: sample(t, taskType, name)})
	if err != nil {
		t.Fatal(err)
	}
	return waitForReview(t, u.reviewer, sub.ID)
}

func submitAndDecide(t *testing.T, u users, taskType, name string, d api.DecisionRequest) *api.DocumentView {
	t.Helper()
	ctx := context.Background()
	review := submitAndWait(t, u, taskType, name)
	if _, err := u.approver.Decide(ctx, review.ID, d); err != nil {
		t.Fatal(err)
	}
	doc, err := u.reviewer.Document(ctx, review.DocumentID)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// waitForReview polls the queue until the document's review is pending.
func waitForReview(t *testing.T, c *apiclient.Client, documentID string) countersign.Review {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		cursor := ""
		for {
			page, err := c.Reviews(context.Background(), apiclient.ReviewQuery{Limit: 100, Cursor: cursor})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range page.Reviews {
				if r.DocumentID == documentID {
					return r
				}
			}
			if cursor = page.NextCursor; cursor == "" {
				break
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no review for document %s after a minute", documentID)
	return countersign.Review{}
}

func status(err error) int {
	var apiErr *apiclient.Error
	if errors.As(err, &apiErr) {
		return apiErr.Status
	}
	return 0
}

// checkHistories replays each run's real history against the current
// workflow code, and records it for the replay tests when asked to.
func checkHistories(t *testing.T, a *app.App, record bool, runs map[string]string) {
	t.Helper()
	replayer := sdkworker.NewWorkflowReplayer()
	(&workflows.Workflows{}).Register(replayer)
	logger := sdklog.NewStructuredLogger(quietLogger())
	for name, docID := range runs {
		history := fetchHistory(t, a.Temporal, workflows.ReviewWorkflowID(docID))
		if err := replayer.ReplayWorkflowHistory(logger, history); err != nil {
			t.Fatalf("replaying the %s run: %v", name, err)
		}
		if !record {
			continue
		}
		raw, err := temporalproto.CustomJSONMarshalOptions{Indent: "  "}.Marshal(history)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join("..", "..", "workflows", "testdata", "histories", name+".json")
		if err := os.WriteFile(path, append(raw, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("recorded %s", path)
	}
}

func fetchHistory(t *testing.T, c client.Client, workflowID string) *historypb.History {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// Wait for the run to close so the history is whole; a run that failed
	// has closed too.
	var failed *temporal.WorkflowExecutionError
	if err := c.GetWorkflow(ctx, workflowID, "").Get(ctx, nil); err != nil && !errors.As(err, &failed) {
		t.Fatalf("workflow %s: %v", workflowID, err)
	}
	iter := c.GetWorkflowHistory(ctx, workflowID, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	history := &historypb.History{}
	for iter.HasNext() {
		event, err := iter.Next()
		if err != nil {
			t.Fatal(err)
		}
		history.Events = append(history.Events, event)
	}
	return history
}

func TestReadyzWaitsForAWorker(t *testing.T) {
	a := startApp(t, "", app.Roles{Embedded: true, API: true})
	resp, err := http.Get(a.APIURL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), "no worker polls the review task queue") {
		t.Fatalf("/readyz without a worker = %d %s, want 503 saying no worker polls", resp.StatusCode, body)
	}
	resp, err = http.Get(a.APIURL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/healthz = %d, want 200", resp.StatusCode)
	}
}
