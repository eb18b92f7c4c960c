package e2e

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/api"
	"github.com/countersign/countersign/api/apiclient"
	"github.com/countersign/countersign/internal/app"
	"github.com/countersign/countersign/internal/config"
	"github.com/countersign/countersign/internal/report"
)

// goldTaskTypes writes the contract-review example with a gold rate of 1
// (a gold item after every review) into a fresh folder and returns it.
func goldTaskTypes(t *testing.T) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "examples", "contract-review", "tasktype.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	source := strings.Replace(string(raw), "\ngold:\n  rate: 0.05\n", "\ngold:\n  rate: 1\n", 1)
	if source == string(raw) {
		t.Fatal("examples/contract-review/tasktype.yaml has no gold rate of 0.05 to replace")
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "contract-review.yaml"), []byte(source), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestGoldOverHTTP: a gold item slipped into the queue through the REST
// API. The reviewer sees two reviews alike and decides both; the approver
// sees the reviewer's gold score; the gold document stays out of stats and
// exports; the chain verifies. With make histories, both runs are recorded.
func TestGoldOverHTTP(t *testing.T) {
	ctx := context.Background()
	a := startAppWith(t, config.Config{TaskTypesDir: goldTaskTypes(t)}, app.Roles{Embedded: true, Worker: true, API: true})
	u := newUsers(t, a)
	const taskType = "contract-review"

	real := submitAndWait(t, u, taskType, "msa-northwind-harbor.txt")
	goldID := countersign.GoldDocumentID(taskType, real.ID)
	gold := waitForReview(t, u.reviewer, goldID)
	if gold.TaskType != taskType || gold.Kind != countersign.ReviewGate || gold.Status != countersign.ReviewPending {
		t.Fatalf("gold review = %+v, want a pending contract-review review like any other", gold)
	}
	goldDoc, err := u.reviewer.Document(ctx, goldID)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(goldDoc.Route.Reasons[0], "hitl") || goldDoc.Status != countersign.StatusAwaitingReview {
		t.Fatalf("gold document as the reviewer sees it = %s, route %+v", goldDoc.Status, goldDoc.Route)
	}

	// The rules miss the gold contract's second party and its term; rita
	// fills in the party, but not as the contract names it, and leaves the
	// term out.
	if _, err := u.reviewer.Decide(ctx, gold.ID, api.DecisionRequest{Action: countersign.ActionCorrect, Fields: countersign.Fields{"party_b": "Saltmarsh Grocers"}}); err != nil {
		t.Fatalf("deciding the gold review: %v", err)
	}
	if _, err := u.reviewer.Decide(ctx, real.ID, api.DecisionRequest{Action: countersign.ActionApprove}); err != nil {
		t.Fatalf("deciding the real review: %v", err)
	}
	// Deciding the gold document slipped nothing further in.
	page, err := u.reviewer.Reviews(ctx, apiclient.ReviewQuery{TaskType: taskType, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Reviews) != 0 {
		t.Fatalf("pending reviews after both decisions = %+v, want none", page.Reviews)
	}

	// The score is for approvers and auditors only.
	if _, err := u.reviewer.Reviewers(ctx, taskType, "", ""); status(err) != http.StatusForbidden {
		t.Fatalf("reviewer GET /v1/reviewers: %v, want 403", err)
	}
	rep, err := u.approver.Reviewers(ctx, taskType, "", "")
	if err != nil {
		t.Fatalf("approver GET /v1/reviewers: %v", err)
	}
	if rep.GoldSlipped != 1 || len(rep.Reviewers) != 1 {
		t.Fatalf("reviewers = %+v, want one gold item and one reviewer", rep)
	}
	rita := rep.Reviewers[0]
	tt, err := a.TaskTypes.Get(taskType)
	if err != nil {
		t.Fatal(err)
	}
	wantMiss := report.GoldMiss{DocumentID: goldID, Item: tt.Gold[0].ID, Action: countersign.ActionCorrect, Fields: []string{"party_b", "term_months"}}
	if rita.User != "rita" || rita.Decisions != 2 || rita.Approved != 1 || rita.Corrected != 1 || rita.Gold.Decided != 1 || rita.Gold.Right != 0 ||
		len(rita.Gold.Misses) != 1 || rita.Gold.Misses[0].Item != wantMiss.Item || strings.Join(rita.Gold.Misses[0].Fields, ",") != "party_b,term_months" {
		t.Fatalf("rita = %+v, want 2 decisions, gold 0 of 1 right, missing %+v", rita, wantMiss)
	}
	if _, err := u.auditor.Reviewers(ctx, taskType, "", ""); err != nil {
		t.Fatalf("auditor GET /v1/reviewers: %v", err)
	}
	if _, err := u.auditor.Reviewers(ctx, taskType, "yesterday", ""); status(err) != http.StatusBadRequest {
		t.Fatalf("GET /v1/reviewers?since=yesterday: %v, want 400", err)
	}

	// The gold document is in no figure and no export.
	stats, err := u.auditor.Stats(ctx, taskType)
	if err != nil {
		t.Fatal(err)
	}
	if stats.Quality.Documents != 1 {
		t.Fatalf("stats count %d documents, want the real one only", stats.Quality.Documents)
	}
	var out strings.Builder
	lines, err := u.auditor.Export(ctx, url.Values{"format": {"csv"}, "task_type": {taskType}}, &out, nil)
	if err != nil {
		t.Fatal(err)
	}
	if lines == 0 || strings.Contains(out.String(), goldID) || !strings.Contains(out.String(), real.DocumentID) {
		t.Fatalf("export (%d lines) holds the gold document or misses the real one:\n%s", lines, out.String())
	}

	// The gold document's trail says what it is.
	trail, err := u.auditor.Audit(ctx, goldID)
	if err != nil {
		t.Fatal(err)
	}
	if len(trail) == 0 || trail[0].Type != countersign.EventGoldSlipped {
		t.Fatalf("gold trail starts with %v, want %s", eventTypes(trail), countersign.EventGoldSlipped)
	}
	verify, err := u.auditor.VerifyAudit(ctx)
	if err != nil || !verify.OK {
		t.Fatalf("audit chain: %+v, %v", verify, err)
	}

	checkHistories(t, a, os.Getenv(recordEnv) != "", map[string]string{
		"gold_trigger": real.DocumentID,
		"gold_item":    goldID,
	})
}
