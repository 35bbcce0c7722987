-- +goose Up
-- Reports are kept once the secretariat has looked at a story (reviewed_at
-- says when), so it can see who reported what, a person reports a story
-- once ever, and the per-person limit counts from them. The secretariat
-- can mark people who misuse reporting: their reports are kept but count
-- toward hiding no more. Indexes for the per-person limits on stories,
-- reports and claims, counted from the rows. Kept equivalent to
-- ../postgres/00012_abuse.sql.

ALTER TABLE story_reports ADD COLUMN reviewed_at TIMESTAMP;
CREATE INDEX story_reports_user_time_idx ON story_reports (user_id, created_at);

CREATE TABLE story_reporter_marks (
    user_id    INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    marked_by  INTEGER REFERENCES users (id) ON DELETE SET NULL,
    reason     TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL
);

CREATE INDEX stories_author_time_idx ON stories (author_id, created_at);
CREATE INDEX slot_claims_user_time_idx ON slot_claims (user_id, created_at);

-- +goose Down
DROP INDEX slot_claims_user_time_idx;
DROP INDEX stories_author_time_idx;
DROP TABLE story_reporter_marks;
DROP INDEX story_reports_user_time_idx;
ALTER TABLE story_reports DROP COLUMN reviewed_at;
