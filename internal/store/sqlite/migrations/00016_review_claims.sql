-- +goose Up
-- Claims: who holds a pending review and until when (the lease). An empty
-- claimed_by holds nothing, nor does a claim whose lease has passed: the
-- next claim takes it over (ClaimReview). The first index finds a
-- person's own claims (HeldReviews).
ALTER TABLE reviews ADD COLUMN claimed_by text NOT NULL DEFAULT '';
ALTER TABLE reviews ADD COLUMN claimed_until text;
CREATE INDEX reviews_claimed_idx ON reviews (claimed_by, claimed_until) WHERE claimed_by <> '';
-- The reviews to take next that are not overdue, the least confident
-- first (ClaimCandidates).
CREATE INDEX reviews_status_confidence_idx ON reviews (status, confidence, due_at, created_at, id);

-- +goose Down
DROP INDEX reviews_status_confidence_idx;
DROP INDEX reviews_claimed_idx;
ALTER TABLE reviews DROP COLUMN claimed_until;
ALTER TABLE reviews DROP COLUMN claimed_by;
