package countersign

import (
	"encoding/json"
	"time"
)

// AuditEvent is one entry of the tamper-evident log. Events form a SHA-256
// hash chain in Seq order: each Hash covers the event's own fields and the
// previous event's hash (PrevHash). Data is stored exactly as hashed.
type AuditEvent struct {
	Seq        int64           `json:"seq"`
	ID         string          `json:"id"`
	DocumentID string          `json:"document_id,omitempty"`
	Type       string          `json:"type"`
	Actor      string          `json:"actor"`
	Channel    Channel         `json:"channel"`
	At         time.Time       `json:"at"`
	Data       json.RawMessage `json:"data"`
	PrevHash   string          `json:"prev_hash"`
	Hash       string          `json:"hash"`
	TraceID    string          `json:"trace_id,omitempty"`
}

// Audit event types.
const (
	EventDocumentReceived  = "document.received"
	EventDraftCreated      = "draft.created"
	EventDraftFailed       = "draft.failed"
	EventConfidenceScored  = "confidence.scored"
	EventRouteDecided      = "route.decided"
	EventReviewOpened      = "review.opened"
	EventDecisionRecorded  = "decision.recorded"
	EventDocumentFinalized = "document.finalized"
	EventDocumentFailed    = "document.failed"
	EventTokenCreated      = "token.created"
	EventTokenRevoked      = "token.revoked"
	// EventDocumentEscalated: a person escalated the document to an
	// incident (POST /v1/documents/{id}/escalate); not a decision.
	EventDocumentEscalated = "document.escalated"
)

// EventCandidatesGenerated: countersign generated the candidates of a
// comparison item submitted without any; the data names each candidate's
// ID, model, parameters and the SHA-256 of its response.
const EventCandidatesGenerated = "candidates.generated"

// ChainBreak names the first event at which an audit chain no longer verifies.
type ChainBreak struct {
	Seq    int64  `json:"seq"`
	ID     string `json:"id"`
	Reason string `json:"reason"`
}

// ChainReport is the result of recomputing the whole audit chain.
type ChainReport struct {
	OK     bool   `json:"ok"`
	Events int64  `json:"events"`
	Head   string `json:"head"`
	// Checkpoints are the points the chain was held to, as asked: each
	// one's event must still have the hash a checkpoint recorded.
	Checkpoints []ChainPoint `json:"checkpoints,omitempty"`
	Broken      *ChainBreak  `json:"broken,omitempty"`
	// Rows counts the stored documents and decisions held to the chain,
	// when they were (only once the chain holds).
	Rows *RowsChecked `json:"rows,omitempty"`
	// Mismatch names the first stored row that differs from what the chain
	// recorded; OK is then false although the chain itself holds.
	Mismatch *RowMismatch `json:"mismatch,omitempty"`
}

// RowsChecked counts the rows a verification held to the audit chain.
// Partial rows were recorded by events that predate some of what is now
// recorded (a decision's time, a final record's decided_at or delivered_at),
// so those columns could not be checked; the others were.
type RowsChecked struct {
	Documents        int64 `json:"documents"`
	Decisions        int64 `json:"decisions"`
	PartialDocuments int64 `json:"partial_documents"`
	PartialDecisions int64 `json:"partial_decisions"`
}

// RowMismatch is a stored row that says something else than the audit
// events that recorded it: a document's status or final record, or a
// decision. Chain and Row are the column's value on each side, as JSON
// (null when that side has none).
type RowMismatch struct {
	// Table is "documents" or "decisions"; ID is the document's or the
	// decision's.
	Table      string `json:"table"`
	ID         string `json:"id"`
	DocumentID string `json:"document_id"`
	// Column names what differs, such as "status", "final.fields" or
	// "actor"; empty when the whole row is missing on one side.
	Column string          `json:"column,omitempty"`
	Chain  json.RawMessage `json:"chain"`
	Row    json.RawMessage `json:"row"`
	// Event is the event that recorded the chain's value, when one did.
	Event  *EventRef `json:"event,omitempty"`
	Reason string    `json:"reason"`
}

// EventRef names an audit event.
type EventRef struct {
	Seq  int64  `json:"seq"`
	ID   string `json:"id"`
	Type string `json:"type"`
}

// ChainPoint is a place in the audit chain: the event Seq and its Hash. A
// signed checkpoint vouches for one, and through it for every event before.
type ChainPoint struct {
	Seq  int64  `json:"seq"`
	Hash string `json:"hash"`
}

// Audit event types of the engine's own artifacts.
const (
	EventCalibrationFitted = "calibration.fitted"
)
