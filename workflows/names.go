// Package workflows holds the deterministic part of countersign: the review
// workflow of one document (its routing, its human gate, what follows its
// outcome) and the supervisor of each task type. It does no I/O; every side
// effect is an activity.
//
// This file names what callers reach a workflow by: the task queue, the
// workflow types and IDs, and every update, signal and query. Use these
// constants, never the strings.
package workflows

// TaskQueue is the task queue review workflows and their activities run on.
const TaskQueue = "countersign-review"

// Workflow type names, as registered and as every caller starts them.
const (
	ReviewWorkflowType     = "ReviewWorkflow"
	SupervisorWorkflowType = "SupervisorWorkflow"
)

// ReviewWorkflowID is the workflow ID of a document's review. A resubmission
// of the same document reaches the same workflow.
func ReviewWorkflowID(documentID string) string { return "review/" + documentID }

// SupervisorWorkflowID is the workflow ID of a task type's supervisor.
func SupervisorWorkflowID(taskType string) string { return "supervisor/" + taskType }

// The review workflow's updates and query.
const (
	// DecisionUpdate brings a reviewer's decision (DecisionRequest) on the
	// review waiting for a person: a gate review or an audit.
	DecisionUpdate = "decision"
	// VetoUpdate brings a supervisor's override (VetoRequest) of an
	// auto-accepted document within the policy's veto window.
	VetoUpdate = "veto"
	// StateQuery returns where the review stands (ReviewState).
	StateQuery = "state"
)

// The supervisor workflow's signals, update and query: one long-running
// supervisor per task type.
const (
	// AuditSignal brings an audit outcome (countersign.AuditOutcome). It is
	// a report to check, not evidence: the supervisor counts the audit only
	// once the store confirms it.
	AuditSignal = "audit"
	// PolicySignal says the policy in force may have changed (a policy
	// version applied or set). It carries nothing: the supervisor reads the
	// policy in force from the store, and starts a new window when it no
	// longer judges the same policy.
	PolicySignal = "policy"
	// ResetUpdate lifts the supervisor's override (ResetRequest).
	ResetUpdate = "reset"
	// SupervisionQuery returns the supervisor's state (Supervision).
	SupervisionQuery = "supervision"
)
