-- name: AddGold :exec
INSERT INTO gold_documents (document_id, task_type, item, answer, reject, trigger_review, created_at)
VALUES (sqlc.arg(document_id), sqlc.arg(task_type), sqlc.arg(item), sqlc.arg(answer), sqlc.arg(reject), sqlc.arg(trigger_review), sqlc.arg(created_at))
ON CONFLICT (document_id) DO NOTHING;

-- name: GetGold :one
SELECT * FROM gold_documents WHERE document_id = sqlc.arg(document_id);
