-- name: OpenReview :exec
INSERT INTO reviews (id, document_id, task_type, kind, status, created_at, due_at, confidence, reasons)
VALUES (sqlc.arg(id), sqlc.arg(document_id), sqlc.arg(task_type), sqlc.arg(kind), 'pending',
    sqlc.arg(created_at), sqlc.arg(due_at), sqlc.arg(confidence), sqlc.arg(reasons))
ON CONFLICT (id) DO NOTHING;

-- name: GetReview :one
SELECT * FROM reviews WHERE id = sqlc.arg(id);

-- name: ListReviews :many
-- A page of reviews in creation order; the filter marker is where the store
-- puts the conditions of the review filter and its cursor
-- (store.ReviewConditions).
SELECT * FROM reviews
WHERE /* filter */ TRUE
ORDER BY created_at, id
LIMIT sqlc.arg(page_size);

-- name: ListReviewsByDue :many
-- A page of reviews the soonest due first, then the least confident, then
-- in creation order: the review queue's order (countersign.ReviewsByDue).
SELECT * FROM reviews
WHERE /* filter */ TRUE
ORDER BY due_at, confidence, created_at, id
LIMIT sqlc.arg(page_size);

-- name: ReviewsForDocument :many
SELECT * FROM reviews WHERE document_id = sqlc.arg(document_id) ORDER BY created_at, id;

-- name: CloseReview :exec
-- Closes a pending review with the decision that settled it.
UPDATE reviews SET status = 'closed', closed_at = sqlc.arg(closed_at), outcome = sqlc.arg(outcome), closed_by = sqlc.arg(closed_by)
WHERE id = sqlc.arg(id) AND status = 'pending';

-- name: CloseReviews :exec
-- Closes a document's pending reviews without a decision.
UPDATE reviews SET status = 'closed', closed_at = sqlc.arg(closed_at), closed_by = sqlc.arg(closed_by)
WHERE document_id = sqlc.arg(document_id) AND status = 'pending';
