package dispatch

import (
	"context"
	"fmt"
	"iter"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/countersign/countersign/workflows"
)

// Run is a run of a document's review workflow as Temporal knows it.
type Run struct {
	// DocumentID is the document whose review it is; empty for a workflow
	// whose ID is not a review's.
	DocumentID        string
	WorkflowID, RunID string
	// Status is how it stands, as the trail records it: the name of
	// Temporal's status in lower case (running, completed, terminated,
	// timed_out, ...).
	Status string
	// CloseTime is when it closed, in UTC; the Unix epoch while it runs.
	CloseTime time.Time

	status enumspb.WorkflowExecutionStatus
}

func newRun(info *workflowpb.WorkflowExecutionInfo) *Run {
	id := info.GetExecution().GetWorkflowId()
	documentID, review := strings.CutPrefix(id, workflows.ReviewWorkflowID(""))
	if !review {
		documentID = ""
	}
	return &Run{
		DocumentID: documentID,
		WorkflowID: id,
		RunID:      info.GetExecution().GetRunId(),
		Status:     strings.ToLower(strings.TrimPrefix(info.GetStatus().String(), "WORKFLOW_EXECUTION_STATUS_")),
		CloseTime:  info.GetCloseTime().AsTime().UTC(),
		status:     info.GetStatus(),
	}
}

// Running reports whether the run has not closed.
func (r *Run) Running() bool { return r.status == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING }

// EndedEarly reports whether the run ended without running to its end
// (terminated or timed out): no step of it, the last one included, ran at
// its close.
func (r *Run) EndedEarly() bool {
	return r.status == enumspb.WORKFLOW_EXECUTION_STATUS_TERMINATED || r.status == enumspb.WORKFLOW_EXECUTION_STATUS_TIMED_OUT
}

// ReviewRun is the latest run of the document's review workflow; nil when
// Temporal has none (never started, or its history outlived retention).
func (d *Dispatcher) ReviewRun(ctx context.Context, documentID string) (*Run, error) {
	desc, err := d.Temporal.DescribeWorkflowExecution(ctx, workflows.ReviewWorkflowID(documentID), "")
	if isNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return newRun(desc.GetWorkflowExecutionInfo()), nil
}

// EndedEarly yields the review workflow runs that Temporal's visibility
// lists as terminated or timed out, those closed since since when it is
// not zero, page by page; a failed listing is yielded as the last error.
func (d *Dispatcher) EndedEarly(ctx context.Context, since time.Time) iter.Seq2[*Run, error] {
	query := fmt.Sprintf("WorkflowType = '%s' AND ExecutionStatus IN ('Terminated', 'TimedOut')", workflows.ReviewWorkflowType)
	if !since.IsZero() {
		query += " AND CloseTime >= '" + since.UTC().Format(time.RFC3339Nano) + "'"
	}
	return func(yield func(*Run, error) bool) {
		var token []byte
		for {
			resp, err := d.Temporal.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: query, NextPageToken: token})
			if err != nil {
				yield(nil, fmt.Errorf("list abandoned reviews: %w", err))
				return
			}
			for _, info := range resp.GetExecutions() {
				if !yield(newRun(info), nil) {
					return
				}
			}
			if token = resp.GetNextPageToken(); len(token) == 0 {
				return
			}
		}
	}
}

// Termination says who terminated the run and why, from its close event,
// when it was terminated and Temporal still has its history.
func (d *Dispatcher) Termination(ctx context.Context, r *Run) (identity, reason string, ok bool) {
	history := d.Temporal.GetWorkflowHistory(ctx, r.WorkflowID, r.RunID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT)
	if !history.HasNext() {
		return "", "", false
	}
	event, err := history.Next()
	if err != nil {
		return "", "", false
	}
	t := event.GetWorkflowExecutionTerminatedEventAttributes()
	if t == nil {
		return "", "", false
	}
	return t.GetIdentity(), t.GetReason(), true
}
