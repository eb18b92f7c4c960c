-- +goose Up
-- Assignment: the person a pending review is assigned to ('' for nobody).
-- The index counts a person's open assignments (AssignedLoad) and finds
-- the reviews assigned to them (AssignedCandidates).
ALTER TABLE reviews ADD COLUMN assigned_to text NOT NULL DEFAULT '';
CREATE INDEX reviews_assigned_idx ON reviews (assigned_to, status) WHERE assigned_to <> '';
-- The turns of round-robin assignment, one counter per task type, shared
-- by every worker: one statement counts a turn and returns it
-- (AssignmentTurn), so two workers never take the same turn.
CREATE TABLE assignment_turns (
    turn_key text   NOT NULL,
    turns    bigint NOT NULL,
    CONSTRAINT assignment_turns_pkey PRIMARY KEY (turn_key)
);

-- +goose Down
DROP TABLE assignment_turns;
DROP INDEX reviews_assigned_idx;
ALTER TABLE reviews DROP COLUMN assigned_to;
