package workflows_test

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/countersign/countersign/workflows"
)

// The histories in testdata/histories were recorded from real runs on the
// embedded Temporal server (make histories) by the current code: of the
// review workflow (among them a veto within the window and a window that
// closed; audits that confirm and correct; a reject rule; a correction
// approved by name; three decisions accepted while the review's opening was
// recorded, the third refused by the handler once the review closed; a
// start refused as untrusted; a document not in the store, which fails; a
// review cancelled as its review opened, whose closing notice still goes
// out; a delivery whose receiver outlasted the local attempt, made by the
// activity; a delivery whose local attempt met a conflict under its event
// ID, which fails the review without the activity),
// and of the supervisor (supervisor_*: audits read in the order drawn and
// judged among forged reports, a tightening and a reset, an audit left
// open that held back the next until a timer found it due; a window from a
// certificate, refuted by audits, a second certificate and a reset; a run
// that continued as new, and the run after it, still open as a supervisor
// always is; a start with a made-up state, refused);
// those in its subfolders by earlier versions (v1: before model signals and
// policy rules; v2: before HOTL supervision, delivery and lineage; v3:
// before the human gate's notices, SLA timers, approvals and adjudication;
// v4: before approvals named the correction they approve; v5: before the
// steps that only touch the store ran as local activities; v6: before
// Finalize ran as one; v7: before Deliver was tried as one first; v8:
// before the delivery that follows a person's decision went to the
// activity with no local attempt;
// v3/approve_by_submitter is v3/approve with submitted_by set to its
// approver, as the walk-through of that time did; supervisor-v1: the
// supervisor before it confirmed audits against the store and started from
// certificates; supervisor-v2: before it counted audits in the order drawn,
// reading them from the store), kept because workflows started then may still be running.
// Every change to a workflow must still replay them all; a change that
// cannot needs workflow.GetVersion.
var wantHistories = []string{
	"approve", "correct", "reject", "auto_accept", "gold_trigger", "gold_item",
	"two_approvers", "adjudication", "timeout_reject", "timeout_hold",
	"veto", "veto_window_closed", "audit_confirmed", "audit_corrected", "reject_rule",
	"correction_approved", "concurrent_decisions", "untrusted_start", "document_missing",
	"cancelled", "deliver_fallback", "deliver_conflict",
	"supervisor_tighten", "supervisor_certified", "supervisor_continued", "supervisor_continuing",
	"supervisor_untrusted",
}

func TestReplayRecordedHistories(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "histories", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	earlier, err := filepath.Glob(filepath.Join("testdata", "histories", "*", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, f := range files {
		have[strings.TrimSuffix(filepath.Base(f), ".json")] = true
	}
	for _, name := range wantHistories {
		if !have[name] {
			t.Errorf("testdata/histories/%s.json is missing: record it with make histories", name)
		}
	}
	logger := sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	for _, f := range append(files, earlier...) {
		name, _ := filepath.Rel(filepath.Join("testdata", "histories"), f)
		t.Run(name, func(t *testing.T) {
			replayer := worker.NewWorkflowReplayer()
			// Validators do not run on replay: the workflows need no keys.
			(&workflows.Workflows{}).Register(replayer)
			history := readHistory(t, f)
			// Under its own workflow ID: the supervisor refuses to run
			// under another task type's (trustedStart), and the
			// replayer's default ID is no supervisor's.
			opts := worker.ReplayWorkflowHistoryOptions{OriginalExecution: workflow.Execution{ID: historyWorkflowID(t, history), RunID: "replay-run"}}
			if err := replayer.ReplayWorkflowHistoryWithOptions(logger, history, opts); err != nil {
				t.Fatalf("%s no longer replays: %v", f, err)
			}
		})
	}
}

func readHistory(t *testing.T, path string) *historypb.History {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h, err := client.HistoryFromJSON(f, client.HistoryJSONOptions{})
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return h
}

// historyWorkflowID is the workflow ID a recorded run had: the one its
// started event names (histories recorded by Temporal 1.32 do); else, for
// a supervisor, the one the task type its input names; any other run's is
// not read by the workflow's code, so the replayer's default serves.
func historyWorkflowID(t *testing.T, h *historypb.History) string {
	t.Helper()
	started := h.GetEvents()[0].GetWorkflowExecutionStartedEventAttributes()
	if id := started.GetWorkflowId(); id != "" {
		return id
	}
	if started.GetWorkflowType().GetName() != workflows.SupervisorWorkflowType {
		return "ReplayId"
	}
	var in workflows.SupervisorInput
	if err := converter.GetDefaultDataConverter().FromPayloads(started.GetInput(), &in); err != nil {
		t.Fatalf("the supervisor's input: %v", err)
	}
	return workflows.SupervisorWorkflowID(in.TaskType)
}
