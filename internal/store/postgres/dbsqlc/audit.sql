-- name: DocumentAudit :many
-- A document's events in chain order. (Appends are written out in the
-- store's audit.go: they send the chain's lock and the read of its head in
-- one round trip, which a function of this package, a statement at a time,
-- cannot do.)
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
