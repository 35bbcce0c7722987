-- +goose Up
-- A child under 13 without a guardian's consent shows nothing of
-- themself to others (issue 17). Someone who says they are under 13
-- after writing stories, or whose guardian's consent is withdrawn, has
-- their stories withheld: status HIDDEN, and withheld_status keeps the
-- status they had, to which they return once consent is recorded. NULL
-- for every story not withheld. Kept equivalent to
-- ../postgres/00031_withheld.sql.
ALTER TABLE stories ADD COLUMN withheld_status TEXT
    CHECK (withheld_status IN ('PENDING_REVIEW', 'CHANGES_REQUESTED', 'PUBLISHED', 'HIDDEN'));

-- +goose Down
ALTER TABLE stories DROP COLUMN withheld_status;
