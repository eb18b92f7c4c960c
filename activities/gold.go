package activities

import (
	"context"
	"math"

	"github.com/countersign/countersign"
)

// SlipGoldInput is a review just opened, after which a gold item may be
// slipped into the queue.
type SlipGoldInput struct {
	// Step is the gold document's first step: the triggering workflow
	// numbers its event, and the document ID is GoldDocumentID's for the
	// review.
	Step     Step    `json:"step"`
	TaskType string  `json:"task_type"`
	ReviewID string  `json:"review_id"`
	Rate     float64 `json:"rate"`
}

// GoldSlip is the gold document to review, when one was slipped in.
type GoldSlip struct {
	DocumentID string `json:"document_id"`
	Item       string `json:"item"`
}

// goldStratum is where reviews are counted for the gold draw, apart from the
// audit strata that share the draw counters.
func goldStratum(taskType string) string { return "gold:" + taskType }

// SlipGold counts the review within its task type and, systematically at
// the gold rate, stores one of the task type's gold items as a new document
// marked gold, for the workflow to review like any other. Items take turns
// in the order the task type lists them. It returns nil when no item is due.
// The gold document's ID derives from the review, so a retry stores and
// records the same document once.
func (a *Activities) SlipGold(ctx context.Context, in SlipGoldInput) (*GoldSlip, error) {
	n, err := a.Store.DrawAudit(ctx, goldStratum(in.TaskType), in.ReviewID)
	if err != nil {
		return nil, retryable(err)
	}
	if !Systematic(n, in.Rate) {
		return nil, nil
	}
	tt, err := a.TaskTypes.Version(ctx, in.Step.TaskTypeVersion)
	if err != nil {
		return nil, retryable(err)
	}
	if len(tt.Gold) == 0 {
		return nil, nil
	}
	// The k-th slip (from 1) of the task type takes the k-th item, round.
	k := int64(math.Floor(float64(n)*in.Rate + 1e-9))
	item := tt.Gold[(k-1)%int64(len(tt.Gold))]
	id := in.Step.DocumentID
	now := a.now()
	doc := &countersign.Document{
		ID:              id,
		TaskType:        tt.Name,
		TaskTypeVersion: tt.Version,
		Content:         item.Content,
		ContentSHA256:   countersign.ContentSHA256(item.Content),
		Status:          countersign.StatusProcessing,
		SubmittedBy:     countersign.SystemActor,
		CreatedAt:       now,
	}
	if _, _, err := a.Store.CreateDocument(ctx, doc); err != nil {
		return nil, retryable(err)
	}
	gold := &countersign.GoldDocument{
		DocumentID: id,
		TaskType:   tt.Name,
		Item:       item.ID,
		Answer:     item.Answer,
		Reject:     item.Reject,
		Trigger:    in.ReviewID,
		CreatedAt:  now,
	}
	if err := a.Store.AddGold(ctx, gold); err != nil {
		return nil, retryable(err)
	}
	err = a.record(ctx, in.Step, countersign.EventGoldSlipped, countersign.SystemActor, countersign.ChannelWorkflow, map[string]any{
		"item":           item.ID,
		"trigger_review": in.ReviewID,
		"draw":           n,
		"rate":           in.Rate,
	})
	if err != nil {
		return nil, err
	}
	a.logger().Info("gold item slipped into the queue", "document", id, "task_type", tt.Name, "item", item.ID)
	return &GoldSlip{DocumentID: id, Item: item.ID}, nil
}
