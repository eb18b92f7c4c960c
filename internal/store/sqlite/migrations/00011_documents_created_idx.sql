-- +goose Up
-- Documents in creation order, for scans of every document (audit verify,
-- exports without a task type): without it each batch of a scan sorted the
-- whole table, so a scan took time in the square of the documents.
CREATE INDEX documents_created_id_idx ON documents (created_at, id);

-- +goose Down
DROP INDEX documents_created_id_idx;
