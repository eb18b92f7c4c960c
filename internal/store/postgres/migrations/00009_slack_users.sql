-- +goose Up
-- Slack accounts linked to countersign users: a click or command from
-- slack_user_id acts as user_name with role and group_names (a JSON array of
-- reviewer groups). An account without a row can do nothing.
CREATE TABLE slack_users (
    slack_user_id text        NOT NULL,
    user_name     text        NOT NULL,
    role          text        NOT NULL,
    group_names   jsonb       NOT NULL DEFAULT '[]',
    linked_by     text        NOT NULL,
    linked_at     timestamptz NOT NULL,
    CONSTRAINT slack_users_pkey PRIMARY KEY (slack_user_id),
    CONSTRAINT slack_users_role_check CHECK (role IN ('submitter', 'reviewer', 'approver', 'auditor', 'admin'))
);

-- +goose Down
DROP TABLE slack_users;
