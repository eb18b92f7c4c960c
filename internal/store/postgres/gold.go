package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/store"
)

// AddGold marks a stored document as a gold item, once.
func (s *Store) AddGold(ctx context.Context, g *countersign.GoldDocument) error {
	answer := g.Answer
	if answer == nil {
		answer = countersign.Fields{}
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO gold_documents (document_id, task_type, item, answer, reject, trigger_review, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (document_id) DO NOTHING`,
		g.DocumentID, g.TaskType, g.Item, answer, g.Reject, g.Trigger, store.Time(g.CreatedAt))
	if err != nil {
		return fmt.Errorf("add gold document %s: %w", g.DocumentID, classify(err))
	}
	return nil
}

// GetGold returns the gold record of a document.
func (s *Store) GetGold(ctx context.Context, documentID string) (*countersign.GoldDocument, error) {
	var g countersign.GoldDocument
	err := s.pool.QueryRow(ctx, `SELECT document_id, task_type, item, answer, reject, trigger_review, created_at
		FROM gold_documents WHERE document_id = $1`, documentID).
		Scan(&g.DocumentID, &g.TaskType, &g.Item, &g.Answer, &g.Reject, &g.Trigger, &g.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, countersign.Errorf(countersign.CodeNotFound, "document %s is not a gold item", documentID)
	}
	if err != nil {
		return nil, fmt.Errorf("get gold document %s: %w", documentID, classify(err))
	}
	if len(g.Answer) == 0 {
		g.Answer = nil
	}
	g.CreatedAt = g.CreatedAt.UTC()
	return &g, nil
}
