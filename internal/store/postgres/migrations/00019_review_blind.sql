-- +goose Up
-- Blind review: while a review that more than one person must decide is
-- open, each of them decides without seeing the others' decisions
-- (policy blind_review). Set when the review opens; readers hide the
-- decisions on an open blind review from everyone but their author and
-- auditors (countersign.Review.Hides).
ALTER TABLE reviews ADD COLUMN blind boolean NOT NULL DEFAULT false;

-- +goose Down
ALTER TABLE reviews DROP COLUMN blind;
