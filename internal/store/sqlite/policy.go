package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/store"
	"github.com/countersign/countersign/internal/store/sqlite/dbsqlc"
)

// PutCertificate numbers c after its task type's newest certificate and
// stores it. The single write connection serializes the read of the last
// number and the insert.
func (s *Store) PutCertificate(ctx context.Context, c *countersign.Certificate) error {
	err := s.inTx(ctx, func(q *dbsqlc.Queries) error {
		last, err := q.LastCertificateNumber(ctx, c.TaskType)
		if err != nil {
			return err
		}
		c.SetNumber(int(last) + 1)
		data, err := store.CertificateJSON(c)
		if err != nil {
			return err
		}
		return q.PutCertificate(ctx, dbsqlc.PutCertificateParams{
			ID: c.ID, TaskType: c.TaskType, Number: int64(c.Number), CreatedAt: store.FormatTime(c.CreatedAt), Certificate: data,
		})
	})
	if err != nil {
		return fmt.Errorf("store certificate of %s: %w", c.TaskType, err)
	}
	return nil
}

// Certificate returns a certificate; ErrNotFound if unknown.
func (s *Store) Certificate(ctx context.Context, id string) (*countersign.Certificate, error) {
	data, err := s.read.Certificate(ctx, id)
	if errors.Is(err, sql.ErrNoRows) {
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
	out, err := store.DecodeAll[countersign.Certificate](s.read.Certificates(ctx, taskType))
	if err != nil {
		return nil, fmt.Errorf("certificates of %s: %w", taskType, err)
	}
	return out, nil
}

// PutPolicyVersion numbers v after the version in force and stores it, if
// v was made from that version. The check and the insert share a
// transaction on the single write connection.
func (s *Store) PutPolicyVersion(ctx context.Context, v *countersign.PolicyVersion) error {
	err := s.inTx(ctx, func(q *dbsqlc.Queries) error {
		newest, err := q.NewestPolicyVersion(ctx, v.TaskType)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if newest.ID != v.Previous {
			return countersign.PolicyMoved(v, newest.ID)
		}
		v.SetNumber(int(newest.Number) + 1)
		data, err := store.PolicyVersionJSON(v)
		if err != nil {
			return err
		}
		return q.PutPolicyVersion(ctx, dbsqlc.PutPolicyVersionParams{
			ID: v.ID, TaskType: v.TaskType, Number: int64(v.Number), CreatedAt: store.FormatTime(v.CreatedAt), Version: data,
		})
	})
	if err := store.Refusal(err); err != nil {
		return err
	}
	if err != nil {
		return fmt.Errorf("store policy version of %s: %w", v.TaskType, err)
	}
	return nil
}

// PolicyVersion returns a policy version; ErrNotFound if unknown.
func (s *Store) PolicyVersion(ctx context.Context, id string) (*countersign.PolicyVersion, error) {
	data, err := s.read.PolicyVersion(ctx, id)
	if errors.Is(err, sql.ErrNoRows) {
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
	data, err := s.read.PolicyInForce(ctx, taskType)
	if errors.Is(err, sql.ErrNoRows) {
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
	out, err := store.DecodeAll[countersign.PolicyVersion](s.read.PolicyVersions(ctx, taskType))
	if err != nil {
		return nil, fmt.Errorf("policy versions of %s: %w", taskType, err)
	}
	return out, nil
}
