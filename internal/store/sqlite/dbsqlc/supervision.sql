-- name: PutOverride :exec
-- The store checks first, in the same transaction, that neither the override
-- nor another in force for its task type is stored; the partial unique
-- index policy_overrides_in_force_key is the schema's own guard behind it.
INSERT INTO policy_overrides (id, task_type, at, reset_by, reset_at, reset_reason, override)
VALUES (sqlc.arg(id), sqlc.arg(task_type), sqlc.arg(at), sqlc.arg(reset_by), sqlc.narg(reset_at), sqlc.arg(reset_reason), sqlc.arg(override));

-- name: ActiveOverride :one
SELECT override FROM policy_overrides WHERE task_type = sqlc.arg(task_type) AND reset_at IS NULL;

-- name: Override :one
SELECT override FROM policy_overrides WHERE id = sqlc.arg(id);

-- name: ResetOverride :exec
UPDATE policy_overrides SET reset_by = sqlc.arg(reset_by), reset_at = sqlc.arg(reset_at), reset_reason = sqlc.arg(reset_reason),
    override = sqlc.arg(override)
WHERE id = sqlc.arg(id);

-- name: Overrides :many
SELECT override FROM policy_overrides WHERE task_type = sqlc.arg(task_type) ORDER BY at DESC, seq DESC;

-- name: Drawn :one
SELECT number FROM audit_draws WHERE document_id = sqlc.arg(document_id);

-- name: CountStratum :one
INSERT INTO audit_strata (stratum, drawn) VALUES (sqlc.arg(stratum), 1)
ON CONFLICT (stratum) DO UPDATE SET drawn = drawn + 1
RETURNING drawn;

-- name: DrawAudit :exec
INSERT INTO audit_draws (document_id, stratum, number) VALUES (sqlc.arg(document_id), sqlc.arg(stratum), sqlc.arg(number));
