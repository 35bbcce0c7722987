-- +goose Up
-- External calendars (iCal URLs such as the municipality's "Det sker i
-- Ishøj") that the secretariat subscribes to. A periodic job fetches each
-- one and keeps the activities it holds in step, keyed by the event's UID.
-- Kept equivalent to ../postgres/00005_calendar_sources.sql.

CREATE TABLE calendar_sources (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    url               TEXT NOT NULL,
    organisation_id   INTEGER NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    place_id          INTEGER REFERENCES places (id) ON DELETE SET NULL,
    created_by        INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at        TIMESTAMP NOT NULL,
    last_fetched_at   TIMESTAMP,
    last_success_at   TIMESTAMP,
    -- A message code from the catalogue (CALENDAR_TOO_BIG, ...), so the
    -- secretariat reads it in their own language; the detail is technical.
    last_error        TEXT,
    last_error_detail TEXT,
    failures          INTEGER NOT NULL DEFAULT 0,
    next_fetch_at     TIMESTAMP NOT NULL,
    -- Validators from the last good response, sent back as If-None-Match
    -- and If-Modified-Since exactly as the server gave them.
    etag              TEXT,
    last_modified     TEXT
);
CREATE UNIQUE INDEX calendar_sources_url_idx ON calendar_sources (organisation_id, url);
CREATE INDEX calendar_sources_due_idx ON calendar_sources (next_fetch_at);

CREATE TABLE calendar_source_themes (
    source_id INTEGER NOT NULL REFERENCES calendar_sources (id) ON DELETE CASCADE,
    theme     TEXT NOT NULL REFERENCES themes (slug),
    PRIMARY KEY (source_id, theme)
);

-- Where an imported activity came from: its calendar, the event's UID in
-- it, and the calendar's URL (kept when the subscription is removed).
ALTER TABLE activities ADD COLUMN source_id INTEGER REFERENCES calendar_sources (id) ON DELETE SET NULL;
ALTER TABLE activities ADD COLUMN source_uid TEXT;
ALTER TABLE activities ADD COLUMN source_url TEXT;
CREATE UNIQUE INDEX activities_source_uid_idx ON activities (source_id, source_uid);

-- +goose Down
DROP INDEX activities_source_uid_idx;
ALTER TABLE activities DROP COLUMN source_url;
ALTER TABLE activities DROP COLUMN source_uid;
ALTER TABLE activities DROP COLUMN source_id;
DROP TABLE calendar_source_themes;
DROP TABLE calendar_sources;
