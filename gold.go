package countersign

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"
)

// GoldItem is a document with a known answer that a task type keeps for
// measuring its reviewers. The engine slips gold items into the review queue
// among real documents; a reviewer's decision on one is scored against
// Answer, or against Reject when the right decision is to reject.
type GoldItem struct {
	// ID names the item within its task type.
	ID      string `json:"id"`
	Content string `json:"content"`
	// Answer is the fields a correct review ends with.
	Answer Fields `json:"answer,omitempty"`
	// Reject says the right decision is to reject the document.
	Reject bool `json:"reject,omitempty"`
}

// GoldDocument is a gold item slipped into the queue as a document: which
// item it is, its known answer, and the real review it was slipped in after.
type GoldDocument struct {
	DocumentID string `json:"document_id"`
	TaskType   string `json:"task_type"`
	Item       string `json:"item"`
	Answer     Fields `json:"answer,omitempty"`
	Reject     bool   `json:"reject,omitempty"`
	// Trigger is the review whose opening slipped the item in.
	Trigger   string    `json:"trigger"`
	CreatedAt time.Time `json:"created_at"`
}

// Judge scores a decision's outcome on the gold document: a rejection is
// right when the item is to be rejected; any other outcome is right when its
// fields hold every answer field's value (fields the answer does not name
// are not judged). It returns the answer fields the outcome got wrong.
func (g *GoldDocument) Judge(action Action, fields Fields) (right bool, wrong []string) {
	if g.Reject || action == ActionReject {
		return g.Reject && action == ActionReject, nil
	}
	for _, name := range g.Answer.Names() {
		if !SameValue(g.Answer[name], fields[name]) {
			wrong = append(wrong, name)
		}
	}
	return len(wrong) == 0, wrong
}

// GoldDocumentID derives the ID of the gold document slipped in after a
// review. It has the shape of every other document ID, so the queue does not
// tell gold from real, and the same review always slips the same document.
func GoldDocumentID(taskType, reviewID string) string {
	// Workflow code calls this: plain concatenation, no fmt writer.
	sum := sha256.Sum256([]byte("gold\x00" + taskType + "\x00" + reviewID))
	return hex.EncodeToString(sum[:16])
}

// GoldStore keeps which documents are gold items, with their known answers.
// Gold documents are left out of ScanDocuments unless asked for, so they
// never reach statistics, calibration, simulation or exports.
type GoldStore interface {
	// AddGold marks a stored document as a gold item; adding the same
	// document again is a no-op.
	AddGold(ctx context.Context, g *GoldDocument) error
	// GetGold returns the gold record of a document; ErrNotFound if the
	// document is not a gold item.
	GetGold(ctx context.Context, documentID string) (*GoldDocument, error)
}

// EventGoldSlipped records, on the gold document, that a gold item entered
// the queue and after which review.
const EventGoldSlipped = "gold.slipped"

// GoldPolicy is the policy a gold document runs under: its task type's,
// with every document to a person and nothing after the outcome (no audit,
// veto window, supervision or delivery), so that the item reaches the queue
// and its result stays out of the task type's figures. Its version is the
// policy's with "+gold".
func GoldPolicy(p Policy) Policy {
	p.Mode = ModeHITL
	p.AuditSampleRate, p.VetoWindow, p.Supervision, p.GoldRate = 0, 0, nil, 0
	p.Version += "+gold"
	return p
}
