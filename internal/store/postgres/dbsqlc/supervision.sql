-- name: PutOverride :exec
-- Another override of the task type in force fails the partial unique index
-- policy_overrides_in_force_key.
INSERT INTO policy_overrides (id, task_type, at, reset_by, reset_at, reset_reason, override)
VALUES (sqlc.arg(id), sqlc.arg(task_type), sqlc.arg(at), sqlc.arg(reset_by), sqlc.narg(reset_at), sqlc.arg(reset_reason), sqlc.arg(override))
ON CONFLICT (id) DO NOTHING;

-- name: ActiveOverride :one
SELECT override FROM policy_overrides WHERE task_type = sqlc.arg(task_type) AND reset_at IS NULL;

-- name: LockOverride :one
-- The override's row stays locked to the end of the transaction, so of two
-- people resetting it at once the second sees the first's reset.
SELECT override FROM policy_overrides WHERE id = sqlc.arg(id) FOR UPDATE;

-- name: ResetOverride :exec
UPDATE policy_overrides SET reset_by = sqlc.arg(reset_by), reset_at = sqlc.arg(reset_at), reset_reason = sqlc.arg(reset_reason),
    override = sqlc.arg(override)
WHERE id = sqlc.arg(id);

-- name: Overrides :many
SELECT override FROM policy_overrides WHERE task_type = sqlc.arg(task_type) ORDER BY at DESC, seq DESC;

-- name: Drawn :one
SELECT number FROM audit_draws WHERE document_id = sqlc.arg(document_id);

-- name: CountStratum :one
-- Counts the stratum on and keeps its row locked until the draw commits or
-- rolls back, so that the stratum's draws take their numbers one at a time.
INSERT INTO audit_strata (stratum, drawn) VALUES (sqlc.arg(stratum), 1)
ON CONFLICT (stratum) DO UPDATE SET drawn = audit_strata.drawn + 1
RETURNING drawn;

-- name: DrawAudit :execrows
INSERT INTO audit_draws (document_id, stratum, number) VALUES (sqlc.arg(document_id), sqlc.arg(stratum), sqlc.arg(number))
ON CONFLICT (document_id) DO NOTHING;
