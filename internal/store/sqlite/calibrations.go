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

// PutCalibration stores a calibration once per task type and version.
func (s *Store) PutCalibration(ctx context.Context, c *countersign.Calibration) error {
	data, err := store.CalibrationJSON(c)
	if err != nil {
		return fmt.Errorf("store calibration %s@%s: %w", c.TaskType, c.Version, err)
	}
	err = s.write.PutCalibration(ctx, dbsqlc.PutCalibrationParams{
		TaskType: c.TaskType, Version: c.Version, CreatedAt: store.FormatTime(c.CreatedAt), CreatedBy: c.CreatedBy,
		Active: c.Active, Calibration: data,
	})
	if err != nil {
		return fmt.Errorf("store calibration %s@%s: %w", c.TaskType, c.Version, err)
	}
	return nil
}

// LatestCalibration returns the newest calibration of a task type.
func (s *Store) LatestCalibration(ctx context.Context, taskType string) (*countersign.Calibration, error) {
	row, err := s.read.LatestCalibration(ctx, taskType)
	return calibration(taskType, "calibration", row.Calibration, row.Active, err)
}

// ActiveCalibration returns the newest calibration of a task type stored
// active.
func (s *Store) ActiveCalibration(ctx context.Context, taskType string) (*countersign.Calibration, error) {
	row, err := s.read.ActiveCalibration(ctx, taskType)
	return calibration(taskType, "active calibration", row.Calibration, row.Active, err)
}

// calibration reads which calibration of a task type a query found: its
// JSON, and the active column, which is the truth (a calibration stored
// before the column existed has no active in its JSON).
func calibration(taskType, which, data string, active bool, err error) (*countersign.Calibration, error) {
	if errors.Is(err, sql.ErrNoRows) {
		return nil, countersign.Errorf(countersign.CodeNotFound, "no %s of task type %s", which, taskType)
	}
	c, err := store.Decode[countersign.Calibration](data, err)
	if err != nil {
		return nil, fmt.Errorf("%s of %s: %w", which, taskType, err)
	}
	c.Active = active
	return &c, nil
}
