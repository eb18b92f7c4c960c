-- name: AddToBatch :exec
-- Counts a newly stored document into its batch, writing the batch's row
-- with its first document; in CreateDocument's transaction.
INSERT INTO batches (name, documents, first_submitted_at, last_submitted_at)
VALUES (sqlc.arg(name), 1, sqlc.arg(at), sqlc.arg(at))
ON CONFLICT (name) DO UPDATE SET documents = batches.documents + 1,
    last_submitted_at = CASE WHEN excluded.last_submitted_at > batches.last_submitted_at
        THEN excluded.last_submitted_at ELSE batches.last_submitted_at END;

-- name: GetBatch :one
SELECT * FROM batches WHERE name = sqlc.arg(name);

-- name: BatchCounts :many
-- A batch's documents by status and by the outcome of their route (empty
-- before they are routed).
SELECT status, CAST(COALESCE(json_extract(route, '$.outcome'), '') AS text) AS route, count(*) AS documents
FROM documents
WHERE batch = sqlc.arg(batch)
GROUP BY status, COALESCE(json_extract(route, '$.outcome'), '');

-- name: BatchOpenReviews :one
-- The pending reviews of a batch's documents.
SELECT count(*) FROM reviews r JOIN documents d ON d.id = r.document_id
WHERE d.batch = sqlc.arg(batch) AND r.status = 'pending';

-- name: ListBatches :many
-- A page of batches, the most recently begun first, each with how many of
-- its documents are not final yet.
SELECT b.name, b.documents, b.completed_documents, b.first_submitted_at, b.last_submitted_at,
    (SELECT count(*) FROM documents d
     WHERE d.batch = b.name AND d.status NOT IN ('accepted', 'rejected', 'failed')) AS unfinished
FROM batches b
WHERE (b.first_submitted_at, b.name) < (sqlc.arg(before_at), sqlc.arg(before_name))
ORDER BY b.first_submitted_at DESC, b.name DESC
LIMIT sqlc.arg(page_size);

-- name: CompletableBatches :many
-- Batches with documents they have not completed with, none of which is
-- unfinished: only these are listed, so that open batches that stay
-- unfinished never crowd out one that can complete.
SELECT b.name, b.documents FROM batches b
WHERE b.documents > b.completed_documents
    AND NOT EXISTS (SELECT 1 FROM documents d
        WHERE d.batch = b.name AND d.status NOT IN ('accepted', 'rejected', 'failed'))
ORDER BY b.name
LIMIT sqlc.arg(page_size);

-- name: UnfinishedInBatch :one
SELECT count(*) FROM documents
WHERE batch = sqlc.arg(batch) AND status NOT IN ('accepted', 'rejected', 'failed');

-- name: MarkBatchCompleted :execrows
-- Records that a batch completed with the documents it had when the caller
-- counted them; if a document was added since, nothing changes.
UPDATE batches SET completed_documents = documents
WHERE name = sqlc.arg(name) AND documents = sqlc.arg(documents) AND completed_documents < documents;

-- name: InsertBatchCompletion :exec
INSERT INTO batch_completions (batch, documents, completed_at)
VALUES (sqlc.arg(batch), sqlc.arg(documents), sqlc.arg(completed_at))
ON CONFLICT (batch, documents) DO NOTHING;

-- name: BatchCompletions :many
SELECT * FROM batch_completions WHERE batch = sqlc.arg(batch) ORDER BY documents;

-- name: UndeliveredBatchCompletions :many
-- Completions whose webhook is neither delivered nor given up on, and
-- that no worker holds: the oldest first.
SELECT batch, documents FROM batch_completions
WHERE delivered_at IS NULL AND error = ''
    AND (lease_until IS NULL OR lease_until <= sqlc.arg(now))
ORDER BY completed_at, batch, documents
LIMIT sqlc.arg(page_size);

-- name: TakeBatchDelivery :one
-- Takes a completion's delivery until lease_until, counting the attempt,
-- provided no other worker took it meanwhile: of two, one gets the row.
UPDATE batch_completions SET lease_until = sqlc.arg(lease_until), attempts = attempts + 1
WHERE batch = sqlc.arg(batch) AND documents = sqlc.arg(documents)
    AND delivered_at IS NULL AND error = ''
    AND (lease_until IS NULL OR lease_until <= sqlc.arg(now))
RETURNING *;

-- name: FinishBatchDelivery :exec
-- Ends a completion's delivery: delivered at delivered_at, or given up on
-- with error (delivered_at NULL). A delivery recorded as made stays so.
UPDATE batch_completions SET delivered_at = sqlc.narg(delivered_at), status = sqlc.arg(status),
    error = sqlc.arg(error), lease_until = NULL
WHERE batch = sqlc.arg(batch) AND documents = sqlc.arg(documents) AND delivered_at IS NULL;
