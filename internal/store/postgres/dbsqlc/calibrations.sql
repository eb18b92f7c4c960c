-- name: PutCalibration :exec
-- Stores a calibration once per task type and version.
INSERT INTO calibrations (task_type, version, created_at, created_by, active, calibration)
VALUES (sqlc.arg(task_type), sqlc.arg(version), sqlc.arg(created_at), sqlc.arg(created_by), sqlc.arg(active), sqlc.arg(calibration))
ON CONFLICT (task_type, version) DO NOTHING;

-- name: LatestCalibration :one
-- The active column is the truth: a calibration stored before it existed
-- has no active in its JSON.
SELECT calibration, active FROM calibrations WHERE task_type = sqlc.arg(task_type)
ORDER BY created_at DESC, seq DESC LIMIT 1;

-- name: ActiveCalibration :one
SELECT calibration, active FROM calibrations WHERE task_type = sqlc.arg(task_type) AND active
ORDER BY created_at DESC, seq DESC LIMIT 1;
