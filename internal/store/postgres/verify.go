package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/store"
)

const decisionColumns = `id, review_id, document_id, action, fields, reason, actor, role, channel, at`

// DecisionsOfDocuments returns the decisions of several documents, each
// document's in order.
func (s *Store) DecisionsOfDocuments(ctx context.Context, documentIDs []string) ([]countersign.Decision, error) {
	if len(documentIDs) == 0 {
		return nil, nil
	}
	out, err := s.queryDecisions(ctx, `SELECT `+decisionColumns+` FROM decisions WHERE document_id = ANY($1)
		ORDER BY document_id, at, id`, documentIDs)
	if err != nil {
		return nil, fmt.Errorf("decisions of %d documents: %w", len(documentIDs), err)
	}
	return out, nil
}

// AuditOfDocuments returns the events of several documents whose type is one
// of types (any type when none are given), in chain order.
func (s *Store) AuditOfDocuments(ctx context.Context, documentIDs []string, types []string) ([]countersign.AuditEvent, error) {
	if len(documentIDs) == 0 {
		return nil, nil
	}
	query, args := `SELECT `+auditColumns+` FROM audit_events WHERE document_id = ANY($1)`, []any{documentIDs}
	if len(types) > 0 {
		query, args = query+` AND type = ANY($2)`, append(args, types)
	}
	events, err := queryAudit(ctx, s.pool, query+` ORDER BY seq`, args...)
	if err != nil {
		return nil, fmt.Errorf("audit of %d documents: %w", len(documentIDs), err)
	}
	return events, nil
}

// queryDecisions reads rows of decisionColumns.
func (s *Store) queryDecisions(ctx context.Context, query string, args ...any) ([]countersign.Decision, error) {
	rows, err := s.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (countersign.Decision, error) {
		var (
			d      countersign.Decision
			fields *string
		)
		if err := row.Scan(&d.ID, &d.ReviewID, &d.DocumentID, &d.Action, &fields, &d.Reason, &d.Actor, &d.Role, &d.Channel, &d.At); err != nil {
			return d, err
		}
		d.At = d.At.UTC()
		f, err := store.Unmarshal[countersign.Fields](fields)
		if f != nil {
			d.Fields = *f
		}
		return d, err
	})
}
