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
)

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
