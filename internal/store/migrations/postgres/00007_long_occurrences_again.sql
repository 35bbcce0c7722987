-- +goose Up
-- 00006 was changed after it had shipped (in 386740a): occurrences_long_idx
-- was first made on (starts_at) alone and later on (starts_at, activity_id,
-- ends_at), so the walk in activity.Service.List never visits the table.
-- A database migrated by the first 00006 kept the narrow index, and goose,
-- which records only that 00006 ran, had no reason to touch it. This
-- rebuilds the index as the changed 00006 makes it, so every database ends
-- with the same one whichever 00006 it ran; on a database that already
-- has it, it is rebuilt the same. The index holds only the occurrences
-- longer than 12 hours, but building it reads the whole table once, and
-- writes to occurrences wait meanwhile.
-- Kept equivalent to ../sqlite/00007_long_occurrences_again.sql.
DROP INDEX IF EXISTS occurrences_long_idx;
CREATE INDEX occurrences_long_idx ON occurrences (starts_at, activity_id, ends_at)
    WHERE ends_at - starts_at > interval '12 hours';

-- +goose Down
-- Nothing to undo: the index is the one 00006 makes, and 00006's Down
-- removes it.
