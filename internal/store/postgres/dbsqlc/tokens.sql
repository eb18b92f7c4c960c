-- name: CreateToken :exec
INSERT INTO api_tokens (id, hash, user_name, role, group_names, created_at, expires_at)
VALUES (sqlc.arg(id), sqlc.arg(hash), sqlc.arg(user_name), sqlc.arg(role), sqlc.arg(group_names), sqlc.arg(created_at), sqlc.narg(expires_at));

-- name: TokenByHash :one
-- Tokens are read without their hash, which is read only to authenticate.
SELECT id, user_name, role, group_names, created_at, expires_at, revoked_at, revoked_by, revoke_reason
FROM api_tokens WHERE hash = sqlc.arg(hash);

-- name: CountTokens :one
SELECT count(*) FROM api_tokens;

-- name: ListTokens :many
SELECT id, user_name, role, group_names, created_at, expires_at, revoked_at, revoked_by, revoke_reason
FROM api_tokens ORDER BY created_at, id;

-- name: LockToken :one
-- The token's row stays locked to the end of the transaction, so of two
-- revocations at once the second sees the first.
SELECT id, user_name, role, group_names, created_at, expires_at, revoked_at, revoked_by, revoke_reason
FROM api_tokens WHERE id = sqlc.arg(id) FOR UPDATE;

-- name: RevokeToken :exec
UPDATE api_tokens SET revoked_at = sqlc.arg(revoked_at), revoked_by = sqlc.arg(revoked_by), revoke_reason = sqlc.arg(revoke_reason)
WHERE id = sqlc.arg(id);
