-- +goose Up
-- The reviewer groups of a token's holder, as a JSON array of names.
ALTER TABLE api_tokens ADD COLUMN group_names text NOT NULL DEFAULT '[]';

-- +goose Down
ALTER TABLE api_tokens DROP COLUMN group_names;
