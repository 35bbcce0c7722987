-- +goose Up
-- The first schema: people and roles, organisations, places, activities with
-- their materialised occurrences, volunteer slots and claims, published
-- stories. Kept equivalent to ../postgres/00001_init.sql.

CREATE TABLE users (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    firebase_uid    TEXT UNIQUE,
    email           TEXT,
    email_verified  BOOLEAN NOT NULL DEFAULT FALSE,
    phone           TEXT,
    display_name    TEXT NOT NULL DEFAULT '',
    language        TEXT NOT NULL DEFAULT 'da',
    role            TEXT NOT NULL DEFAULT 'RESIDENT' CHECK (role IN ('RESIDENT', 'SECRETARIAT')),
    anonymous       BOOLEAN NOT NULL DEFAULT FALSE,
    has_app         BOOLEAN NOT NULL DEFAULT TRUE,
    ical_token      TEXT UNIQUE,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    deleted_at      TIMESTAMP
);
CREATE UNIQUE INDEX users_email_idx ON users (email) WHERE email IS NOT NULL AND deleted_at IS NULL;

CREATE TABLE organisations (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    name          TEXT NOT NULL,
    kind          TEXT NOT NULL CHECK (kind IN ('ASSOCIATION', 'INFORMAL_INITIATIVE', 'COUNCIL', 'MUNICIPALITY')),
    description   TEXT NOT NULL DEFAULT '',
    search_text   TEXT NOT NULL DEFAULT '',
    created_at    TIMESTAMP NOT NULL,
    updated_at    TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX organisations_name_idx ON organisations (name);

CREATE TABLE organisers (
    organisation_id INTEGER NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    user_id         INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    added_by        INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at      TIMESTAMP NOT NULL,
    PRIMARY KEY (organisation_id, user_id)
);
CREATE INDEX organisers_user_idx ON organisers (user_id);

CREATE TABLE places (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT NOT NULL,
    address     TEXT NOT NULL DEFAULT '',
    description TEXT NOT NULL DEFAULT '',
    latitude    REAL,
    longitude   REAL,
    created_at  TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX places_name_idx ON places (name);

CREATE TABLE themes (
    slug     TEXT PRIMARY KEY,
    name_da  TEXT NOT NULL,
    name_en  TEXT NOT NULL,
    position INTEGER NOT NULL
);

CREATE TABLE activities (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    organisation_id INTEGER NOT NULL REFERENCES organisations (id),
    place_id        INTEGER REFERENCES places (id),
    title           TEXT NOT NULL,
    description     TEXT NOT NULL DEFAULT '',
    search_text     TEXT NOT NULL DEFAULT '',
    starts_at       TIMESTAMP NOT NULL,
    ends_at         TIMESTAMP NOT NULL,
    recurrence      TEXT,
    status          TEXT NOT NULL CHECK (status IN ('DRAFT', 'PUBLISHED', 'CANCELLED')),
    created_by      INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    published_at    TIMESTAMP,
    cancelled_at    TIMESTAMP,
    CHECK (ends_at > starts_at)
);
CREATE INDEX activities_organisation_idx ON activities (organisation_id);
CREATE INDEX activities_place_idx ON activities (place_id);

CREATE TABLE activity_themes (
    activity_id INTEGER NOT NULL REFERENCES activities (id) ON DELETE CASCADE,
    theme       TEXT NOT NULL REFERENCES themes (slug),
    PRIMARY KEY (activity_id, theme)
);
CREATE INDEX activity_themes_theme_idx ON activity_themes (theme, activity_id);

-- Occurrences are the dated instances of an activity within the horizon,
-- expanded from its rule in Europe/Copenhagen local time. Listing by time
-- reads them with an index instead of expanding rules per request.
CREATE TABLE occurrences (
    activity_id INTEGER NOT NULL REFERENCES activities (id) ON DELETE CASCADE,
    starts_at   TIMESTAMP NOT NULL,
    ends_at     TIMESTAMP NOT NULL,
    PRIMARY KEY (activity_id, starts_at)
);
CREATE INDEX occurrences_ends_idx ON occurrences (ends_at, starts_at);
CREATE INDEX occurrences_starts_idx ON occurrences (starts_at, activity_id);

CREATE TABLE channel_links (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    organisation_id INTEGER REFERENCES organisations (id) ON DELETE CASCADE,
    activity_id     INTEGER REFERENCES activities (id) ON DELETE CASCADE,
    story_id        INTEGER,
    kind            TEXT NOT NULL CHECK (kind IN ('FACEBOOK', 'INSTAGRAM', 'YOUTUBE', 'WEB')),
    url             TEXT NOT NULL,
    label           TEXT NOT NULL DEFAULT '',
    position        INTEGER NOT NULL DEFAULT 0,
    CHECK ((organisation_id IS NOT NULL) + (activity_id IS NOT NULL) + (story_id IS NOT NULL) = 1)
);
CREATE INDEX channel_links_organisation_idx ON channel_links (organisation_id);
CREATE INDEX channel_links_activity_idx ON channel_links (activity_id);
CREATE INDEX channel_links_story_idx ON channel_links (story_id);

CREATE TABLE volunteer_slots (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    activity_id          INTEGER NOT NULL REFERENCES activities (id) ON DELETE CASCADE,
    occurrence_starts_at TIMESTAMP,
    title                TEXT NOT NULL,
    description          TEXT NOT NULL DEFAULT '',
    starts_at            TIMESTAMP NOT NULL,
    ends_at              TIMESTAMP NOT NULL,
    capacity             INTEGER NOT NULL CHECK (capacity > 0),
    requirement          TEXT,
    signup_opens_at      TIMESTAMP,
    signup_closes_at     TIMESTAMP,
    cancel_deadline      TIMESTAMP,
    taken                INTEGER NOT NULL DEFAULT 0,
    waitlisted           INTEGER NOT NULL DEFAULT 0,
    created_by           INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at           TIMESTAMP NOT NULL,
    CHECK (ends_at > starts_at),
    CHECK (taken >= 0 AND taken <= capacity),
    CHECK (waitlisted >= 0)
);
CREATE INDEX volunteer_slots_activity_idx ON volunteer_slots (activity_id, starts_at);
CREATE INDEX volunteer_slots_starts_idx ON volunteer_slots (starts_at, id);

-- A claim's waitlist position is its rank among the slot's waitlisted claims
-- by id, so positions are 1..n without gaps by construction.
CREATE TABLE slot_claims (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    slot_id      INTEGER NOT NULL REFERENCES volunteer_slots (id) ON DELETE CASCADE,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    status       TEXT NOT NULL CHECK (status IN ('CONFIRMED', 'WAITLISTED', 'CANCELLED')),
    attendance   TEXT CHECK (attendance IN ('ATTENDED', 'NO_SHOW')),
    late_cancel  BOOLEAN NOT NULL DEFAULT FALSE,
    created_by   INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at   TIMESTAMP NOT NULL,
    confirmed_at TIMESTAMP,
    promoted_at  TIMESTAMP,
    cancelled_at TIMESTAMP
);
CREATE UNIQUE INDEX slot_claims_live_idx ON slot_claims (slot_id, user_id) WHERE status <> 'CANCELLED';
CREATE INDEX slot_claims_slot_status_idx ON slot_claims (slot_id, status, id);
CREATE INDEX slot_claims_user_idx ON slot_claims (user_id, status);

CREATE TABLE idempotency_keys (
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    key        TEXT NOT NULL,
    slot_id    INTEGER NOT NULL,
    claim_id   INTEGER,
    error_code TEXT,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, key)
);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);

-- Qualifications such as the børneattest, recorded by an organiser or the
-- secretariat after they have seen it.
CREATE TABLE user_qualifications (
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    requirement  TEXT NOT NULL,
    recorded_by  INTEGER REFERENCES users (id) ON DELETE SET NULL,
    recorded_at  TIMESTAMP NOT NULL,
    expires_at   TIMESTAMP,
    PRIMARY KEY (user_id, requirement)
);

CREATE TABLE stories (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    author_id       INTEGER REFERENCES users (id) ON DELETE SET NULL,
    author_name     TEXT NOT NULL DEFAULT '',
    title           TEXT NOT NULL,
    body            TEXT NOT NULL,
    search_text     TEXT NOT NULL DEFAULT '',
    status          TEXT NOT NULL CHECK (status IN ('DRAFT', 'PENDING_REVIEW', 'CHANGES_REQUESTED', 'PUBLISHED', 'REJECTED', 'WITHDRAWN', 'HIDDEN')),
    activity_id     INTEGER REFERENCES activities (id) ON DELETE SET NULL,
    organisation_id INTEGER REFERENCES organisations (id) ON DELETE SET NULL,
    featured        BOOLEAN NOT NULL DEFAULT FALSE,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    published_at    TIMESTAMP
);
CREATE INDEX stories_published_idx ON stories (status, published_at, id);
CREATE INDEX stories_author_idx ON stories (author_id);

CREATE TABLE story_themes (
    story_id INTEGER NOT NULL REFERENCES stories (id) ON DELETE CASCADE,
    theme    TEXT NOT NULL REFERENCES themes (slug),
    PRIMARY KEY (story_id, theme)
);

INSERT INTO themes (slug, name_da, name_en, position) VALUES
    ('faellesskab', 'Fællesskab', 'Community', 1),
    ('kultur', 'Kultur', 'Culture', 2),
    ('natur', 'Natur og have', 'Nature and gardens', 3),
    ('boern', 'Børn og familie', 'Children and families', 4),
    ('unge', 'Unge', 'Young people', 5),
    ('aeldre', 'Ældre', 'Older people', 6),
    ('mad', 'Mad', 'Food', 7),
    ('historie', 'Lokalhistorie', 'Local history', 8),
    ('baeredygtighed', 'Bæredygtighed', 'Sustainability', 9),
    ('sport', 'Bevægelse og sport', 'Exercise and sport', 10),
    ('demokrati', 'Demokrati og medborgerskab', 'Democracy and citizenship', 11),
    ('kreativ', 'Kreativitet', 'Creativity', 12),
    ('havn', 'Havn og strand', 'Harbour and beach', 13);

-- +goose Down
DROP TABLE story_themes;
DROP TABLE stories;
DROP TABLE user_qualifications;
DROP TABLE idempotency_keys;
DROP TABLE slot_claims;
DROP TABLE volunteer_slots;
DROP TABLE channel_links;
DROP TABLE occurrences;
DROP TABLE activity_themes;
DROP TABLE activities;
DROP TABLE themes;
DROP TABLE places;
DROP TABLE organisers;
DROP TABLE organisations;
DROP TABLE users;
