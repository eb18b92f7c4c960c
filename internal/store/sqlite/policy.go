package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/store"
)

// PutCertificate numbers c after its task type's newest certificate and
// stores it. The single write connection serializes the read of the last
// number and the insert.
func (s *Store) PutCertificate(ctx context.Context, c *countersign.Certificate) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store certificate of %s: %w", c.TaskType, err)
	}
	defer tx.Rollback()
	var last int
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(number), 0) FROM certificates WHERE task_type = ?`, c.TaskType).Scan(&last); err != nil {
		return fmt.Errorf("store certificate of %s: %w", c.TaskType, err)
	}
	data, err := store.NumberCertificate(c, last+1)
	if err != nil {
		return fmt.Errorf("store certificate of %s: %w", c.TaskType, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO certificates (id, task_type, number, created_at, certificate) VALUES (?, ?, ?, ?, ?)`,
		c.ID, c.TaskType, c.Number, store.FormatTime(c.CreatedAt), data); err != nil {
		return fmt.Errorf("store certificate %s: %w", c.ID, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store certificate %s: %w", c.ID, err)
	}
	return nil
}

// Certificate returns a certificate; ErrNotFound if unknown.
func (s *Store) Certificate(ctx context.Context, id string) (*countersign.Certificate, error) {
	out, err := queryJSON[countersign.Certificate](ctx, s.read, `SELECT certificate FROM certificates WHERE id = ?`, id)
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
	out, err := queryJSON[countersign.Certificate](ctx, s.read, `SELECT certificate FROM certificates WHERE task_type = ? ORDER BY number DESC`, taskType)
	if err != nil {
		return nil, fmt.Errorf("certificates of %s: %w", taskType, err)
	}
	return out, nil
}

// PutPolicyVersion numbers v after the version in force and stores it, if
// v was made from that version. The check and the insert share a
// transaction on the single write connection.
func (s *Store) PutPolicyVersion(ctx context.Context, v *countersign.PolicyVersion) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store policy version of %s: %w", v.TaskType, err)
	}
	defer tx.Rollback()
	var (
		inForce string
		last    int
	)
	err = tx.QueryRowContext(ctx, `SELECT id, number FROM policy_versions WHERE task_type = ? ORDER BY number DESC LIMIT 1`, v.TaskType).Scan(&inForce, &last)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("store policy version of %s: %w", v.TaskType, err)
	}
	if inForce != v.Previous {
		return store.PolicyMoved(v, inForce)
	}
	data, err := store.NumberPolicyVersion(v, last+1)
	if err != nil {
		return fmt.Errorf("store policy version of %s: %w", v.TaskType, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO policy_versions (id, task_type, number, created_at, version) VALUES (?, ?, ?, ?, ?)`,
		v.ID, v.TaskType, v.Number, store.FormatTime(v.CreatedAt), data); err != nil {
		return fmt.Errorf("store policy version %s: %w", v.ID, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store policy version %s: %w", v.ID, err)
	}
	return nil
}

// PolicyVersion returns a policy version; ErrNotFound if unknown.
func (s *Store) PolicyVersion(ctx context.Context, id string) (*countersign.PolicyVersion, error) {
	out, err := queryJSON[countersign.PolicyVersion](ctx, s.read, `SELECT version FROM policy_versions WHERE id = ?`, id)
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
	out, err := queryJSON[countersign.PolicyVersion](ctx, s.read, `SELECT version FROM policy_versions WHERE task_type = ? ORDER BY number DESC LIMIT 1`, taskType)
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
	out, err := queryJSON[countersign.PolicyVersion](ctx, s.read, `SELECT version FROM policy_versions WHERE task_type = ? ORDER BY number DESC`, taskType)
	if err != nil {
		return nil, fmt.Errorf("policy versions of %s: %w", taskType, err)
	}
	return out, nil
}

// queryJSON reads rows of one JSON column into Ts.
func queryJSON[T any](ctx context.Context, q querier, query string, args ...any) ([]T, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		var data string
		if err := rows.Scan(&data); err != nil {
			return nil, err
		}
		v, err := store.Unmarshal[T](&data)
		if err != nil {
			return nil, err
		}
		if v != nil {
			out = append(out, *v)
		}
	}
	return out, rows.Err()
}
