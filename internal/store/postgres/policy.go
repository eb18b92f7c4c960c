package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/store"
)

// numberAttempts bounds how often PutCertificate numbers again after
// another store took the number it read.
const numberAttempts = 10

// PutCertificate numbers c after its task type's newest certificate and
// stores it. The number is read, then inserted under the (task_type,
// number) key: of two stores that read the same number, one inserts and the
// other finds the number (and the ID made of it) taken and numbers again,
// without a lock.
func (s *Store) PutCertificate(ctx context.Context, c *countersign.Certificate) error {
	for range numberAttempts {
		var last int
		if err := s.pool.QueryRow(ctx, `SELECT COALESCE(MAX(number), 0) FROM certificates WHERE task_type = $1`, c.TaskType).Scan(&last); err != nil {
			return fmt.Errorf("store certificate of %s: %w", c.TaskType, err)
		}
		data, err := store.NumberCertificate(c, last+1)
		if err != nil {
			return fmt.Errorf("store certificate of %s: %w", c.TaskType, err)
		}
		tag, err := s.pool.Exec(ctx, `INSERT INTO certificates (id, task_type, number, created_at, certificate) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT DO NOTHING`,
			c.ID, c.TaskType, c.Number, c.CreatedAt, data)
		if err != nil {
			return fmt.Errorf("store certificate %s: %w", c.ID, classify(err))
		}
		if tag.RowsAffected() == 1 {
			return nil
		}
	}
	return countersign.Errorf(countersign.CodeConflict, "store certificate of %s: others kept taking its number; try again", c.TaskType)
}

// Certificate returns a certificate; ErrNotFound if unknown.
func (s *Store) Certificate(ctx context.Context, id string) (*countersign.Certificate, error) {
	out, err := queryJSON[countersign.Certificate](ctx, s.pool, `SELECT certificate FROM certificates WHERE id = $1`, id)
	if err != nil {
		return nil, fmt.Errorf("certificate %s: %w", id, err)
	}
	if len(out) == 0 {
		return nil, countersign.Errorf(countersign.CodeNotFound, "certificate %s not found", id)
	}
	return &out[0], nil
}

// Certificates returns a task type's certificates, newest first.
func (s *Store) Certificates(ctx context.Context, taskType string) ([]countersign.Certificate, error) {
	out, err := queryJSON[countersign.Certificate](ctx, s.pool, `SELECT certificate FROM certificates WHERE task_type = $1 ORDER BY number DESC`, taskType)
	if err != nil {
		return nil, fmt.Errorf("certificates of %s: %w", taskType, err)
	}
	return out, nil
}

// PutPolicyVersion numbers v after the version in force and stores it, if
// v was made from that version. Of two versions made from the same one at
// once, the (task_type, number) key lets one in; the other is refused as a
// conflict naming the version now in force.
func (s *Store) PutPolicyVersion(ctx context.Context, v *countersign.PolicyVersion) error {
	var (
		inForce string
		last    int
	)
	err := s.pool.QueryRow(ctx, `SELECT id, number FROM policy_versions WHERE task_type = $1 ORDER BY number DESC LIMIT 1`, v.TaskType).Scan(&inForce, &last)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("store policy version of %s: %w", v.TaskType, err)
	}
	if inForce != v.Previous {
		return store.PolicyMoved(v, inForce)
	}
	data, err := store.NumberPolicyVersion(v, last+1)
	if err != nil {
		return fmt.Errorf("store policy version of %s: %w", v.TaskType, err)
	}
	tag, err := s.pool.Exec(ctx, `INSERT INTO policy_versions (id, task_type, number, created_at, version) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT DO NOTHING`,
		v.ID, v.TaskType, v.Number, v.CreatedAt, data)
	if err != nil {
		return fmt.Errorf("store policy version %s: %w", v.ID, classify(err))
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	now, err := s.PolicyInForce(ctx, v.TaskType)
	if err != nil {
		return fmt.Errorf("store policy version %s: %w", v.ID, err)
	}
	v.ID, v.Number = "", 0
	if now == nil {
		return store.PolicyMoved(v, "")
	}
	return store.PolicyMoved(v, now.ID)
}

// PolicyVersion returns a policy version; ErrNotFound if unknown.
func (s *Store) PolicyVersion(ctx context.Context, id string) (*countersign.PolicyVersion, error) {
	out, err := queryJSON[countersign.PolicyVersion](ctx, s.pool, `SELECT version FROM policy_versions WHERE id = $1`, id)
	if err != nil {
		return nil, fmt.Errorf("policy version %s: %w", id, err)
	}
	if len(out) == 0 {
		return nil, countersign.Errorf(countersign.CodeNotFound, "policy version %s not found", id)
	}
	return &out[0], nil
}

// PolicyInForce returns the task type's newest policy version, or nil.
func (s *Store) PolicyInForce(ctx context.Context, taskType string) (*countersign.PolicyVersion, error) {
	out, err := queryJSON[countersign.PolicyVersion](ctx, s.pool, `SELECT version FROM policy_versions WHERE task_type = $1 ORDER BY number DESC LIMIT 1`, taskType)
	if err != nil {
		return nil, fmt.Errorf("policy in force for %s: %w", taskType, err)
	}
	if len(out) == 0 {
		return nil, nil
	}
	return &out[0], nil
}

// PolicyVersions returns a task type's policy versions, newest first.
func (s *Store) PolicyVersions(ctx context.Context, taskType string) ([]countersign.PolicyVersion, error) {
	out, err := queryJSON[countersign.PolicyVersion](ctx, s.pool, `SELECT version FROM policy_versions WHERE task_type = $1 ORDER BY number DESC`, taskType)
	if err != nil {
		return nil, fmt.Errorf("policy versions of %s: %w", taskType, err)
	}
	return out, nil
}

// queryJSON reads rows of one JSON column into Ts.
func queryJSON[T any](ctx context.Context, q querier, query string, args ...any) ([]T, error) {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (T, error) {
		var (
			v    T
			data []byte
		)
		if err := row.Scan(&data); err != nil {
			return v, err
		}
		return v, json.Unmarshal(data, &v)
	})
}
