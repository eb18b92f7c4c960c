-- name: PutOriginal :exec
-- An original is stored once: the same file submitted again (for another
-- document, or resubmitted) keeps the row written first.
INSERT INTO originals (sha256, content_type, size, data, layout, created_at)
VALUES (sqlc.arg(sha256), sqlc.arg(content_type), sqlc.arg(size), sqlc.arg(data), sqlc.narg(layout), sqlc.arg(created_at))
ON CONFLICT (sha256) DO NOTHING;

-- name: GetOriginal :one
SELECT sha256, content_type, size, data, layout FROM originals WHERE sha256 = sqlc.arg(sha256);

-- name: GetOriginalLayout :one
-- An original's description and layout, without the file.
SELECT sha256, content_type, size, layout FROM originals WHERE sha256 = sqlc.arg(sha256);
