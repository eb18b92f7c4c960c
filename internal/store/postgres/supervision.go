package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/store"
	"github.com/countersign/countersign/internal/store/postgres/dbsqlc"
)

// inForceKey is the partial unique index that allows a task type one
// override in force.
const inForceKey = "policy_overrides_in_force_key"

// PutOverride stores o as its task type's override in force, once.
//
// The insert does nothing when o's ID is stored already. Whether another
// override is in force is left to inForceKey, which settles concurrent puts
// without a lock: all but one fail on it, and only then is the override in
// force looked up, to name it. A reset may end that override between the two
// statements; then the insert is tried once more.
func (s *Store) PutOverride(ctx context.Context, o *countersign.PolicyOverride) error {
	data, err := store.OverrideJSON(o)
	if err != nil {
		return fmt.Errorf("store override %s: %w", o.ID, err)
	}
	for attempt := 1; ; attempt++ {
		err := s.q.PutOverride(ctx, dbsqlc.PutOverrideParams{
			ID: o.ID, TaskType: o.TaskType, At: store.Time(o.At), ResetBy: o.ResetBy,
			ResetAt: store.OptionalTime(o.ResetAt), ResetReason: o.ResetReason, Override: data,
		})
		if !violates(err, inForceKey) {
			if err != nil {
				return fmt.Errorf("store override %s: %w", o.ID, classify(err))
			}
			return nil
		}
		active, activeErr := s.ActiveOverride(ctx, o.TaskType)
		switch {
		case activeErr != nil:
			return fmt.Errorf("store override %s: %w", o.ID, activeErr)
		case active != nil:
			return countersign.OverrideInForce(o, active)
		case attempt == 2:
			return fmt.Errorf("store override %s: %w", o.ID, classify(err))
		}
	}
}

// ActiveOverride returns the task type's override in force, or nil.
func (s *Store) ActiveOverride(ctx context.Context, taskType string) (*countersign.PolicyOverride, error) {
	data, err := s.q.ActiveOverride(ctx, taskType)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	o, err := store.Decode[countersign.PolicyOverride](data, err)
	if err != nil {
		return nil, fmt.Errorf("override in force for %s: %w", taskType, err)
	}
	return &o, nil
}

// ResetOverride ends an override; see countersign.SupervisionStore. The
// override's row stays locked from the read to the commit, so of two people
// resetting it at once the second sees the first's reset. A refusal (not
// found, already reset) is returned as it is: it is the caller's answer.
func (s *Store) ResetOverride(ctx context.Context, id, by, reason string, at time.Time) (*countersign.PolicyOverride, error) {
	var o countersign.PolicyOverride
	err := s.inTx(ctx, func(q *dbsqlc.Queries) error {
		data, err := q.LockOverride(ctx, id)
		if errors.Is(err, pgx.ErrNoRows) {
			return countersign.Errorf(countersign.CodeNotFound, "override %s not found", id)
		}
		if o, err = store.Decode[countersign.PolicyOverride](data, err); err != nil {
			return err
		}
		changed, err := o.Reset(by, reason, store.Time(at))
		if err != nil || !changed {
			return err
		}
		if data, err = store.OverrideJSON(&o); err != nil {
			return err
		}
		return q.ResetOverride(ctx, dbsqlc.ResetOverrideParams{ResetBy: o.ResetBy, ResetAt: o.ResetAt, ResetReason: o.ResetReason, Override: data, ID: id})
	})
	if err := store.Refusal(err); err != nil {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("reset override %s: %w", id, classify(err))
	}
	return &o, nil
}

// Overrides returns a task type's overrides, newest first.
func (s *Store) Overrides(ctx context.Context, taskType string) ([]countersign.PolicyOverride, error) {
	overrides, err := store.DecodeAll[countersign.PolicyOverride](s.q.Overrides(ctx, taskType))
	if err != nil {
		return nil, fmt.Errorf("overrides of %s: %w", taskType, err)
	}
	return overrides, nil
}

// errDrawnMeanwhile says another transaction drew the document first.
var errDrawnMeanwhile = errors.New("drawn meanwhile")

// DrawAudit numbers a document within its stratum, once.
//
// Draws in one stratum queue on the stratum's counter row: a draw counts it
// on with an upsert (an UPDATE … RETURNING once the row exists), which keeps
// the row locked until the draw commits or rolls back, so numbers are taken
// one at a time and a draw that rolls back gives its number back. The
// document is the key of its draw: when another transaction, in any stratum,
// drew it meanwhile, inserting the draw waits for that transaction and then
// does nothing, and this draw rolls back, returning the number already stored.
// A counter row rather than max(number)+1 because that read would not block;
// rather than an advisory lock because the row lock is released with the
// transaction by construction and needs no key space of its own.
func (s *Store) DrawAudit(ctx context.Context, stratum, documentID string) (int64, error) {
	n, err := s.drawn(ctx, documentID)
	if err != nil || n > 0 {
		return n, err
	}
	err = s.inTx(ctx, func(q *dbsqlc.Queries) error {
		var err error
		if n, err = q.CountStratum(ctx, stratum); err != nil {
			return err
		}
		inserted, err := q.DrawAudit(ctx, dbsqlc.DrawAuditParams{DocumentID: documentID, Stratum: stratum, Number: n})
		if err == nil && inserted == 0 {
			return errDrawnMeanwhile
		}
		return err
	})
	if errors.Is(err, errDrawnMeanwhile) {
		return s.drawn(ctx, documentID)
	}
	if err != nil {
		return 0, fmt.Errorf("draw %s in %s: %w", documentID, stratum, classify(err))
	}
	return n, nil
}

// drawn returns the number a document was drawn with, or 0 if it was not.
func (s *Store) drawn(ctx context.Context, documentID string) (int64, error) {
	n, err := s.q.Drawn(ctx, documentID)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("draw of %s: %w", documentID, err)
	}
	return n, nil
}
