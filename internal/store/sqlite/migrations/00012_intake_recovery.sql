-- +goose Up
-- The channel a document was submitted through, so that a review the
-- reconciler starts after intake stopped short receives the document as
-- intake would have. Documents stored before have none.
ALTER TABLE documents ADD COLUMN channel text NOT NULL DEFAULT '';
-- The documents in processing, oldest first: where the reconciler looks for
-- documents stored without a review workflow. Partial, so it holds only the
-- documents in flight.
CREATE INDEX documents_processing_idx ON documents (created_at, id) WHERE status = 'processing';

-- +goose Down
DROP INDEX documents_processing_idx;
ALTER TABLE documents DROP COLUMN channel;
