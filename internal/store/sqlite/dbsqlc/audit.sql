-- name: AuditEvent :one
-- An append runs AuditEvent, AuditHead and AppendAudit in one transaction
-- on the single write connection (the store's audit.go).
SELECT * FROM audit_events WHERE id = sqlc.arg(id);

-- name: AuditHead :one
SELECT * FROM audit_events ORDER BY seq DESC LIMIT 1;

-- name: AppendAudit :exec
INSERT INTO audit_events (seq, id, document_id, type, actor, channel, at, data, prev_hash, hash, trace_id)
VALUES (sqlc.arg(seq), sqlc.arg(id), sqlc.arg(document_id), sqlc.arg(type), sqlc.arg(actor), sqlc.arg(channel),
    sqlc.arg(at), sqlc.arg(data), sqlc.arg(prev_hash), sqlc.arg(hash), sqlc.arg(trace_id));

-- name: DocumentAudit :many
-- A document's events in chain order.
SELECT * FROM audit_events WHERE document_id = sqlc.arg(document_id) ORDER BY seq;

-- name: AuditOfDocuments :many
-- A batch of documents' events, for audit verification.
SELECT * FROM audit_events WHERE document_id IN (sqlc.slice(document_ids)) ORDER BY seq;

-- name: AuditOfDocumentsOfTypes :many
SELECT * FROM audit_events
WHERE document_id IN (sqlc.slice(document_ids)) AND type IN (sqlc.slice(types))
ORDER BY seq;

-- name: ScanAudit :many
SELECT * FROM audit_events WHERE seq > sqlc.arg(after) ORDER BY seq LIMIT sqlc.arg(page_size);
