-- +goose Up
-- The change log the app's delta sync reads (internal/changelog writes it,
-- internal/offline reads it): one row per object changed, written in the
-- changing transaction by the object's owner. seq orders the rows; tx is
-- the position readers compare: on SQLite, whose writers take turns, the
-- row's own seq (store.ChangeTx), so every row below a reader's horizon is
-- committed. Rows are kept 60
-- days (changelog.Purge). Kept equivalent to ../postgres/00021_changes.sql.
CREATE TABLE changes (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    tx         BIGINT NOT NULL,
    kind       TEXT NOT NULL,
    object_id  BIGINT NOT NULL,
    changed_at TIMESTAMP NOT NULL
);
CREATE INDEX changes_tx_idx ON changes (tx, seq);
CREATE INDEX changes_changed_idx ON changes (changed_at);

-- +goose Down
DROP TABLE changes;
