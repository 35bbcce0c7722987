-- +goose Up
-- Residents taking part in an activity as guests ("I'm coming"), owned by
-- internal/participation. A participation is on one occurrence (a
-- one-off activity has one). participation_settings is also the row every
-- change to an activity's participations locks, so seat counts, the
-- waitlist and promotion are serialised per activity as volunteer slots
-- are per slot. Seats are counted from the rows (SUM of party_size) under
-- that lock; a waitlist position is the participation's rank by id among
-- the occurrence's waitlisted ones, as for slot claims. Kept equivalent
-- to ../postgres/00013_participation.sql.

CREATE TABLE participation_settings (
    activity_id           INTEGER PRIMARY KEY REFERENCES activities (id) ON DELETE CASCADE,
    mode                  TEXT NOT NULL DEFAULT 'OPEN' CHECK (mode IN ('OPEN', 'REGISTRATION', 'SEAT_LIMITED')),
    seats                 INTEGER CHECK (seats > 0),
    max_party_size        INTEGER NOT NULL DEFAULT 6 CHECK (max_party_size > 0),
    opens_minutes_before  INTEGER CHECK (opens_minutes_before >= 0),
    closes_minutes_before INTEGER CHECK (closes_minutes_before >= 0),
    cancel_minutes_before INTEGER CHECK (cancel_minutes_before >= 0),
    notify_filling        BOOLEAN NOT NULL DEFAULT TRUE,
    updated_at            TIMESTAMP NOT NULL
);

CREATE TABLE participations (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    activity_id          INTEGER NOT NULL REFERENCES activities (id) ON DELETE CASCADE,
    occurrence_starts_at TIMESTAMP NOT NULL,
    user_id              INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    status               TEXT NOT NULL CHECK (status IN ('GOING', 'INTERESTED', 'WAITLISTED', 'CANCELLED')),
    party_size           INTEGER NOT NULL CHECK (party_size > 0),
    attendance           TEXT CHECK (attendance IN ('ATTENDED', 'NO_SHOW')),
    late_cancel          BOOLEAN NOT NULL DEFAULT FALSE,
    created_by           INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at           TIMESTAMP NOT NULL,
    updated_at           TIMESTAMP NOT NULL,
    confirmed_at         TIMESTAMP,
    promoted_at          TIMESTAMP,
    cancelled_at         TIMESTAMP
);
CREATE UNIQUE INDEX participations_live_idx ON participations (activity_id, occurrence_starts_at, user_id) WHERE status <> 'CANCELLED';
CREATE INDEX participations_occurrence_idx ON participations (activity_id, occurrence_starts_at, status, id);
CREATE INDEX participations_user_idx ON participations (user_id, occurrence_starts_at);
CREATE INDEX participations_user_time_idx ON participations (user_id, created_at);

-- The answer a sign-up gave under an idempotency key, as idempotency_keys
-- does for slot claims.
CREATE TABLE participation_keys (
    user_id              INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    key                  TEXT NOT NULL,
    activity_id          INTEGER NOT NULL,
    occurrence_starts_at TIMESTAMP NOT NULL,
    participation_id     INTEGER,
    error_code           TEXT,
    created_at           TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, key)
);
CREATE INDEX participation_keys_created_idx ON participation_keys (created_at);

-- +goose Down
DROP TABLE participation_keys;
DROP TABLE participations;
DROP TABLE participation_settings;
