-- name: PutTaskType :exec
INSERT INTO task_types (version, name, source, created_at)
VALUES (sqlc.arg(version), sqlc.arg(name), sqlc.arg(source), sqlc.arg(created_at))
ON CONFLICT (version) DO NOTHING;

-- name: GetTaskType :one
SELECT * FROM task_types WHERE version = sqlc.arg(version);
