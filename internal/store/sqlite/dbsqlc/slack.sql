-- name: LinkSlackUser :exec
INSERT INTO slack_users (slack_user_id, user_name, role, group_names, linked_by, linked_at)
VALUES (sqlc.arg(slack_user_id), sqlc.arg(user_name), sqlc.arg(role), sqlc.arg(group_names), sqlc.arg(linked_by), sqlc.arg(linked_at))
ON CONFLICT (slack_user_id) DO UPDATE SET user_name = excluded.user_name, role = excluded.role,
    group_names = excluded.group_names, linked_by = excluded.linked_by, linked_at = excluded.linked_at;

-- name: SlackUser :one
SELECT * FROM slack_users WHERE slack_user_id = sqlc.arg(slack_user_id);

-- name: SlackUsers :many
SELECT * FROM slack_users ORDER BY slack_user_id;

-- name: UnlinkSlackUser :one
DELETE FROM slack_users WHERE slack_user_id = sqlc.arg(slack_user_id) RETURNING *;

-- name: ForgetSlackRequests :exec
-- A request is remembered by ForgetSlackRequests and RememberSlackRequest
-- in one transaction: once the expired records are gone, a key still
-- recorded is one that has not expired, and the insert changes no row. (The
-- Postgres store's upsert, which compares the expiry itself, cannot be
-- written here: sqlc does not bind a parameter in an upsert's WHERE.)
DELETE FROM slack_requests WHERE expires_at <= sqlc.arg(now);

-- name: RememberSlackRequest :execrows
INSERT INTO slack_requests (request_key, expires_at) VALUES (sqlc.arg(request_key), sqlc.arg(expires_at))
ON CONFLICT (request_key) DO NOTHING;
