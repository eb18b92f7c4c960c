package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/store"
)

// PutOverride stores o as its task type's override in force, once. The
// checks and the insert share a transaction on the single write connection,
// so no other write comes between them; the partial unique index
// policy_overrides_in_force_key is the schema's own guard behind them.
func (s *Store) PutOverride(ctx context.Context, o *countersign.PolicyOverride) error {
	data, err := store.OverrideJSON(o)
	if err != nil {
		return fmt.Errorf("store override %s: %w", o.ID, err)
	}
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store override %s: %w", o.ID, err)
	}
	defer tx.Rollback()
	stored, err := queryOverrides(ctx, tx, `SELECT override FROM policy_overrides WHERE id = ?`, o.ID)
	if err != nil {
		return fmt.Errorf("store override %s: %w", o.ID, err)
	}
	if len(stored) > 0 {
		return nil
	}
	if o.ResetAt == nil {
		active, err := queryOverrides(ctx, tx, `SELECT override FROM policy_overrides WHERE task_type = ? AND reset_at IS NULL`, o.TaskType)
		if err != nil {
			return fmt.Errorf("store override %s: %w", o.ID, err)
		}
		if len(active) > 0 {
			return store.OverrideInForce(o, &active[0])
		}
	}
	var resetAt any
	if o.ResetAt != nil {
		resetAt = store.FormatTime(*o.ResetAt)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO policy_overrides (id, task_type, at, reset_by, reset_at, reset_reason, override)
		VALUES (?, ?, ?, ?, ?, ?, ?)`,
		o.ID, o.TaskType, store.FormatTime(o.At), o.ResetBy, resetAt, o.ResetReason, data); err != nil {
		return fmt.Errorf("store override %s: %w", o.ID, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store override %s: %w", o.ID, err)
	}
	return nil
}

// ActiveOverride returns the task type's override in force, or nil.
func (s *Store) ActiveOverride(ctx context.Context, taskType string) (*countersign.PolicyOverride, error) {
	active, err := queryOverrides(ctx, s.read, `SELECT override FROM policy_overrides WHERE task_type = ? AND reset_at IS NULL`, taskType)
	if err != nil {
		return nil, fmt.Errorf("override in force for %s: %w", taskType, err)
	}
	if len(active) == 0 {
		return nil, nil
	}
	return &active[0], nil
}

// ResetOverride ends an override; see countersign.SupervisionStore.
func (s *Store) ResetOverride(ctx context.Context, id, by, reason string, at time.Time) (*countersign.PolicyOverride, error) {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("reset override %s: %w", id, err)
	}
	defer tx.Rollback()
	stored, err := queryOverrides(ctx, tx, `SELECT override FROM policy_overrides WHERE id = ?`, id)
	if err != nil {
		return nil, fmt.Errorf("reset override %s: %w", id, err)
	}
	if len(stored) == 0 {
		return nil, countersign.Errorf(countersign.CodeNotFound, "override %s not found", id)
	}
	o := &stored[0]
	changed, err := store.Reset(o, by, reason, at)
	if err != nil {
		return nil, err
	}
	if !changed {
		return o, nil
	}
	data, err := store.OverrideJSON(o)
	if err != nil {
		return nil, fmt.Errorf("reset override %s: %w", id, err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE policy_overrides SET reset_by = ?, reset_at = ?, reset_reason = ?, override = ? WHERE id = ?`,
		o.ResetBy, store.FormatTime(*o.ResetAt), o.ResetReason, data, id); err != nil {
		return nil, fmt.Errorf("reset override %s: %w", id, err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("reset override %s: %w", id, err)
	}
	return o, nil
}

// Overrides returns a task type's overrides, newest first.
func (s *Store) Overrides(ctx context.Context, taskType string) ([]countersign.PolicyOverride, error) {
	overrides, err := queryOverrides(ctx, s.read, `SELECT override FROM policy_overrides WHERE task_type = ?
		ORDER BY at DESC, seq DESC`, taskType)
	if err != nil {
		return nil, fmt.Errorf("overrides of %s: %w", taskType, err)
	}
	return overrides, nil
}

func queryOverrides(ctx context.Context, q querier, query string, args ...any) ([]countersign.PolicyOverride, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []countersign.PolicyOverride
	for rows.Next() {
		var data string
		if err := rows.Scan(&data); err != nil {
			return nil, err
		}
		o, err := store.Unmarshal[countersign.PolicyOverride](&data)
		if err != nil {
			return nil, err
		}
		out = append(out, *o)
	}
	return out, rows.Err()
}

// DrawAudit numbers a document within its stratum, once. The single write
// connection serializes draws, as it does audit appends, so reading the
// document's draw, counting the stratum on and storing the draw in one
// transaction hands out every number once and in order.
func (s *Store) DrawAudit(ctx context.Context, stratum, documentID string) (int64, error) {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("draw %s in %s: %w", documentID, stratum, err)
	}
	defer tx.Rollback()
	var n int64
	err = tx.QueryRowContext(ctx, `SELECT number FROM audit_draws WHERE document_id = ?`, documentID).Scan(&n)
	if err == nil {
		return n, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("draw %s in %s: %w", documentID, stratum, err)
	}
	if err := tx.QueryRowContext(ctx, `INSERT INTO audit_strata (stratum, drawn) VALUES (?, 1)
		ON CONFLICT (stratum) DO UPDATE SET drawn = drawn + 1 RETURNING drawn`, stratum).Scan(&n); err != nil {
		return 0, fmt.Errorf("draw %s in %s: %w", documentID, stratum, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO audit_draws (document_id, stratum, number) VALUES (?, ?, ?)`,
		documentID, stratum, n); err != nil {
		return 0, fmt.Errorf("draw %s in %s: %w", documentID, stratum, err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("draw %s in %s: %w", documentID, stratum, err)
	}
	return n, nil
}
