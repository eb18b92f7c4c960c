-- +goose Up
-- Signed Slack requests already received, so that one sent again is refused
-- on every API replica and after a restart: request_key is a digest of what
-- Slack signed, expires_at when the signature's timestamp can no longer pass
-- the window check, after which the row may go.
CREATE TABLE slack_requests (
    request_key text        NOT NULL,
    expires_at  timestamptz NOT NULL,
    CONSTRAINT slack_requests_pkey PRIMARY KEY (request_key)
);
CREATE INDEX slack_requests_expires_at_idx ON slack_requests (expires_at);

-- +goose Down
DROP TABLE slack_requests;
