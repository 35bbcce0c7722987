-- +goose Up
-- Listing activities walks occurrences in start order from a little before
-- the window opens, to catch those still running. Most occurrences last a
-- few hours, so the walk can start 12 hours back; the rare longer ones
-- (festivals, exhibitions, imported multi-day events) are found through
-- this small index instead of walking a month back. activity.Service.List
-- repeats the expression exactly, or the index is not used.
-- Kept equivalent to ../postgres/00006_long_occurrences.sql.
CREATE INDEX occurrences_long_idx ON occurrences (starts_at)
    WHERE julianday(ends_at) - julianday(starts_at) > 0.5;

-- The walk filters on ends_at; with it in the index the filter needs no
-- visit to the table row.
DROP INDEX occurrences_starts_idx;
CREATE INDEX occurrences_starts_idx ON occurrences (starts_at, activity_id, ends_at);

-- +goose Down
DROP INDEX occurrences_starts_idx;
CREATE INDEX occurrences_starts_idx ON occurrences (starts_at, activity_id);
DROP INDEX occurrences_long_idx;
