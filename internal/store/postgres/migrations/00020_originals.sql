-- +goose Up
-- The file a document's text was extracted from (a PDF), stored once per
-- content (keyed by its SHA-256), sealed like document bodies when
-- encryption is on, with the layout that ties the text back to its pages
-- (page sizes and word boxes by character offset, no text). A document
-- names its original; '' is a document submitted as text.
CREATE TABLE originals (
    sha256       text        NOT NULL,
    content_type text        NOT NULL,
    size         bigint      NOT NULL,
    data         bytea       NOT NULL,
    layout       jsonb,
    created_at   timestamptz NOT NULL,
    CONSTRAINT originals_pkey PRIMARY KEY (sha256)
);
ALTER TABLE documents ADD COLUMN original_sha256 text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE documents DROP COLUMN original_sha256;
DROP TABLE originals;
