-- +goose Up
-- internal/participation: the organisers of a seat-limited activity are
-- told once per occurrence when it reaches 80 % and once when it reaches
-- 100 % of its seats (participation_settings.notify_filling). A row here
-- says that level was told, written in the transaction of the sign-up
-- that reached it, so a party that cancels and comes back at the mark
-- does not tell them again. Kept equivalent to ../sqlite/00026_participation_alerts.sql.
CREATE TABLE participation_alerts (
    activity_id          BIGINT NOT NULL REFERENCES activities (id) ON DELETE CASCADE,
    occurrence_starts_at TIMESTAMPTZ NOT NULL,
    level                INTEGER NOT NULL CHECK (level IN (80, 100)),
    created_at           TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (activity_id, occurrence_starts_at, level)
);

-- The 24-hour and 2-hour reminders of a GOING party, each once
-- (participation.Service.CreateReminders), as reminders_sent does for
-- shifts. Moving the activity forgets them, so the new time is reminded.
CREATE TABLE participation_reminders (
    participation_id BIGINT NOT NULL REFERENCES participations (id) ON DELETE CASCADE,
    kind             TEXT NOT NULL CHECK (kind IN ('24H', '2H')),
    created_at       TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (participation_id, kind)
);

-- +goose Down
DROP TABLE participation_reminders;
DROP TABLE participation_alerts;
