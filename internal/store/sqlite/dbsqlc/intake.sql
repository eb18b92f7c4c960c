-- name: UnstartedDocuments :many
-- Documents still processing, stored before stored_before, that no review
-- workflow has recorded receiving: no event of theirs but a recovery.
SELECT d.id FROM documents d INDEXED BY documents_processing_idx
WHERE d.status = 'processing' AND d.created_at < sqlc.arg(stored_before)
    AND NOT EXISTS (SELECT 1 FROM audit_events e WHERE e.document_id = d.id AND e.type <> sqlc.arg(recovered))
ORDER BY d.created_at, d.id
LIMIT sqlc.arg(page_size);
