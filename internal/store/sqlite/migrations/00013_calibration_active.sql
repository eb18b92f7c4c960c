-- +goose Up
-- Whether routing uses a calibration: a new one is made active only when it
-- beats the active one out of sample. Every calibration stored before this
-- was the one routing used from then on, so they are all active; the default
-- also keeps a worker of the previous release, which writes no active column,
-- meaning what it meant.
ALTER TABLE calibrations ADD COLUMN active integer NOT NULL DEFAULT 1 CHECK (active IN (0, 1));
CREATE INDEX calibrations_task_type_active_created_idx ON calibrations (task_type, created_at, seq) WHERE active = 1;

-- +goose Down
DROP INDEX calibrations_task_type_active_created_idx;
ALTER TABLE calibrations DROP COLUMN active;
