-- +goose Up
-- A token stays in the table once revoked, so that the list shows who
-- revoked it, when and why; revoked_at is NULL while the token is valid.
ALTER TABLE api_tokens ADD COLUMN revoked_at text;
ALTER TABLE api_tokens ADD COLUMN revoked_by text NOT NULL DEFAULT '';
ALTER TABLE api_tokens ADD COLUMN revoke_reason text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE api_tokens DROP COLUMN revoke_reason;
ALTER TABLE api_tokens DROP COLUMN revoked_by;
ALTER TABLE api_tokens DROP COLUMN revoked_at;
