-- +goose Up
-- Claims: who holds a pending review and until when (the lease). An empty
-- claimed_by holds nothing, nor does a claim whose lease has passed: the
-- next claim takes it over (ClaimReview). The index finds a person's own
-- claims (HeldReviews).
ALTER TABLE reviews ADD COLUMN claimed_by text NOT NULL DEFAULT '';
ALTER TABLE reviews ADD COLUMN claimed_until text;
CREATE INDEX reviews_claimed_idx ON reviews (claimed_by, claimed_until) WHERE claimed_by <> '';

-- +goose Down
DROP INDEX reviews_claimed_idx;
ALTER TABLE reviews DROP COLUMN claimed_until;
ALTER TABLE reviews DROP COLUMN claimed_by;
