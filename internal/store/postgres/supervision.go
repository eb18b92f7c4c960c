package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/store"
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
	var resetAt *time.Time
	if o.ResetAt != nil {
		t := store.Time(*o.ResetAt)
		resetAt = &t
	}
	for attempt := 1; ; attempt++ {
		_, err := s.pool.Exec(ctx, `INSERT INTO policy_overrides (id, task_type, at, reset_by, reset_at, reset_reason, override)
			VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING`,
			o.ID, o.TaskType, store.Time(o.At), o.ResetBy, resetAt, o.ResetReason, data)
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
			return store.OverrideInForce(o, active)
		case attempt == 2:
			return fmt.Errorf("store override %s: %w", o.ID, classify(err))
		}
	}
}

// violates reports whether err is the violation of the named constraint.
func violates(err error, constraint string) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.ConstraintName == constraint
}

// ActiveOverride returns the task type's override in force, or nil.
func (s *Store) ActiveOverride(ctx context.Context, taskType string) (*countersign.PolicyOverride, error) {
	active, err := queryOverrides(ctx, s.pool, `SELECT override FROM policy_overrides WHERE task_type = $1 AND reset_at IS NULL`, taskType)
	if err != nil {
		return nil, fmt.Errorf("override in force for %s: %w", taskType, err)
	}
	if len(active) == 0 {
		return nil, nil
	}
	return &active[0], nil
}

// ResetOverride ends an override; see countersign.SupervisionStore. The
// override's row stays locked from the read to the commit, so of two people
// resetting it at once the second sees the first's reset. A refusal (not
// found, already reset) is returned as it is: it is the caller's answer.
func (s *Store) ResetOverride(ctx context.Context, id, by, reason string, at time.Time) (*countersign.PolicyOverride, error) {
	var o *countersign.PolicyOverride
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.ReadCommitted}, func(tx pgx.Tx) error {
		stored, err := queryOverrides(ctx, tx, `SELECT override FROM policy_overrides WHERE id = $1 FOR UPDATE`, id)
		if err != nil {
			return err
		}
		if len(stored) == 0 {
			return countersign.Errorf(countersign.CodeNotFound, "override %s not found", id)
		}
		o = &stored[0]
		changed, err := store.Reset(o, by, reason, at)
		if err != nil || !changed {
			return err
		}
		data, err := store.OverrideJSON(o)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE policy_overrides SET reset_by = $1, reset_at = $2, reset_reason = $3, override = $4 WHERE id = $5`,
			o.ResetBy, *o.ResetAt, o.ResetReason, data, id)
		return err
	})
	var refusal *countersign.Error
	if errors.As(err, &refusal) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("reset override %s: %w", id, classify(err))
	}
	return o, nil
}

// Overrides returns a task type's overrides, newest first.
func (s *Store) Overrides(ctx context.Context, taskType string) ([]countersign.PolicyOverride, error) {
	overrides, err := queryOverrides(ctx, s.pool, `SELECT override FROM policy_overrides WHERE task_type = $1
		ORDER BY at DESC, seq DESC`, taskType)
	if err != nil {
		return nil, fmt.Errorf("overrides of %s: %w", taskType, err)
	}
	return overrides, nil
}

func queryOverrides(ctx context.Context, q querier, query string, args ...any) ([]countersign.PolicyOverride, error) {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (countersign.PolicyOverride, error) {
		var data string
		if err := row.Scan(&data); err != nil {
			return countersign.PolicyOverride{}, err
		}
		o, err := store.Unmarshal[countersign.PolicyOverride](&data)
		if err != nil {
			return countersign.PolicyOverride{}, err
		}
		return *o, nil
	})
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
	err = pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.ReadCommitted}, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `INSERT INTO audit_strata (stratum, drawn) VALUES ($1, 1)
			ON CONFLICT (stratum) DO UPDATE SET drawn = audit_strata.drawn + 1 RETURNING drawn`, stratum).Scan(&n); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `INSERT INTO audit_draws (document_id, stratum, number) VALUES ($1, $2, $3)
			ON CONFLICT (document_id) DO NOTHING`, documentID, stratum, n)
		if err == nil && tag.RowsAffected() == 0 {
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
	var n int64
	err := s.pool.QueryRow(ctx, `SELECT number FROM audit_draws WHERE document_id = $1`, documentID).Scan(&n)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("draw of %s: %w", documentID, err)
	}
	return n, nil
}
