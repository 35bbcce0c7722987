-- +goose Up
-- Deletion that really deletes. A deleted account's tombstone keeps, for a
-- day, the SHA-256 of its sign-in uid and so refuses tokens issued before
-- the deletion (a token cannot bring the account back); photo files of
-- deleted stories wait in media_deletions until the blob store has removed
-- them, so a failed removal is retried rather than forgotten. Kept
-- equivalent to ../sqlite/00014_privacy.sql.

ALTER TABLE users ADD COLUMN erased_uid_sha256 TEXT;
CREATE INDEX users_erased_uid_idx ON users (erased_uid_sha256) WHERE erased_uid_sha256 IS NOT NULL;

CREATE TABLE media_deletions (
    key        TEXT NOT NULL PRIMARY KEY,
    created_at TIMESTAMPTZ NOT NULL
);

-- +goose Down
DROP TABLE media_deletions;
DROP INDEX users_erased_uid_idx;
ALTER TABLE users DROP COLUMN erased_uid_sha256;
