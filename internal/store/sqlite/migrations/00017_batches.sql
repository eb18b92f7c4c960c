-- +goose Up
-- Batches: a submission may name one (a data room, a day's alerts). Empty
-- is no batch. The index serves a batch's progress (its documents by
-- status), the look for batches that can complete and the export of one
-- batch. It is not partial (WHERE batch <> ''): a query naming a batch by
-- parameter does not imply that condition, so neither planner would use it.
ALTER TABLE documents ADD COLUMN batch text NOT NULL DEFAULT '';
CREATE INDEX documents_batch_idx ON documents (batch, status);

-- A batch's row is written with the first of its documents and counted up
-- with every new one, in the same transaction (CreateDocument). A batch
-- whose documents outnumber those it last completed with is open: the
-- reconciler looks at open batches only, and records a completion when
-- every document of one is final (CompleteBatches). The count is what
-- makes that safe against a document arriving meanwhile: the completion
-- is recorded only if the count it read still stands.
CREATE TABLE batches (
    name                text NOT NULL,
    documents           integer NOT NULL,
    completed_documents integer NOT NULL DEFAULT 0,
    first_submitted_at  text NOT NULL,
    last_submitted_at   text NOT NULL,
    CONSTRAINT batches_pkey PRIMARY KEY (name),
    CONSTRAINT batches_completed_check CHECK (completed_documents <= documents)
) STRICT;
CREATE INDEX batches_open_idx ON batches (name) WHERE documents > completed_documents;
CREATE INDEX batches_first_submitted_idx ON batches (first_submitted_at, name);

-- One row per time a batch completed: with as many documents as it had
-- then (a batch that receives more documents later completes again, with
-- more). It is the durable record that its batch.completed webhook is sent
-- once: the worker that takes a delivery holds it until lease_until, and
-- delivered_at (or error, once the attempts are spent) ends it.
CREATE TABLE batch_completions (
    batch        text NOT NULL,
    documents    integer NOT NULL,
    completed_at text NOT NULL,
    attempts     integer NOT NULL DEFAULT 0,
    lease_until  text,
    delivered_at text,
    status       integer NOT NULL DEFAULT 0,
    error        text NOT NULL DEFAULT '',
    CONSTRAINT batch_completions_pkey PRIMARY KEY (batch, documents),
    CONSTRAINT batch_completions_batch_fkey FOREIGN KEY (batch) REFERENCES batches (name)
) STRICT;
CREATE INDEX batch_completions_undelivered_idx ON batch_completions (completed_at, batch, documents)
    WHERE delivered_at IS NULL AND error = '';

-- +goose Down
DROP TABLE batch_completions;
DROP TABLE batches;
DROP INDEX documents_batch_idx;
ALTER TABLE documents DROP COLUMN batch;
