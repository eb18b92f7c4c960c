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
)

// ChainBreak names the first event at which an audit chain no longer verifies.
type ChainBreak struct {
	Seq    int64  `json:"seq"`
	ID     string `json:"id"`
	Reason string `json:"reason"`
}

// ChainReport is the result of recomputing the whole audit chain.
type ChainReport struct {
	OK     bool        `json:"ok"`
	Events int64       `json:"events"`
	Head   string      `json:"head"`
	Broken *ChainBreak `json:"broken,omitempty"`
}

// Audit event types of the engine's own artifacts.
const (
	EventCalibrationFitted = "calibration.fitted"
)
