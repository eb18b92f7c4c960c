package sqlite

import (
	"context"
	"fmt"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/store"
	"github.com/countersign/countersign/internal/store/sqlite/dbsqlc"
)

// RecordDecision stores a decision and, when close is set, closes its review.
func (s *Store) RecordDecision(ctx context.Context, d *countersign.Decision, close bool) error {
	fields, err := store.JSON(d.Fields)
	if err != nil {
		return err
	}
	at := store.FormatTime(d.At)
	return s.inTx(ctx, func(q *dbsqlc.Queries) error {
		n, err := q.RecordDecision(ctx, dbsqlc.RecordDecisionParams{
			ID: d.ID, ReviewID: d.ReviewID, DocumentID: d.DocumentID, Action: string(d.Action), Fields: fields,
			Reason: d.Reason, Actor: d.Actor, Role: string(d.Role), Channel: string(d.Channel), At: at,
		})
		if err != nil {
			return fmt.Errorf("record decision %s: %w", d.ID, err)
		}
		if n == 1 && close {
			err := q.CloseReview(ctx, dbsqlc.CloseReviewParams{ClosedAt: &at, Outcome: string(d.Action), ClosedBy: d.Actor, ID: d.ReviewID})
			if err != nil {
				return fmt.Errorf("close review %s: %w", d.ReviewID, err)
			}
		}
		return nil
	})
}

// Decisions returns a document's decisions in order.
func (s *Store) Decisions(ctx context.Context, documentID string) ([]countersign.Decision, error) {
	out, err := decisionRows(s.read.Decisions(ctx, documentID))
	if err != nil {
		return nil, fmt.Errorf("decisions of document %s: %w", documentID, err)
	}
	return out, nil
}

// DecisionsOfDocuments returns the decisions of several documents, each
// document's in order.
func (s *Store) DecisionsOfDocuments(ctx context.Context, documentIDs []string) ([]countersign.Decision, error) {
	if len(documentIDs) == 0 {
		return nil, nil
	}
	out, err := decisionRows(s.read.DecisionsOfDocuments(ctx, documentIDs))
	if err != nil {
		return nil, fmt.Errorf("decisions of %d documents: %w", len(documentIDs), err)
	}
	return out, nil
}

func decisionRows(rows []dbsqlc.Decision, err error) ([]countersign.Decision, error) {
	return store.Map(rows, err, decision)
}

// decision reads a decision's row.
func decision(r dbsqlc.Decision) (countersign.Decision, error) {
	var t times
	d := countersign.Decision{
		ID: r.ID, ReviewID: r.ReviewID, DocumentID: r.DocumentID, Action: countersign.Action(r.Action),
		Reason: r.Reason, Actor: r.Actor, Role: countersign.Role(r.Role), Channel: countersign.Channel(r.Channel),
		At: t.at(r.At),
	}
	if t.err != nil {
		return d, t.err
	}
	var err error
	d.Fields, err = store.DecodeFields(r.Fields)
	return d, err
}
