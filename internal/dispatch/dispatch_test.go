package dispatch

import (
	"errors"
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/sdk/temporal"

	"github.com/countersign/countersign"
)

// TestIdempotencyKeysAreScopedToCallerAndReview: the same key names the
// same update only for the same person on the same review.
func TestIdempotencyKeysAreScopedToCallerAndReview(t *testing.T) {
	rita, anna := countersign.Principal{User: "rita"}, countersign.Principal{User: "anna"}
	id := decisionUpdateID(rita, "doc1-r1", "k1")
	if again := decisionUpdateID(rita, "doc1-r1", "k1"); again != id {
		t.Fatalf("a retry with the same key: %s, then %s", id, again)
	}
	for _, other := range []string{decisionUpdateID(anna, "doc1-r1", "k1"), decisionUpdateID(rita, "doc2-r1", "k1"), decisionUpdateID(rita, "doc1-r1", "k2")} {
		if other == id {
			t.Errorf("%s stands for another caller, review or key too", id)
		}
	}
	if a, b := decisionUpdateID(rita, "doc1-r1", ""), decisionUpdateID(rita, "doc1-r1", ""); a == b || !strings.HasPrefix(a, "decision-") {
		t.Errorf("without a key every request is new: %s, %s", a, b)
	}
}

// TestTemporalErrorKeepsRefusals: a validator's coded refusal keeps its
// code, a workflow gone is a conflict, an unreachable server is
// unavailable without showing why, and the rest are internal.
func TestTemporalErrorKeepsRefusals(t *testing.T) {
	cases := []struct {
		err  error
		code countersign.Code
		text string
	}{
		{temporal.NewApplicationError("only the author may approve", string(countersign.CodeForbidden)), countersign.CodeForbidden, "only the author may approve"},
		{temporal.NewApplicationError("panic in the handler", string(countersign.CodeInternal)), countersign.CodeInternal, "decision on review r1: "},
		{temporal.NewApplicationError("odd", "SomethingElse"), countersign.CodeInternal, "decision on review r1: "},
		{serviceerror.NewNotFound("workflow not found"), countersign.CodeConflict, "decision on review r1: the review is closed"},
		{serviceerror.NewUnavailable("dial tcp temporal.internal:7233"), countersign.CodeUnavailable, "decision on review r1: Temporal is unavailable; try again"},
		{errors.New("boom"), countersign.CodeInternal, "decision on review r1: boom"},
	}
	for _, c := range cases {
		err := temporalError(c.err, "decision on review r1")
		if countersign.ErrorCode(err) != c.code || !strings.HasPrefix(err.Error(), c.text) {
			t.Errorf("temporalError(%v) = %s %q, want %s %q", c.err, countersign.ErrorCode(err), err, c.code, c.text)
		}
		if c.code == countersign.CodeUnavailable && strings.Contains(err.Error(), "temporal.internal") {
			t.Errorf("an unavailable Temporal shows its host: %q", err)
		}
	}
}

// TestRunNamesItsDocumentAndStatus: a review workflow's run names its
// document, and how it ended as the trail records it.
func TestRunNamesItsDocumentAndStatus(t *testing.T) {
	info := func(id string, status enumspb.WorkflowExecutionStatus) *workflowpb.WorkflowExecutionInfo {
		return &workflowpb.WorkflowExecutionInfo{Execution: &commonpb.WorkflowExecution{WorkflowId: id, RunId: "run1"}, Status: status}
	}
	r := newRun(info("review/doc1", enumspb.WORKFLOW_EXECUTION_STATUS_TERMINATED))
	if r.DocumentID != "doc1" || r.Status != "terminated" || !r.EndedEarly() || r.Running() {
		t.Errorf("terminated review run = %+v", r)
	}
	if r := newRun(info("review/doc1", enumspb.WORKFLOW_EXECUTION_STATUS_TIMED_OUT)); !r.EndedEarly() {
		t.Errorf("timed-out review run = %+v", r)
	}
	if r := newRun(info("review/doc1", enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED)); r.EndedEarly() || r.Running() {
		t.Errorf("completed review run = %+v", r)
	}
	r = newRun(info("review/doc1", enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING))
	if !r.Running() || r.EndedEarly() || r.Status != "running" {
		t.Errorf("running review run = %+v", r)
	}
	if r := newRun(info("supervisor/claims", enumspb.WORKFLOW_EXECUTION_STATUS_TERMINATED)); r.DocumentID != "" {
		t.Errorf("a supervisor's run names document %q", r.DocumentID)
	}
}
