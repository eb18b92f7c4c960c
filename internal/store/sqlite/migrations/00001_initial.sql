-- +goose Up
-- Times are text in audit.TimeLayout (UTC, microseconds), which sorts as time does.
CREATE TABLE documents (
    id                text NOT NULL,
    task_type         text NOT NULL,
    task_type_version text NOT NULL,
    external_id       text NOT NULL DEFAULT '',
    content           text NOT NULL,
    content_sha256    text NOT NULL,
    metadata          text NOT NULL DEFAULT '{}',
    status            text NOT NULL,
    submitted_by      text NOT NULL,
    created_at        text NOT NULL,
    updated_at        text NOT NULL,
    draft             text,
    confidence        text,
    route             text,
    final             text,
    CONSTRAINT documents_pkey PRIMARY KEY (id),
    CONSTRAINT documents_status_check
        CHECK (status IN ('processing', 'awaiting_review', 'accepted', 'rejected', 'failed'))
) STRICT;
CREATE INDEX documents_task_type_created_idx ON documents (task_type, created_at);

CREATE TABLE reviews (
    id          text NOT NULL,
    document_id text NOT NULL,
    task_type   text NOT NULL,
    status      text NOT NULL,
    created_at  text NOT NULL,
    due_at      text NOT NULL,
    closed_at   text,
    confidence  real NOT NULL,
    reasons     text NOT NULL DEFAULT '[]',
    outcome     text NOT NULL DEFAULT '',
    closed_by   text NOT NULL DEFAULT '',
    CONSTRAINT reviews_pkey PRIMARY KEY (id),
    CONSTRAINT reviews_document_fkey FOREIGN KEY (document_id) REFERENCES documents (id),
    CONSTRAINT reviews_status_check CHECK (status IN ('pending', 'closed'))
) STRICT;
CREATE INDEX reviews_status_created_idx ON reviews (status, created_at, id);
CREATE INDEX reviews_document_idx ON reviews (document_id, created_at);

CREATE TABLE decisions (
    id          text NOT NULL,
    review_id   text NOT NULL,
    document_id text NOT NULL,
    action      text NOT NULL,
    fields      text,
    reason      text NOT NULL DEFAULT '',
    actor       text NOT NULL,
    role        text NOT NULL,
    channel     text NOT NULL,
    at          text NOT NULL,
    CONSTRAINT decisions_pkey PRIMARY KEY (id),
    CONSTRAINT decisions_review_fkey FOREIGN KEY (review_id) REFERENCES reviews (id),
    CONSTRAINT decisions_document_fkey FOREIGN KEY (document_id) REFERENCES documents (id),
    CONSTRAINT decisions_action_check CHECK (action IN ('approve', 'correct', 'reject'))
) STRICT;
CREATE INDEX decisions_document_idx ON decisions (document_id, at);

-- The audit chain. data is the canonical JSON exactly as hashed.
CREATE TABLE audit_events (
    seq         integer NOT NULL,
    id          text    NOT NULL,
    document_id text    NOT NULL DEFAULT '',
    type        text    NOT NULL,
    actor       text    NOT NULL,
    channel     text    NOT NULL,
    at          text    NOT NULL,
    data        text    NOT NULL,
    prev_hash   text    NOT NULL,
    hash        text    NOT NULL,
    trace_id    text    NOT NULL DEFAULT '',
    CONSTRAINT audit_events_pkey PRIMARY KEY (seq),
    CONSTRAINT audit_events_id_key UNIQUE (id),
    CONSTRAINT audit_events_seq_check CHECK (seq > 0)
) STRICT;
CREATE INDEX audit_events_document_idx ON audit_events (document_id, seq);

CREATE TABLE task_types (
    version    text NOT NULL,
    name       text NOT NULL,
    source     blob NOT NULL,
    created_at text NOT NULL,
    CONSTRAINT task_types_pkey PRIMARY KEY (version)
) STRICT;

CREATE TABLE api_tokens (
    id         text NOT NULL,
    hash       text NOT NULL,
    user_name  text NOT NULL,
    role       text NOT NULL,
    created_at text NOT NULL,
    expires_at text,
    CONSTRAINT api_tokens_pkey PRIMARY KEY (id),
    CONSTRAINT api_tokens_hash_key UNIQUE (hash),
    CONSTRAINT api_tokens_role_check CHECK (role IN ('submitter', 'reviewer', 'approver', 'auditor', 'admin'))
) STRICT;

-- +goose Down
DROP TABLE api_tokens;
DROP TABLE task_types;
DROP TABLE audit_events;
DROP TABLE decisions;
DROP TABLE reviews;
DROP TABLE documents;
