-- name: OpenReview :exec
INSERT INTO reviews (id, document_id, task_type, kind, status, created_at, due_at, confidence, reasons, blind, risk, rank)
VALUES (sqlc.arg(id), sqlc.arg(document_id), sqlc.arg(task_type), sqlc.arg(kind), 'pending',
    sqlc.arg(created_at), sqlc.arg(due_at), sqlc.arg(confidence), sqlc.arg(reasons), sqlc.arg(blind), sqlc.arg(risk), sqlc.arg(rank))
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

-- name: ListReviewsByRank :many
-- A page of reviews the lowest rank first (countersign.Review.Rank: the
-- least confident, a risk review counted as likelier wrong), then the
-- soonest due, then in creation order: the part of countersign.ReviewsByValue that is not
-- overdue (store.ValuePage). The index is named: the filter holds
-- due_at > now, and without statistics SQLite took reviews_status_due_idx
-- for that range and sorted every review not yet due by rank for each
-- page (15-30 ms at 25,000 open reviews, growing with them; 0.2 ms this
-- way), since the queue's reviews are rarely overdue.
SELECT * FROM reviews INDEXED BY reviews_status_rank_idx
WHERE /* filter */ TRUE
ORDER BY rank, due_at, created_at, id
LIMIT sqlc.arg(page_size);

-- name: ReviewsForDocument :many
SELECT * FROM reviews WHERE document_id = sqlc.arg(document_id) ORDER BY created_at, id;

-- name: CloseReview :exec
-- Closes a pending review with the decision that settled it; its claim,
-- if any, ends with it.
UPDATE reviews SET status = 'closed', closed_at = sqlc.arg(closed_at), outcome = sqlc.arg(outcome), closed_by = sqlc.arg(closed_by),
    claimed_by = '', claimed_until = NULL
WHERE id = sqlc.arg(id) AND status = 'pending';

-- name: CloseReviews :exec
-- Closes a document's pending reviews without a decision.
UPDATE reviews SET status = 'closed', closed_at = sqlc.arg(closed_at), closed_by = sqlc.arg(closed_by),
    claimed_by = '', claimed_until = NULL
WHERE document_id = sqlc.arg(document_id) AND status = 'pending';

-- name: ClaimReview :one
-- Claims a pending review for claimed_by until claimed_until, provided
-- whoever held it when the caller read it (previous, '' for nobody) still
-- does, and that claim is the caller's own, or nobody's, or lapsed by now.
-- One statement: of two callers, one takes it and the other finds no row.
UPDATE reviews SET claimed_by = sqlc.arg(claimed_by), claimed_until = sqlc.arg(claimed_until)
WHERE id = sqlc.arg(id) AND status = 'pending' AND claimed_by = sqlc.arg(previous)
    AND (claimed_by = '' OR claimed_by = sqlc.arg(claimed_by) OR claimed_until <= sqlc.arg(now))
RETURNING *;

-- name: ReleaseClaim :one
-- Releases the claim holder has on a pending review.
UPDATE reviews SET claimed_by = '', claimed_until = NULL
WHERE id = sqlc.arg(id) AND status = 'pending' AND claimed_by = sqlc.arg(holder)
RETURNING *;

-- name: HeldReviews :many
-- The pending reviews a person holds a live claim on and may still take,
-- the soonest due first: not of a document they submitted, nor one they
-- decided since they claimed it. (claimed_by <> '' lets the partial index
-- serve it.)
SELECT * FROM reviews
WHERE claimed_by = sqlc.arg(holder) AND claimed_by <> '' AND claimed_until > sqlc.arg(now) AND status = 'pending'
    AND NOT EXISTS (SELECT 1 FROM documents d WHERE d.id = reviews.document_id AND d.submitted_by = sqlc.arg(holder))
    AND NOT EXISTS (SELECT 1 FROM decisions x WHERE x.document_id = reviews.document_id AND x.review_id = reviews.id AND x.actor = sqlc.arg(holder))
ORDER BY due_at, confidence, created_at, id
LIMIT sqlc.arg(page_size);

-- name: OverdueCandidates :many
-- The overdue pending reviews a person may claim, the most overdue first:
-- nobody's, or whose claim lapsed by now; not of a document they
-- submitted, nor one they decided already. The filter marker takes the
-- task types and kind (store.ReviewConditions).
SELECT * FROM reviews
WHERE /* filter */ TRUE
    AND due_at <= sqlc.arg(now)
    AND (claimed_by = '' OR claimed_until <= sqlc.arg(now))
    AND NOT EXISTS (SELECT 1 FROM documents d WHERE d.id = reviews.document_id AND d.submitted_by = sqlc.arg(person))
    AND NOT EXISTS (SELECT 1 FROM decisions x WHERE x.document_id = reviews.document_id AND x.review_id = reviews.id AND x.actor = sqlc.arg(person))
ORDER BY due_at, confidence, created_at, id
LIMIT sqlc.arg(page_size);

-- name: AssignedCandidates :many
-- The pending reviews assigned to a person that they may claim, the
-- soonest due first: nobody's, or whose claim lapsed by now; not of a
-- document they submitted, nor one they decided already. The filter
-- marker takes the task types and kind (store.ReviewConditions).
SELECT * FROM reviews
WHERE /* filter */ TRUE
    AND assigned_to = sqlc.arg(person) AND assigned_to <> ''
    AND (claimed_by = '' OR claimed_until <= sqlc.arg(now))
    AND NOT EXISTS (SELECT 1 FROM documents d WHERE d.id = reviews.document_id AND d.submitted_by = sqlc.arg(person))
    AND NOT EXISTS (SELECT 1 FROM decisions x WHERE x.document_id = reviews.document_id AND x.review_id = reviews.id AND x.actor = sqlc.arg(person))
ORDER BY due_at, confidence, created_at, id
LIMIT sqlc.arg(page_size);

-- name: ClaimCandidates :many
-- The pending reviews not yet due that a person may claim, the lowest
-- rank first (countersign.Review.Rank: the least confident, the likeliest
-- to be wrong, where a person's decision changes the most; a risk review
-- counted as likelier wrong), then the soonest due: nobody's, or whose claim
-- lapsed by now; assigned to nobody or to them (until it is overdue, a
-- review assigned to someone else is theirs); not of a document they
-- submitted, nor one they decided already. The filter marker takes the
-- task types and kind (store.ReviewConditions).
SELECT * FROM reviews
WHERE /* filter */ TRUE
    AND due_at > sqlc.arg(now)
    AND (claimed_by = '' OR claimed_until <= sqlc.arg(now))
    AND (assigned_to = '' OR assigned_to = sqlc.arg(person))
    AND NOT EXISTS (SELECT 1 FROM documents d WHERE d.id = reviews.document_id AND d.submitted_by = sqlc.arg(person))
    AND NOT EXISTS (SELECT 1 FROM decisions x WHERE x.document_id = reviews.document_id AND x.review_id = reviews.id AND x.actor = sqlc.arg(person))
ORDER BY rank, due_at, created_at, id
LIMIT sqlc.arg(page_size);

-- name: LapsedClaims :many
-- The pending reviews whose claim's lease has passed by now, the longest
-- lapsed first: the reconciler records each lapse and ends the claim.
SELECT * FROM reviews
WHERE claimed_by <> '' AND claimed_until <= sqlc.arg(now) AND status = 'pending'
ORDER BY claimed_until, id
LIMIT sqlc.arg(page_size);

-- name: EndClaim :execrows
-- Ends holder's claim on a pending review if it is still the one that
-- lapsed at claimed_until: not renewed nor taken over since.
UPDATE reviews SET claimed_by = '', claimed_until = NULL
WHERE id = sqlc.arg(id) AND claimed_by = sqlc.arg(holder) AND claimed_until = sqlc.arg(claimed_until) AND status = 'pending';

-- name: AssignReview :one
-- Assigns a pending review to assigned_to, provided it is still assigned
-- to previous ('' for nobody): of two callers, one assigns it and the
-- other finds no row.
UPDATE reviews SET assigned_to = sqlc.arg(assigned_to)
WHERE id = sqlc.arg(id) AND status = 'pending' AND assigned_to = sqlc.arg(previous)
RETURNING *;

-- name: AssignedLoad :many
-- How many pending reviews are assigned to each of people.
SELECT assigned_to, count(*) AS reviews FROM reviews
WHERE assigned_to IN (sqlc.slice(people)) AND assigned_to <> '' AND status = 'pending'
GROUP BY assigned_to;

-- name: AssignmentTurn :one
-- Counts a turn of round-robin assignment under turn_key and returns the
-- count with it: one statement, so callers at once each get another.
INSERT INTO assignment_turns (turn_key, turns) VALUES (sqlc.arg(turn_key), 1)
ON CONFLICT (turn_key) DO UPDATE SET turns = assignment_turns.turns + 1
RETURNING turns;
