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

// PutTaskType stores a task type snapshot once.
func (s *Store) PutTaskType(ctx context.Context, snap countersign.TaskTypeSnapshot) error {
	err := s.q.PutTaskType(ctx, dbsqlc.PutTaskTypeParams{Version: snap.Version, Name: snap.Name, Source: snap.Source, CreatedAt: store.Time(snap.CreatedAt)})
	if err != nil {
		return fmt.Errorf("store task type %s@%s: %w", snap.Name, snap.Version, classify(err))
	}
	return nil
}

// GetTaskType returns a stored task type snapshot.
func (s *Store) GetTaskType(ctx context.Context, version string) (*countersign.TaskTypeSnapshot, error) {
	row, err := s.q.GetTaskType(ctx, version)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, countersign.Errorf(countersign.CodeNotFound, "task type version %s not found", version)
	}
	if err != nil {
		return nil, fmt.Errorf("get task type %s: %w", version, err)
	}
	return &countersign.TaskTypeSnapshot{Name: row.Name, Version: row.Version, Source: row.Source, CreatedAt: row.CreatedAt.UTC()}, nil
}
