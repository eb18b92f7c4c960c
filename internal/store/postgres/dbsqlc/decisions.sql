-- name: RecordDecision :execrows
INSERT INTO decisions (id, review_id, document_id, action, fields, reason, actor, role, channel, at)
VALUES (sqlc.arg(id), sqlc.arg(review_id), sqlc.arg(document_id), sqlc.arg(action), sqlc.narg(fields),
    sqlc.arg(reason), sqlc.arg(actor), sqlc.arg(role), sqlc.arg(channel), sqlc.arg(at))
ON CONFLICT (id) DO NOTHING;

-- name: Decisions :many
SELECT * FROM decisions WHERE document_id = sqlc.arg(document_id) ORDER BY at, id;

-- name: DecisionsOfDocuments :many
-- A batch of documents' decisions, for audit verification.
SELECT * FROM decisions WHERE document_id = ANY(sqlc.arg(document_ids)::text[])
ORDER BY document_id, at, id;
