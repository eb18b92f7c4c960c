package sqlite

import (
	"context"
	"fmt"
	"strings"

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
	out, err := s.queryDecisions(ctx, `SELECT `+decisionColumns+` FROM decisions WHERE document_id IN (`+params(len(documentIDs))+`)
		ORDER BY document_id, at, id`, anys(documentIDs)...)
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
	query := `SELECT ` + auditColumns + ` FROM audit_events WHERE document_id IN (` + params(len(documentIDs)) + `)`
	args := anys(documentIDs)
	if len(types) > 0 {
		query += ` AND type IN (` + params(len(types)) + `)`
		args = append(args, anys(types)...)
	}
	events, err := queryAudit(ctx, s.read, query+` ORDER BY seq`, args...)
	if err != nil {
		return nil, fmt.Errorf("audit of %d documents: %w", len(documentIDs), err)
	}
	return events, nil
}

// queryDecisions reads rows of decisionColumns.
func (s *Store) queryDecisions(ctx context.Context, query string, args ...any) ([]countersign.Decision, error) {
	rows, err := s.read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []countersign.Decision
	for rows.Next() {
		var (
			d      countersign.Decision
			fields *string
			at     string
		)
		if err := rows.Scan(&d.ID, &d.ReviewID, &d.DocumentID, &d.Action, &fields, &d.Reason, &d.Actor, &d.Role, &d.Channel, &at); err != nil {
			return nil, err
		}
		f, err := store.Unmarshal[countersign.Fields](fields)
		if err != nil {
			return nil, err
		}
		if f != nil {
			d.Fields = *f
		}
		if d.At, err = store.ParseTime(at); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// params writes n placeholders separated by commas.
func params(n int) string { return "?" + strings.Repeat(", ?", n-1) }

func anys(values []string) []any {
	out := make([]any, len(values))
	for i, v := range values {
		out[i] = v
	}
	return out
}
