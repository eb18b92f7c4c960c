-- +goose Up
-- Document scans select by task type and page on (created_at, id); the
-- index they walk replaces the one on (task_type, created_at), its prefix.
CREATE INDEX documents_task_type_created_id_idx ON documents (task_type, created_at, id);
DROP INDEX documents_task_type_created_idx;

-- Every calibration ever fitted. calibration is the whole countersign.Calibration
-- as JSON; the other columns are copies of its parts, kept to look it up.
-- seq records the insertion order, which breaks ties between equal creation times.
CREATE TABLE calibrations (
    seq         bigint      GENERATED ALWAYS AS IDENTITY,
    task_type   text        NOT NULL,
    version     text        NOT NULL,
    created_at  timestamptz NOT NULL,
    created_by  text        NOT NULL,
    calibration jsonb       NOT NULL,
    CONSTRAINT calibrations_pkey PRIMARY KEY (seq),
    CONSTRAINT calibrations_task_type_version_key UNIQUE (task_type, version)
);
CREATE INDEX calibrations_task_type_created_idx ON calibrations (task_type, created_at, seq);

-- +goose Down
DROP TABLE calibrations;
CREATE INDEX documents_task_type_created_idx ON documents (task_type, created_at);
DROP INDEX documents_task_type_created_id_idx;
