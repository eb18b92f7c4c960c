-- name: LockSlackUser :one
-- The account's row stays locked to the end of the transaction, so of two
-- links at once the second sees the first.
SELECT * FROM slack_users WHERE slack_user_id = sqlc.arg(slack_user_id) FOR UPDATE;

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
DELETE FROM slack_requests WHERE expires_at <= sqlc.arg(now);

-- name: RememberSlackRequest :execrows
-- A key already recorded counts again only once its record has expired:
-- the upsert changes no row otherwise, and the primary key makes one of two
-- inserts at once wait for the other and see it.
INSERT INTO slack_requests (request_key, expires_at) VALUES (sqlc.arg(request_key), sqlc.arg(expires_at))
ON CONFLICT (request_key) DO UPDATE SET expires_at = excluded.expires_at
WHERE slack_requests.expires_at <= sqlc.arg(now);
