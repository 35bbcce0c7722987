-- +goose Up
-- The short-lived links through which a person downloads their data
-- export (a ZIP with export.json and their photos). Only the SHA-256 of a
-- link's secret is kept, so the table cannot be turned into working links;
-- a person has one live link at a time and the housekeeping removes
-- expired ones. Kept equivalent to ../postgres/00018_data_exports.sql.

CREATE TABLE data_exports (
    token_sha256 TEXT NOT NULL PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   TIMESTAMP NOT NULL,
    expires_at   TIMESTAMP NOT NULL
);
CREATE INDEX data_exports_user_idx ON data_exports (user_id);
CREATE INDEX data_exports_expires_idx ON data_exports (expires_at);

-- +goose Down
DROP TABLE data_exports;
