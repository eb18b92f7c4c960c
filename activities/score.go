package activities

import (
	"context"
	"fmt"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/schema"
	"github.com/countersign/countersign/internal/scoring"
)

// ScoreInput asks for the confidence in a draft.
type ScoreInput struct {
	Step  Step               `json:"step"`
	Draft *countersign.Draft `json:"draft"`
}

// Score measures the draft against the document and the task type (schema
// validity, evidence grounding), stores the confidence and records it.
func (a *Activities) Score(ctx context.Context, in ScoreInput) (*countersign.Confidence, error) {
	doc, tt, err := a.load(ctx, in.Step)
	if err != nil {
		return nil, err
	}
	sch, err := schema.Compile(tt.Schema)
	if err != nil {
		return nil, permanent(fmt.Errorf("task type %s@%s: %w", tt.Name, tt.Version, err))
	}
	conf := scoring.Score(tt, sch, in.Draft, doc.Content)
	if err := a.Store.UpdateDocument(ctx, doc.ID, countersign.DocumentUpdate{Confidence: conf}); err != nil {
		return nil, retryable(err)
	}
	err = a.record(ctx, in.Step, countersign.EventConfidenceScored, countersign.SystemActor, countersign.ChannelWorkflow, map[string]any{
		"overall": conf.Overall,
		"weakest": conf.Weakest,
		"fields":  conf.Fields,
		"reasons": conf.Reasons,
	})
	return conf, err
}
