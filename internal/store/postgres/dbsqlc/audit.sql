-- Reads of the audit chain. Appends are written out in audit.go: they take
-- the chain's lock and read the head in one round trip, which a generated
-- function, a statement at a time, cannot do.

-- name: DocumentAudit :many
SELECT * FROM audit_events WHERE document_id = sqlc.arg(document_id) ORDER BY seq;

-- name: AuditOfDocuments :many
-- A batch of documents' events, for audit verification.
SELECT * FROM audit_events WHERE document_id = ANY(sqlc.arg(document_ids)::text[]) ORDER BY seq;

-- name: AuditOfDocumentsOfTypes :many
SELECT * FROM audit_events
WHERE document_id = ANY(sqlc.arg(document_ids)::text[]) AND type = ANY(sqlc.arg(types)::text[])
ORDER BY seq;

-- name: ScanAudit :many
SELECT * FROM audit_events WHERE seq > sqlc.arg(after) ORDER BY seq LIMIT sqlc.arg(page_size);
