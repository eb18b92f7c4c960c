package activities

import (
	"context"
	"encoding/json"
	"unicode/utf8"

	"github.com/countersign/countersign"
)

// ReceiveInput is the first step of a review: the document as submitted,
// and the review's input, which Receive holds to the store (checkStart).
type ReceiveInput struct {
	Step         Step                `json:"step"`
	SubmittedBy  string              `json:"submitted_by"`
	Channel      countersign.Channel `json:"channel"`
	TaskType     string              `json:"task_type,omitempty"`
	Policy       countersign.Policy  `json:"policy"`
	Schema       json.RawMessage     `json:"schema,omitempty"`
	ReviewGroups []string            `json:"review_groups,omitempty"`
	Gold         bool                `json:"gold,omitempty"`
}

// Receive checks the document is in the store and the review's input is
// what the store says it must be (otherwise it fails with
// ErrUntrustedStart and records nothing), and records the receipt: who
// submitted it, through which channel, the hash of its content, and its
// batch if it has one.
func (a *Activities) Receive(ctx context.Context, in ReceiveInput) error {
	doc, err := a.Store.GetDocument(ctx, in.Step.DocumentID)
	if err != nil {
		return retryable(err)
	}
	if !a.TrustStartInput {
		if err := a.checkStart(ctx, in, doc); err != nil {
			a.logger().Warn("review input refused", "document", doc.ID, "error", err)
			return err
		}
	}
	data := map[string]any{
		"task_type":      doc.TaskType,
		"external_id":    doc.ExternalID,
		"content_sha256": doc.ContentSHA256,
		"characters":     utf8.RuneCountInString(doc.Content),
		"metadata":       doc.Metadata,
	}
	// The batch is part of what the submitter said about the document;
	// a document without one is recorded as before.
	if doc.Batch != "" {
		data["batch"] = doc.Batch
	}
	// A document extracted from a file (a PDF) names the file as
	// submitted: the content hash is that of the extracted text.
	if doc.OriginalSHA256 != "" {
		data["original_sha256"] = doc.OriginalSHA256
	}
	err = a.record(ctx, in.Step, countersign.EventDocumentReceived, in.SubmittedBy, in.Channel, data)
	if err == nil {
		a.Metrics.DocumentReceived(ctx, doc.TaskType)
	}
	return err
}
