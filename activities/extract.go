package activities

import (
	"context"
	"errors"
	"fmt"

	"github.com/countersign/countersign"
)

// ExtractInput asks for a draft of one document.
type ExtractInput struct {
	Step Step `json:"step"`
}

// Extract drafts the document's fields with its task type's extractor and
// stores the draft. When the extractor fails for good, the draft records the
// failure and carries no fields, and the document goes to a person; a
// temporary failure (an overloaded endpoint, say) is returned for Temporal to
// retry. A retry after the draft was stored returns that draft rather than
// asking the extractor again, whose answer may differ.
func (a *Activities) Extract(ctx context.Context, in ExtractInput) (*countersign.Draft, error) {
	doc, tt, err := a.load(ctx, in.Step)
	if err != nil {
		return nil, err
	}
	draft := doc.Draft
	if draft == nil {
		if draft, err = a.draft(ctx, tt, doc); err != nil {
			return nil, err
		}
		if err := a.Store.UpdateDocument(ctx, doc.ID, countersign.DocumentUpdate{Draft: draft}); err != nil {
			return nil, retryable(err)
		}
	}
	eventType := countersign.EventDraftCreated
	if draft.Failed() {
		eventType = countersign.EventDraftFailed
		a.logger().Warn("extraction failed; the document goes to a person", "document", doc.ID, "task_type", tt.Name, "error", draft.Error)
	}
	err = a.record(ctx, in.Step, eventType, countersign.SystemActor, countersign.ChannelWorkflow, map[string]any{
		"extractor":      draft.Extractor,
		"model":          draft.Model,
		"prompt_version": draft.Prompt,
		"fields":         draft.Fields,
		"evidence":       draft.Evidence,
		"error":          draft.Error,
	})
	return draft, err
}

// draft runs the extractor, turning a permanent failure into a failed draft.
func (a *Activities) draft(ctx context.Context, tt *countersign.TaskType, doc *countersign.Document) (*countersign.Draft, error) {
	extractor, ok := a.Extractors[tt.Extractor.Kind]
	if !ok {
		return &countersign.Draft{Extractor: tt.Extractor.Kind, Error: fmt.Sprintf("no %q extractor is configured on this worker", tt.Extractor.Kind)}, nil
	}
	draft, err := extractor.Extract(ctx, tt, doc)
	if err == nil {
		return draft, nil
	}
	var temp interface{ Temporary() bool }
	if ctx.Err() != nil || (errors.As(err, &temp) && temp.Temporary()) {
		return nil, fmt.Errorf("extract %s: %w", doc.ID, err)
	}
	return &countersign.Draft{Extractor: tt.Extractor.Kind, Error: err.Error()}, nil
}
