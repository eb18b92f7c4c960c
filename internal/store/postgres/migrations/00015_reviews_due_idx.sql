-- +goose Up
-- Reviews by status the soonest due first, then the least confident: the
-- order of the review queue, so that it is sorted and paged in the store
-- at any number of pending reviews (ListReviewsByDue).
CREATE INDEX reviews_status_due_idx ON reviews (status, due_at, confidence, created_at, id);

-- +goose Down
DROP INDEX reviews_status_due_idx;
