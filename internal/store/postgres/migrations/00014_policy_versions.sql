-- +goose Up
-- Threshold certificates (countersign policy certify) and the policy
-- versions approvers put in force without a restart (policy apply, policy
-- set). Each is numbered within its task type by the store; the row keeps
-- the whole countersign.Certificate or countersign.PolicyVersion as JSON,
-- the other columns are copies of its parts, kept to look it up. Neither is
-- changed once stored. Two stores numbering the same task type at once
-- collide on the (task_type, number) key, and the loser numbers again.
CREATE TABLE certificates (
    id          text        NOT NULL,
    task_type   text        NOT NULL,
    number      integer     NOT NULL,
    created_at  timestamptz NOT NULL,
    certificate jsonb       NOT NULL,
    CONSTRAINT certificates_pkey PRIMARY KEY (id),
    CONSTRAINT certificates_task_type_number_key UNIQUE (task_type, number),
    CONSTRAINT certificates_number_check CHECK (number > 0)
);

-- The newest version of a task type is the one in force.
CREATE TABLE policy_versions (
    id         text        NOT NULL,
    task_type  text        NOT NULL,
    number     integer     NOT NULL,
    created_at timestamptz NOT NULL,
    version    jsonb       NOT NULL,
    CONSTRAINT policy_versions_pkey PRIMARY KEY (id),
    CONSTRAINT policy_versions_task_type_number_key UNIQUE (task_type, number),
    CONSTRAINT policy_versions_number_check CHECK (number > 0)
);

-- +goose Down
DROP TABLE policy_versions;
DROP TABLE certificates;
