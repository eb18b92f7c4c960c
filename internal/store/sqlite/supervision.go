package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/store"
	"github.com/countersign/countersign/internal/store/sqlite/dbsqlc"
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
	err = s.inTx(ctx, func(q *dbsqlc.Queries) error {
		_, err := q.Override(ctx, o.ID)
		if err == nil || !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if o.ResetAt == nil {
			active, err := activeOverride(ctx, q, o.TaskType)
			if err != nil {
				return err
			}
			if active != nil {
				return countersign.OverrideInForce(o, active)
			}
		}
		return q.PutOverride(ctx, dbsqlc.PutOverrideParams{
			ID: o.ID, TaskType: o.TaskType, At: store.FormatTime(o.At), ResetBy: o.ResetBy,
			ResetAt: optionalTime(o.ResetAt), ResetReason: o.ResetReason, Override: data,
		})
	})
	if err := store.Refusal(err); err != nil {
		return err
	}
	if err != nil {
		return fmt.Errorf("store override %s: %w", o.ID, err)
	}
	return nil
}

// ActiveOverride returns the task type's override in force, or nil.
func (s *Store) ActiveOverride(ctx context.Context, taskType string) (*countersign.PolicyOverride, error) {
	o, err := activeOverride(ctx, s.read, taskType)
	if err != nil {
		return nil, fmt.Errorf("override in force for %s: %w", taskType, err)
	}
	return o, nil
}

func activeOverride(ctx context.Context, q *dbsqlc.Queries, taskType string) (*countersign.PolicyOverride, error) {
	data, err := q.ActiveOverride(ctx, taskType)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	o, err := store.Decode[countersign.PolicyOverride](data, err)
	if err != nil {
		return nil, err
	}
	return &o, nil
}

// ResetOverride ends an override; see countersign.SupervisionStore.
func (s *Store) ResetOverride(ctx context.Context, id, by, reason string, at time.Time) (*countersign.PolicyOverride, error) {
	var o countersign.PolicyOverride
	err := s.inTx(ctx, func(q *dbsqlc.Queries) error {
		data, err := q.Override(ctx, id)
		if errors.Is(err, sql.ErrNoRows) {
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
		return q.ResetOverride(ctx, dbsqlc.ResetOverrideParams{
			ResetBy: o.ResetBy, ResetAt: optionalTime(o.ResetAt), ResetReason: o.ResetReason, Override: data, ID: id,
		})
	})
	if err := store.Refusal(err); err != nil {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("reset override %s: %w", id, err)
	}
	return &o, nil
}

// Overrides returns a task type's overrides, newest first.
func (s *Store) Overrides(ctx context.Context, taskType string) ([]countersign.PolicyOverride, error) {
	overrides, err := store.DecodeAll[countersign.PolicyOverride](s.read.Overrides(ctx, taskType))
	if err != nil {
		return nil, fmt.Errorf("overrides of %s: %w", taskType, err)
	}
	return overrides, nil
}

// DrawAudit numbers a document within its stratum, once. The single write
// connection serializes draws, as it does audit appends, so reading the
// document's draw, counting the stratum on and storing the draw in one
// transaction hands out every number once and in order.
func (s *Store) DrawAudit(ctx context.Context, stratum, documentID string) (int64, error) {
	var n int64
	err := s.inTx(ctx, func(q *dbsqlc.Queries) error {
		var err error
		if n, err = q.Drawn(ctx, documentID); !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if n, err = q.CountStratum(ctx, stratum); err != nil {
			return err
		}
		return q.DrawAudit(ctx, dbsqlc.DrawAuditParams{DocumentID: documentID, Stratum: stratum, Number: n})
	})
	if err != nil {
		return 0, fmt.Errorf("draw %s in %s: %w", documentID, stratum, err)
	}
	return n, nil
}
