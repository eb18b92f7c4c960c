-- name: CreateDocument :execrows
-- A document whose ID is stored already stays as it is: the caller reads it
-- back and compares content hashes to tell a resubmission from a clash. A
-- draft is stored with it only when it was pre-labelled (submitted with a
-- draft made elsewhere).
INSERT INTO documents (id, task_type, task_type_version, external_id, content, content_sha256, metadata,
    status, submitted_by, created_at, updated_at, channel, batch, draft, original_sha256)
VALUES (sqlc.arg(id), sqlc.arg(task_type), sqlc.arg(task_type_version), sqlc.arg(external_id),
    sqlc.arg(content), sqlc.arg(content_sha256), sqlc.arg(metadata), sqlc.arg(status),
    sqlc.arg(submitted_by), sqlc.arg(created_at), sqlc.arg(created_at), sqlc.arg(channel), sqlc.arg(batch),
    sqlc.narg(draft), sqlc.arg(original_sha256))
ON CONFLICT (id) DO NOTHING;

-- name: GetDocument :one
SELECT * FROM documents WHERE id = sqlc.arg(id);

-- name: UpdateDocument :execrows
-- Sets the parts given; a NULL argument leaves its column as it is (no part
-- is ever set back to NULL).
UPDATE documents SET
    status = COALESCE(sqlc.narg(status), status),
    draft = COALESCE(sqlc.narg(draft), draft),
    confidence = COALESCE(sqlc.narg(confidence), confidence),
    route = COALESCE(sqlc.narg(route), route),
    final = COALESCE(sqlc.narg(final), final),
    updated_at = sqlc.arg(updated_at)
WHERE id = sqlc.arg(id);

-- name: ScanDocuments :many
-- A page of a document scan, oldest first, gold documents left out. The
-- filter marker is where the store puts the conditions of the scan's filter
-- and the place the page starts after (store.DocumentConditions).
SELECT * FROM documents
WHERE id NOT IN (SELECT document_id FROM gold_documents)
    AND /* filter */ TRUE
ORDER BY created_at, id
LIMIT sqlc.arg(page_size);

-- name: ScanGoldDocuments :many
-- A page of a scan of the gold documents; see ScanDocuments.
SELECT * FROM documents
WHERE id IN (SELECT document_id FROM gold_documents)
    AND /* filter */ TRUE
ORDER BY created_at, id
LIMIT sqlc.arg(page_size);

-- name: DocumentLabels :many
-- What names documents to people (a list of them, the review queue): their
-- external IDs and metadata, without their bodies.
SELECT id, external_id, metadata FROM documents WHERE id IN (sqlc.slice(ids));

-- name: MarkDelivered :one
-- Sets the final record's delivered_at, unless it has one: of two runs of
-- one delivery the first to store its time wins, and neither overwrites
-- it. No row when the document is unknown, has no final record, or was
-- delivered already.
UPDATE documents SET
    final = json_set(final, '$.delivered_at', json(CAST(sqlc.arg(delivered_at) AS TEXT))),
    updated_at = sqlc.arg(updated_at)
WHERE id = sqlc.arg(id) AND json_type(final) = 'object'
    AND json_extract(final, '$.delivered_at') IS NULL
RETURNING *;
