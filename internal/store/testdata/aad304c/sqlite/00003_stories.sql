-- +goose Up
-- Stories grow up: photos, consent, reactions, reports, an audit log of
-- moderation, calls for contributions, media pickups, and the per-
-- organisation permission for organisers to review. Kept equivalent to
-- ../postgres/00003_stories.sql.

CREATE TABLE calls (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    title           TEXT NOT NULL,
    description     TEXT NOT NULL DEFAULT '',
    deadline        TIMESTAMP NOT NULL,
    organisation_id INTEGER REFERENCES organisations (id) ON DELETE SET NULL,
    created_by      INTEGER REFERENCES users (id) ON DELETE SET NULL,
    status          TEXT NOT NULL DEFAULT 'OPEN' CHECK (status IN ('OPEN', 'CLOSED')),
    created_at      TIMESTAMP NOT NULL
);
CREATE INDEX calls_status_idx ON calls (status, deadline);

ALTER TABLE stories ADD COLUMN call_id INTEGER REFERENCES calls (id) ON DELETE SET NULL;
-- The author confirms that the people in the photos agreed, and, when
-- children appear, that a guardian agreed too.
ALTER TABLE stories ADD COLUMN consent_people BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE stories ADD COLUMN has_children BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE stories ADD COLUMN consent_guardian BOOLEAN NOT NULL DEFAULT FALSE;
-- The reason of the latest REJECT or REQUEST_CHANGES, shown to the author;
-- the full history is in moderation_log.
ALTER TABLE stories ADD COLUMN review_reason TEXT NOT NULL DEFAULT '';
CREATE INDEX stories_call_idx ON stories (call_id);
CREATE INDEX stories_review_idx ON stories (status, created_at, id);

ALTER TABLE organisations ADD COLUMN organisers_may_review BOOLEAN NOT NULL DEFAULT FALSE;

CREATE TABLE story_photos (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    story_id   INTEGER NOT NULL REFERENCES stories (id) ON DELETE CASCADE,
    position   INTEGER NOT NULL,
    alt_text   TEXT NOT NULL DEFAULT '',
    key_small  TEXT NOT NULL,
    key_large  TEXT NOT NULL,
    width      INTEGER NOT NULL,
    height     INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX story_photos_story_idx ON story_photos (story_id, position);

CREATE TABLE story_reactions (
    story_id   INTEGER NOT NULL REFERENCES stories (id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind       TEXT NOT NULL CHECK (kind IN ('HEART', 'CLAP', 'SMILE', 'THANKS')),
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (story_id, user_id)
);
CREATE INDEX story_reactions_user_idx ON story_reactions (user_id);

CREATE TABLE story_reports (
    story_id   INTEGER NOT NULL REFERENCES stories (id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    reason     TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (story_id, user_id)
);
CREATE INDEX story_reports_user_idx ON story_reports (user_id);

CREATE TABLE moderation_log (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    story_id   INTEGER NOT NULL REFERENCES stories (id) ON DELETE CASCADE,
    actor_id   INTEGER REFERENCES users (id) ON DELETE SET NULL,
    action     TEXT NOT NULL,
    reason     TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX moderation_log_story_idx ON moderation_log (story_id, id);

CREATE TABLE media_pickups (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    story_id    INTEGER NOT NULL REFERENCES stories (id) ON DELETE CASCADE,
    outlet      TEXT NOT NULL,
    url         TEXT NOT NULL DEFAULT '',
    picked_up_at TIMESTAMP NOT NULL,
    recorded_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at  TIMESTAMP NOT NULL
);
CREATE INDEX media_pickups_story_idx ON media_pickups (story_id);
CREATE INDEX media_pickups_date_idx ON media_pickups (picked_up_at);

-- +goose Down
DROP TABLE media_pickups;
DROP TABLE moderation_log;
DROP TABLE story_reports;
DROP TABLE story_reactions;
DROP TABLE story_photos;
ALTER TABLE organisations DROP COLUMN organisers_may_review;
DROP INDEX stories_review_idx;
DROP INDEX stories_call_idx;
ALTER TABLE stories DROP COLUMN review_reason;
ALTER TABLE stories DROP COLUMN consent_guardian;
ALTER TABLE stories DROP COLUMN has_children;
ALTER TABLE stories DROP COLUMN consent_people;
ALTER TABLE stories DROP COLUMN call_id;
DROP TABLE calls;
