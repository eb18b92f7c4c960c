-- name: LastCertificateNumber :one
SELECT COALESCE(MAX(number), 0)::integer FROM certificates WHERE task_type = sqlc.arg(task_type);

-- name: PutCertificate :execrows
-- Of two stores taking the same number at once, the (task_type, number) key
-- lets one in and the other's insert does nothing.
INSERT INTO certificates (id, task_type, number, created_at, certificate)
VALUES (sqlc.arg(id), sqlc.arg(task_type), sqlc.arg(number), sqlc.arg(created_at), sqlc.arg(certificate))
ON CONFLICT DO NOTHING;

-- name: Certificate :one
SELECT certificate FROM certificates WHERE id = sqlc.arg(id);

-- name: Certificates :many
SELECT certificate FROM certificates WHERE task_type = sqlc.arg(task_type) ORDER BY number DESC;

-- name: NewestPolicyVersion :one
SELECT id, number FROM policy_versions WHERE task_type = sqlc.arg(task_type) ORDER BY number DESC LIMIT 1;

-- name: PutPolicyVersion :execrows
-- As PutCertificate.
INSERT INTO policy_versions (id, task_type, number, created_at, version)
VALUES (sqlc.arg(id), sqlc.arg(task_type), sqlc.arg(number), sqlc.arg(created_at), sqlc.arg(version))
ON CONFLICT DO NOTHING;

-- name: PolicyVersion :one
SELECT version FROM policy_versions WHERE id = sqlc.arg(id);

-- name: PolicyInForce :one
SELECT version FROM policy_versions WHERE task_type = sqlc.arg(task_type) ORDER BY number DESC LIMIT 1;

-- name: PolicyVersions :many
SELECT version FROM policy_versions WHERE task_type = sqlc.arg(task_type) ORDER BY number DESC;
