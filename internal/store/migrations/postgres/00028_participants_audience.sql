-- +goose Up
-- An organiser's announcement may go to an activity's guests (audience
-- PARTICIPANTS, internal/notify), to every upcoming occurrence or to one
-- (occurrence_starts_at). Kept equivalent to
-- ../sqlite/00028_participants_audience.sql, which has to rebuild the
-- table to change the CHECK.
ALTER TABLE announcements DROP CONSTRAINT announcements_audience_check;
ALTER TABLE announcements ADD CONSTRAINT announcements_audience_check
    CHECK (audience IN ('FOLLOWERS', 'ACTIVITY_VOLUNTEERS', 'SLOT_VOLUNTEERS', 'TOWN', 'PARTICIPANTS'));
ALTER TABLE announcements ADD COLUMN occurrence_starts_at TIMESTAMPTZ;

-- +goose Down
DELETE FROM announcements WHERE audience = 'PARTICIPANTS';
ALTER TABLE announcements DROP COLUMN occurrence_starts_at;
ALTER TABLE announcements DROP CONSTRAINT announcements_audience_check;
ALTER TABLE announcements ADD CONSTRAINT announcements_audience_check
    CHECK (audience IN ('FOLLOWERS', 'ACTIVITY_VOLUNTEERS', 'SLOT_VOLUNTEERS', 'TOWN'));
