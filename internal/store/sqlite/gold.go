package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/store"
)

// AddGold marks a stored document as a gold item, once.
func (s *Store) AddGold(ctx context.Context, g *countersign.GoldDocument) error {
	answer, err := json.Marshal(g.Answer)
	if err != nil {
		return fmt.Errorf("add gold document %s: %w", g.DocumentID, err)
	}
	if g.Answer == nil {
		answer = []byte("{}")
	}
	reject := 0
	if g.Reject {
		reject = 1
	}
	_, err = s.write.ExecContext(ctx, `INSERT INTO gold_documents (document_id, task_type, item, answer, reject, trigger_review, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (document_id) DO NOTHING`,
		g.DocumentID, g.TaskType, g.Item, string(answer), reject, g.Trigger, store.FormatTime(g.CreatedAt))
	if err != nil {
		return fmt.Errorf("add gold document %s: %w", g.DocumentID, err)
	}
	return nil
}

// GetGold returns the gold record of a document.
func (s *Store) GetGold(ctx context.Context, documentID string) (*countersign.GoldDocument, error) {
	var (
		g               countersign.GoldDocument
		answer, created string
		reject          int
	)
	err := s.read.QueryRowContext(ctx, `SELECT document_id, task_type, item, answer, reject, trigger_review, created_at
		FROM gold_documents WHERE document_id = ?`, documentID).
		Scan(&g.DocumentID, &g.TaskType, &g.Item, &answer, &reject, &g.Trigger, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, countersign.Errorf(countersign.CodeNotFound, "document %s is not a gold item", documentID)
	}
	if err != nil {
		return nil, fmt.Errorf("get gold document %s: %w", documentID, err)
	}
	if err := json.Unmarshal([]byte(answer), &g.Answer); err != nil {
		return nil, fmt.Errorf("gold document %s: answer: %w", documentID, err)
	}
	if len(g.Answer) == 0 {
		g.Answer = nil
	}
	g.Reject = reject == 1
	if g.CreatedAt, err = store.ParseTime(created); err != nil {
		return nil, fmt.Errorf("gold document %s: %w", documentID, err)
	}
	return &g, nil
}
