-- name: LastCertificateNumber :one
-- The store reads the last number and inserts the next in one transaction
-- on the single write connection, here and for policy versions.
SELECT CAST(COALESCE(MAX(number), 0) AS INTEGER) FROM certificates WHERE task_type = sqlc.arg(task_type);

-- name: PutCertificate :exec
INSERT INTO certificates (id, task_type, number, created_at, certificate)
VALUES (sqlc.arg(id), sqlc.arg(task_type), sqlc.arg(number), sqlc.arg(created_at), sqlc.arg(certificate));

-- name: Certificate :one
SELECT certificate FROM certificates WHERE id = sqlc.arg(id);

-- name: Certificates :many
SELECT certificate FROM certificates WHERE task_type = sqlc.arg(task_type) ORDER BY number DESC;

-- name: NewestPolicyVersion :one
SELECT id, number FROM policy_versions WHERE task_type = sqlc.arg(task_type) ORDER BY number DESC LIMIT 1;

-- name: PutPolicyVersion :exec
INSERT INTO policy_versions (id, task_type, number, created_at, version)
VALUES (sqlc.arg(id), sqlc.arg(task_type), sqlc.arg(number), sqlc.arg(created_at), sqlc.arg(version));

-- name: PolicyVersion :one
SELECT version FROM policy_versions WHERE id = sqlc.arg(id);

-- name: PolicyInForce :one
SELECT version FROM policy_versions WHERE task_type = sqlc.arg(task_type) ORDER BY number DESC LIMIT 1;

-- name: PolicyVersions :many
SELECT version FROM policy_versions WHERE task_type = sqlc.arg(task_type) ORDER BY number DESC;
