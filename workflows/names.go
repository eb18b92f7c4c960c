// Package workflows holds the deterministic part of countersign: the review
// workflow of one document, its routing and its human gate. It does no I/O;
// every side effect is an activity.
package workflows

// TaskQueue is the task queue review workflows and their activities run on.
const TaskQueue = "countersign-review"

// DecisionUpdate is the name of the update that brings a reviewer's decision
// into a review workflow.
const DecisionUpdate = "decision"

// StateQuery is the name of the query that returns a review workflow's state.
const StateQuery = "state"

// ReviewWorkflowID is the workflow ID of a document's review. A resubmission
// of the same document reaches the same workflow.
func ReviewWorkflowID(documentID string) string { return "review/" + documentID }
