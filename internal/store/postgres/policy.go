package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/store"
	"github.com/countersign/countersign/internal/store/postgres/dbsqlc"
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
		last, err := s.q.LastCertificateNumber(ctx, c.TaskType)
		if err != nil {
			return fmt.Errorf("store certificate of %s: %w", c.TaskType, err)
		}
		c.SetNumber(int(last) + 1)
		data, err := store.CertificateJSON(c)
		if err != nil {
			return fmt.Errorf("store certificate of %s: %w", c.TaskType, err)
		}
		n, err := s.q.PutCertificate(ctx, dbsqlc.PutCertificateParams{
			ID: c.ID, TaskType: c.TaskType, Number: int32(c.Number), CreatedAt: c.CreatedAt, Certificate: data,
		})
		if err != nil {
			return fmt.Errorf("store certificate %s: %w", c.ID, classify(err))
		}
		if n == 1 {
			return nil
		}
	}
	return countersign.Errorf(countersign.CodeConflict, "store certificate of %s: others kept taking its number; try again", c.TaskType)
}

// Certificate returns a certificate; ErrNotFound if unknown.
func (s *Store) Certificate(ctx context.Context, id string) (*countersign.Certificate, error) {
	data, err := s.q.Certificate(ctx, id)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, countersign.Errorf(countersign.CodeNotFound, "certificate %s not found", id)
	}
	c, err := store.Decode[countersign.Certificate](data, err)
	if err != nil {
		return nil, fmt.Errorf("certificate %s: %w", id, err)
	}
	return &c, nil
}

// Certificates returns a task type's certificates, newest first.
func (s *Store) Certificates(ctx context.Context, taskType string) ([]countersign.Certificate, error) {
	out, err := store.DecodeAll[countersign.Certificate](s.q.Certificates(ctx, taskType))
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
	newest, err := s.q.NewestPolicyVersion(ctx, v.TaskType)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("store policy version of %s: %w", v.TaskType, err)
	}
	if newest.ID != v.Previous {
		return countersign.PolicyMoved(v, newest.ID)
	}
	v.SetNumber(int(newest.Number) + 1)
	data, err := store.PolicyVersionJSON(v)
	if err != nil {
		return fmt.Errorf("store policy version of %s: %w", v.TaskType, err)
	}
	n, err := s.q.PutPolicyVersion(ctx, dbsqlc.PutPolicyVersionParams{
		ID: v.ID, TaskType: v.TaskType, Number: int32(v.Number), CreatedAt: v.CreatedAt, Version: data,
	})
	if err != nil {
		return fmt.Errorf("store policy version %s: %w", v.ID, classify(err))
	}
	if n == 1 {
		return nil
	}
	now, err := s.PolicyInForce(ctx, v.TaskType)
	if err != nil {
		return fmt.Errorf("store policy version %s: %w", v.ID, err)
	}
	v.ID, v.Number = "", 0
	if now == nil {
		return countersign.PolicyMoved(v, "")
	}
	return countersign.PolicyMoved(v, now.ID)
}

// PolicyVersion returns a policy version; ErrNotFound if unknown.
func (s *Store) PolicyVersion(ctx context.Context, id string) (*countersign.PolicyVersion, error) {
	data, err := s.q.PolicyVersion(ctx, id)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, countersign.Errorf(countersign.CodeNotFound, "policy version %s not found", id)
	}
	v, err := store.Decode[countersign.PolicyVersion](data, err)
	if err != nil {
		return nil, fmt.Errorf("policy version %s: %w", id, err)
	}
	return &v, nil
}

// PolicyInForce returns the task type's newest policy version, or nil.
func (s *Store) PolicyInForce(ctx context.Context, taskType string) (*countersign.PolicyVersion, error) {
	data, err := s.q.PolicyInForce(ctx, taskType)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	v, err := store.Decode[countersign.PolicyVersion](data, err)
	if err != nil {
		return nil, fmt.Errorf("policy in force for %s: %w", taskType, err)
	}
	return &v, nil
}

// PolicyVersions returns a task type's policy versions, newest first.
func (s *Store) PolicyVersions(ctx context.Context, taskType string) ([]countersign.PolicyVersion, error) {
	out, err := store.DecodeAll[countersign.PolicyVersion](s.q.PolicyVersions(ctx, taskType))
	if err != nil {
		return nil, fmt.Errorf("policy versions of %s: %w", taskType, err)
	}
	return out, nil
}
