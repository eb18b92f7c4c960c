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

// PutTaskType stores a task type snapshot once.
func (s *Store) PutTaskType(ctx context.Context, snap countersign.TaskTypeSnapshot) error {
	err := s.write.PutTaskType(ctx, dbsqlc.PutTaskTypeParams{Version: snap.Version, Name: snap.Name, Source: snap.Source, CreatedAt: store.FormatTime(snap.CreatedAt)})
	if err != nil {
		return fmt.Errorf("store task type %s@%s: %w", snap.Name, snap.Version, err)
	}
	return nil
}

// GetTaskType returns a stored task type snapshot.
func (s *Store) GetTaskType(ctx context.Context, version string) (*countersign.TaskTypeSnapshot, error) {
	row, err := s.read.GetTaskType(ctx, version)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, countersign.Errorf(countersign.CodeNotFound, "task type version %s not found", version)
	}
	if err != nil {
		return nil, fmt.Errorf("get task type %s: %w", version, err)
	}
	var t times
	snap := &countersign.TaskTypeSnapshot{Name: row.Name, Version: row.Version, Source: row.Source, CreatedAt: t.at(row.CreatedAt)}
	return snap, t.err
}
