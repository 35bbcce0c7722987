-- +goose Up
-- Push notifications: the devices people register, what they follow, their
-- preferences, the in-app inbox and one delivery row per (notification,
-- device). The delivery row is what keeps a retry from pushing the same
-- notification to a device twice. Kept equivalent to ../postgres/00002_notify.sql.

CREATE TABLE devices (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    token        TEXT NOT NULL UNIQUE,
    user_id      BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    platform     TEXT NOT NULL CHECK (platform IN ('ANDROID', 'IOS', 'WEB')),
    locale       TEXT NOT NULL DEFAULT '',
    app_version  TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL
);
CREATE INDEX devices_user_idx ON devices (user_id);

CREATE TABLE follows (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id         BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind            TEXT NOT NULL CHECK (kind IN ('ORGANISATION', 'PLACE', 'THEME')),
    organisation_id BIGINT REFERENCES organisations (id) ON DELETE CASCADE,
    place_id        BIGINT REFERENCES places (id) ON DELETE CASCADE,
    theme           TEXT REFERENCES themes (slug) ON DELETE CASCADE,
    created_at      TIMESTAMP NOT NULL,
    CHECK ((kind = 'ORGANISATION' AND organisation_id IS NOT NULL AND place_id IS NULL AND theme IS NULL)
        OR (kind = 'PLACE' AND place_id IS NOT NULL AND organisation_id IS NULL AND theme IS NULL)
        OR (kind = 'THEME' AND theme IS NOT NULL AND organisation_id IS NULL AND place_id IS NULL))
);
CREATE UNIQUE INDEX follows_organisation_idx ON follows (organisation_id, user_id) WHERE kind = 'ORGANISATION';
CREATE UNIQUE INDEX follows_place_idx ON follows (place_id, user_id) WHERE kind = 'PLACE';
CREATE UNIQUE INDEX follows_theme_idx ON follows (theme, user_id) WHERE kind = 'THEME';
CREATE INDEX follows_user_idx ON follows (user_id, id);

-- Quiet hours are minutes of the day in Europe/Copenhagen; start = end
-- means none.
CREATE TABLE notification_preferences (
    user_id       BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    new_events    BOOLEAN NOT NULL DEFAULT TRUE,
    announcements BOOLEAN NOT NULL DEFAULT TRUE,
    reminders     BOOLEAN NOT NULL DEFAULT TRUE,
    waitlist      BOOLEAN NOT NULL DEFAULT TRUE,
    stories       BOOLEAN NOT NULL DEFAULT TRUE,
    quiet_start   INTEGER NOT NULL DEFAULT 1320 CHECK (quiet_start BETWEEN 0 AND 1439),
    quiet_end     INTEGER NOT NULL DEFAULT 420 CHECK (quiet_end BETWEEN 0 AND 1439),
    updated_at    TIMESTAMP NOT NULL
);

-- Title and body are rendered in the person's language when the
-- notification is created, so the inbox and the push say the same thing.
-- push is false when the person's preferences keep this kind in the inbox
-- only; send_after is when the push may go out (quiet hours).
CREATE TABLE notifications (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id      BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind         TEXT NOT NULL,
    title        TEXT NOT NULL,
    body         TEXT NOT NULL,
    data         TEXT NOT NULL DEFAULT '{}',
    deep_link    TEXT NOT NULL DEFAULT '',
    collapse_key TEXT NOT NULL DEFAULT '',
    urgent       BOOLEAN NOT NULL DEFAULT FALSE,
    push         BOOLEAN NOT NULL DEFAULT TRUE,
    expires_at   TIMESTAMP,
    send_after   TIMESTAMP NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    read_at      TIMESTAMP
);
CREATE INDEX notifications_user_idx ON notifications (user_id, id);
CREATE INDEX notifications_unread_idx ON notifications (user_id) WHERE read_at IS NULL;

-- status: PENDING (not tried yet), SENDING (handed to FCM by the attempt
-- named in claim), SENT, RETRY (temporary failure, again at
-- next_attempt_at), UNREGISTERED (token gone), FAILED, UNKNOWN (an attempt
-- died while FCM had it; never sent again, so never twice).
CREATE TABLE deliveries (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    notification_id BIGINT NOT NULL REFERENCES notifications (id) ON DELETE CASCADE,
    device_id       BIGINT REFERENCES devices (id) ON DELETE SET NULL,
    token           TEXT NOT NULL,
    platform        TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('PENDING', 'SENDING', 'SENT', 'RETRY', 'UNREGISTERED', 'FAILED', 'UNKNOWN')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    claim           TEXT,
    claimed_at      TIMESTAMP,
    next_attempt_at TIMESTAMP,
    sent_at         TIMESTAMP,
    error           TEXT NOT NULL DEFAULT '',
    created_at      TIMESTAMP NOT NULL,
    UNIQUE (notification_id, device_id)
);
CREATE INDEX deliveries_status_idx ON deliveries (notification_id, status);
CREATE INDEX deliveries_claim_idx ON deliveries (claim);

CREATE TABLE announcements (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    sender_id       BIGINT REFERENCES users (id) ON DELETE SET NULL,
    audience        TEXT NOT NULL CHECK (audience IN ('FOLLOWERS', 'ACTIVITY_VOLUNTEERS', 'SLOT_VOLUNTEERS', 'TOWN')),
    organisation_id BIGINT REFERENCES organisations (id) ON DELETE CASCADE,
    activity_id     BIGINT REFERENCES activities (id) ON DELETE SET NULL,
    slot_id         BIGINT REFERENCES volunteer_slots (id) ON DELETE SET NULL,
    title           TEXT NOT NULL,
    body            TEXT NOT NULL,
    recipients      INTEGER NOT NULL DEFAULT 0,
    by_secretariat  BOOLEAN NOT NULL DEFAULT FALSE,
    created_at      TIMESTAMP NOT NULL
);
CREATE INDEX announcements_organisation_idx ON announcements (organisation_id, created_at);

-- One row per reminder created, so the periodic job creates each once.
CREATE TABLE reminders_sent (
    claim_id   BIGINT NOT NULL REFERENCES slot_claims (id) ON DELETE CASCADE,
    kind       TEXT NOT NULL CHECK (kind IN ('24H', '2H')),
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (claim_id, kind)
);

-- +goose Down
DROP TABLE reminders_sent;
DROP TABLE announcements;
DROP TABLE deliveries;
DROP TABLE notifications;
DROP TABLE notification_preferences;
DROP TABLE follows;
DROP TABLE devices;
