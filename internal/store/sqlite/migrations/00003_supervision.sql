-- +goose Up
-- A review is either the human gate or a post-hoc audit of an auto-accepted
-- document; every review opened before audits existed was a gate. The audit
-- queue and the review queue are listed apart, hence the index led by kind.
ALTER TABLE reviews ADD COLUMN kind text NOT NULL DEFAULT 'review'
    CONSTRAINT reviews_kind_check CHECK (kind IN ('review', 'audit', 'veto'));
CREATE INDEX reviews_kind_status_created_idx ON reviews (kind, status, created_at, id);

-- Every policy override a supervisor put in force. override is the whole
-- countersign.PolicyOverride as JSON; the other columns are copies of its
-- parts, kept to look it up. seq, an alias of the rowid, records the
-- insertion order, which breaks ties between equal times.
CREATE TABLE policy_overrides (
    seq          integer NOT NULL,
    id           text    NOT NULL,
    task_type    text    NOT NULL,
    at           text    NOT NULL,
    reset_by     text    NOT NULL DEFAULT '',
    reset_at     text,
    reset_reason text    NOT NULL DEFAULT '',
    override     text    NOT NULL,
    CONSTRAINT policy_overrides_pkey PRIMARY KEY (seq),
    CONSTRAINT policy_overrides_id_key UNIQUE (id)
) STRICT;
-- A task type has at most one override in force: one not reset.
CREATE UNIQUE INDEX policy_overrides_in_force_key ON policy_overrides (task_type) WHERE reset_at IS NULL;
CREATE INDEX policy_overrides_task_type_at_idx ON policy_overrides (task_type, at, seq);

-- How many documents each audit sampling stratum has drawn.
CREATE TABLE audit_strata (
    stratum text    NOT NULL,
    drawn   integer NOT NULL,
    CONSTRAINT audit_strata_pkey PRIMARY KEY (stratum),
    CONSTRAINT audit_strata_drawn_check CHECK (drawn > 0)
) STRICT;

-- Every document drawn for audit sampling, once, numbered within the
-- stratum it was first drawn in.
CREATE TABLE audit_draws (
    document_id text    NOT NULL,
    stratum     text    NOT NULL,
    number      integer NOT NULL,
    CONSTRAINT audit_draws_pkey PRIMARY KEY (document_id),
    CONSTRAINT audit_draws_stratum_number_key UNIQUE (stratum, number),
    CONSTRAINT audit_draws_number_check CHECK (number > 0)
) STRICT;

-- +goose Down
DROP TABLE audit_draws;
DROP TABLE audit_strata;
DROP TABLE policy_overrides;
DROP INDEX reviews_kind_status_created_idx;
ALTER TABLE reviews DROP COLUMN kind;
