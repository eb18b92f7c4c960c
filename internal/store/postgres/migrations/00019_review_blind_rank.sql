-- +goose Up
-- Blind review and the rank of the value order.
--
-- Blind review: while a review that more than one person must decide is
-- open, each of them decides without seeing the others' decisions
-- (policy blind_review). Set when the review opens; readers hide the
-- decisions on an open blind review from everyone but their author and
-- auditors (countersign.Review.Hides).
ALTER TABLE reviews ADD COLUMN blind boolean NOT NULL DEFAULT false;
-- The queue's value order (countersign.ReviewsByValue) past the overdue
-- reviews: rank is countersign.Review.Rank, the confidence, or for a review
-- a risk rule sent (risk) that of a draft twice as likely to be wrong.
-- Reviews opened before it rank by their confidence.
ALTER TABLE reviews ADD COLUMN risk boolean NOT NULL DEFAULT false;
ALTER TABLE reviews ADD COLUMN rank double precision NOT NULL DEFAULT 0;
UPDATE reviews SET rank = confidence;
CREATE INDEX reviews_status_rank_idx ON reviews (status, rank, due_at, created_at, id);
DROP INDEX reviews_status_confidence_idx;

-- +goose Down
CREATE INDEX reviews_status_confidence_idx ON reviews (status, confidence, due_at, created_at, id);
DROP INDEX reviews_status_rank_idx;
ALTER TABLE reviews DROP COLUMN rank;
ALTER TABLE reviews DROP COLUMN risk;
ALTER TABLE reviews DROP COLUMN blind;
