package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/store"
	"github.com/countersign/countersign/internal/store/postgres/dbsqlc"
)

// AddGold marks a stored document as a gold item, once.
func (s *Store) AddGold(ctx context.Context, g *countersign.GoldDocument) error {
	answer, err := store.GoldAnswer(g.Answer)
	if err != nil {
		return fmt.Errorf("add gold document %s: %w", g.DocumentID, err)
	}
	err = s.q.AddGold(ctx, dbsqlc.AddGoldParams{
		DocumentID: g.DocumentID, TaskType: g.TaskType, Item: g.Item, Answer: answer, Reject: g.Reject,
		TriggerReview: g.Trigger, CreatedAt: store.Time(g.CreatedAt),
	})
	if err != nil {
		return fmt.Errorf("add gold document %s: %w", g.DocumentID, classify(err))
	}
	return nil
}

// GetGold returns the gold record of a document.
func (s *Store) GetGold(ctx context.Context, documentID string) (*countersign.GoldDocument, error) {
	row, err := s.q.GetGold(ctx, documentID)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, countersign.Errorf(countersign.CodeNotFound, "document %s is not a gold item", documentID)
	}
	if err != nil {
		return nil, fmt.Errorf("get gold document %s: %w", documentID, classify(err))
	}
	answer, err := store.DecodeGoldAnswer(row.Answer)
	if err != nil {
		return nil, fmt.Errorf("gold document %s: %w", documentID, err)
	}
	return &countersign.GoldDocument{
		DocumentID: row.DocumentID, TaskType: row.TaskType, Item: row.Item, Answer: answer, Reject: row.Reject,
		Trigger: row.TriggerReview, CreatedAt: row.CreatedAt.UTC(),
	}, nil
}
