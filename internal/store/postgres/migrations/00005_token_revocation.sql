-- +goose Up
-- A token stays in the table once revoked, so that the list shows who
-- revoked it, when and why; revoked_at is NULL while the token is valid.
ALTER TABLE api_tokens
    ADD COLUMN revoked_at    timestamptz,
    ADD COLUMN revoked_by    text NOT NULL DEFAULT '',
    ADD COLUMN revoke_reason text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE api_tokens
    DROP COLUMN revoke_reason,
    DROP COLUMN revoked_by,
    DROP COLUMN revoked_at;
