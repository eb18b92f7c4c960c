-- +goose Up
-- Documents that are gold items: known-answer documents slipped into the
-- review queue to measure reviewers. answer is the countersign.Fields a
-- correct review ends with; reject says the right decision is to reject.
-- trigger_review is the review after whose opening it was slipped in.
CREATE TABLE gold_documents (
    document_id text        NOT NULL,
    task_type   text        NOT NULL,
    item        text        NOT NULL,
    answer      jsonb       NOT NULL DEFAULT '{}',
    reject      boolean     NOT NULL DEFAULT false,
    trigger_review text     NOT NULL,
    created_at  timestamptz NOT NULL,
    CONSTRAINT gold_documents_pkey PRIMARY KEY (document_id),
    CONSTRAINT gold_documents_document_fkey FOREIGN KEY (document_id) REFERENCES documents (id)
);

-- +goose Down
DROP TABLE gold_documents;
