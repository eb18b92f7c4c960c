package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/store"
	"github.com/countersign/countersign/internal/store/sqlite/dbsqlc"
)

// AddGold marks a stored document as a gold item, once.
func (s *Store) AddGold(ctx context.Context, g *countersign.GoldDocument) error {
	answer, err := store.GoldAnswer(g.Answer)
	if err != nil {
		return fmt.Errorf("add gold document %s: %w", g.DocumentID, err)
	}
	err = s.write.AddGold(ctx, dbsqlc.AddGoldParams{
		DocumentID: g.DocumentID, TaskType: g.TaskType, Item: g.Item, Answer: answer, Reject: g.Reject,
		TriggerReview: g.Trigger, CreatedAt: store.FormatTime(g.CreatedAt),
	})
	if err != nil {
		return fmt.Errorf("add gold document %s: %w", g.DocumentID, err)
	}
	return nil
}

// GetGold returns the gold record of a document.
func (s *Store) GetGold(ctx context.Context, documentID string) (*countersign.GoldDocument, error) {
	row, err := s.read.GetGold(ctx, documentID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, countersign.Errorf(countersign.CodeNotFound, "document %s is not a gold item", documentID)
	}
	if err != nil {
		return nil, fmt.Errorf("get gold document %s: %w", documentID, err)
	}
	answer, err := store.DecodeGoldAnswer(row.Answer)
	var t times
	g := &countersign.GoldDocument{
		DocumentID: row.DocumentID, TaskType: row.TaskType, Item: row.Item, Answer: answer, Reject: row.Reject,
		Trigger: row.TriggerReview, CreatedAt: t.at(row.CreatedAt),
	}
	if err = errors.Join(err, t.err); err != nil {
		return nil, fmt.Errorf("gold document %s: %w", documentID, err)
	}
	return g, nil
}
