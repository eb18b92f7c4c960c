-- +goose Up
-- Documents that are gold items: known-answer documents slipped into the
-- review queue to measure reviewers. answer is the countersign.Fields a
-- correct review ends with, as JSON; reject (0 or 1) says the right decision
-- is to reject. trigger_review is the review after whose opening it was slipped in.
CREATE TABLE gold_documents (
    document_id text    NOT NULL,
    task_type   text    NOT NULL,
    item        text    NOT NULL,
    answer      text    NOT NULL DEFAULT '{}',
    reject      integer NOT NULL DEFAULT 0,
    trigger_review text NOT NULL,
    created_at  text    NOT NULL,
    CONSTRAINT gold_documents_pkey PRIMARY KEY (document_id),
    CONSTRAINT gold_documents_document_fkey FOREIGN KEY (document_id) REFERENCES documents (id),
    CONSTRAINT gold_documents_reject_check CHECK (reject IN (0, 1))
) STRICT;

-- +goose Down
DROP TABLE gold_documents;
