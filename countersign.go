// Package countersign holds the domain of the review engine: documents, drafts,
// confidence, routes, reviews, decisions and audit events, the statuses they move
// through, and the interfaces of the edges (Store, Extractor) that the rest of the
// code implements. It imports no I/O package; workflows, activities, the API and
// the stores all speak in these types.
package countersign

// Status is where a document stands, as the API and CLI show it.
type Status string

// The statuses of a document. A document starts processing, may wait for a
// person, and ends accepted, rejected or failed.
const (
	StatusProcessing     Status = "processing"
	StatusAwaitingReview Status = "awaiting_review"
	StatusAccepted       Status = "accepted"
	StatusRejected       Status = "rejected"
	StatusFailed         Status = "failed"
)

// Final reports whether no further change of status will happen.
func (s Status) Final() bool {
	return s == StatusAccepted || s == StatusRejected || s == StatusFailed
}

// Outcome is where the routing policy sends a scored draft.
type Outcome string

// Route outcomes.
const (
	OutcomeAutoAccept          Outcome = "auto_accept"
	OutcomeAutoAcceptWithAudit Outcome = "auto_accept_with_audit"
	OutcomeHumanReview         Outcome = "human_review"
	OutcomeReject              Outcome = "reject"
)

// Action is what a reviewer decides about a draft.
type Action string

// Decision actions.
const (
	ActionApprove Action = "approve"
	ActionCorrect Action = "correct"
	ActionReject  Action = "reject"
)

// Valid reports whether a is one of the known actions.
func (a Action) Valid() bool {
	return a == ActionApprove || a == ActionCorrect || a == ActionReject
}

// PastTense is the action as a sentence says it was done: "approved";
// an unknown one as it is.
func (a Action) PastTense() string {
	switch a {
	case ActionApprove:
		return "approved"
	case ActionCorrect:
		return "corrected"
	case ActionReject:
		return "rejected"
	}
	return string(a)
}

// Channel is the way an actor reached countersign; it is recorded on every
// decision and audit event.
type Channel string

// Channels.
const (
	ChannelAPI      Channel = "api"
	ChannelCLI      Channel = "cli"
	ChannelWeb      Channel = "web"
	ChannelSlack    Channel = "slack"
	ChannelWorkflow Channel = "workflow"
	// ChannelConfig is a change made by a configuration file at start.
	ChannelConfig Channel = "config"
)

// SystemActor is the actor of steps that no person took: extraction, scoring,
// routing and automatic acceptance.
const SystemActor = "countersign"
