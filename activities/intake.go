package activities

import (
	"context"
	"unicode/utf8"

	"github.com/countersign/countersign"
)

// ReceiveInput is the first step of a review: the document as submitted.
type ReceiveInput struct {
	Step        Step                `json:"step"`
	SubmittedBy string              `json:"submitted_by"`
	Channel     countersign.Channel `json:"channel"`
}

// Receive checks the document is in the store and records its receipt: who
// submitted it, through which channel, and the hash of its content.
func (a *Activities) Receive(ctx context.Context, in ReceiveInput) error {
	doc, err := a.Store.GetDocument(ctx, in.Step.DocumentID)
	if err != nil {
		return retryable(err)
	}
	err = a.record(ctx, in.Step, countersign.EventDocumentReceived, in.SubmittedBy, in.Channel, map[string]any{
		"task_type":      doc.TaskType,
		"external_id":    doc.ExternalID,
		"content_sha256": doc.ContentSHA256,
		"characters":     utf8.RuneCountInString(doc.Content),
		"metadata":       doc.Metadata,
	})
	if err == nil {
		a.Metrics.DocumentReceived(ctx, doc.TaskType)
	}
	return err
}
