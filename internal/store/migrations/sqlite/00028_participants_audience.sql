-- +goose NO TRANSACTION
-- +goose Up
-- An organiser's announcement may go to an activity's guests (audience
-- PARTICIPANTS, internal/notify), to every upcoming occurrence or to one
-- (occurrence_starts_at). Kept equivalent to
-- ../postgres/00028_participants_audience.sql.
--
-- SQLite cannot change a CHECK in place: the table is rebuilt (the
-- procedure of https://sqlite.org/lang_altertable.html#otheralter).
-- notifications.announcement_id refers to announcements ON DELETE SET
-- NULL, so dropping the old table with foreign keys on would empty every
-- notification's link. foreign_keys can only be switched outside a
-- transaction, hence NO TRANSACTION: goose runs this file on one
-- connection, which switches them off, rebuilds in its own transaction,
-- and switches them on again. Run twice (a crash before goose recorded
-- the version), it rebuilds again and loses nothing.
PRAGMA foreign_keys = OFF;
BEGIN IMMEDIATE;
DROP TABLE IF EXISTS announcements_new;
CREATE TABLE announcements_new (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    sender_id            BIGINT REFERENCES users (id) ON DELETE SET NULL,
    audience             TEXT NOT NULL CHECK (audience IN ('FOLLOWERS', 'ACTIVITY_VOLUNTEERS', 'SLOT_VOLUNTEERS', 'TOWN', 'PARTICIPANTS')),
    organisation_id      BIGINT REFERENCES organisations (id) ON DELETE CASCADE,
    activity_id          BIGINT REFERENCES activities (id) ON DELETE SET NULL,
    slot_id              BIGINT REFERENCES volunteer_slots (id) ON DELETE SET NULL,
    title                TEXT NOT NULL,
    body                 TEXT NOT NULL,
    recipients           INTEGER NOT NULL DEFAULT 0,
    by_secretariat       BOOLEAN NOT NULL DEFAULT FALSE,
    created_at           TIMESTAMP NOT NULL,
    idempotency_key      TEXT,
    fanned_out_to        BIGINT NOT NULL DEFAULT 0,
    fanned_out_at        TIMESTAMP,
    occurrence_starts_at TIMESTAMP
);
INSERT INTO announcements_new
    (id, sender_id, audience, organisation_id, activity_id, slot_id, title, body, recipients, by_secretariat, created_at,
     idempotency_key, fanned_out_to, fanned_out_at)
SELECT id, sender_id, audience, organisation_id, activity_id, slot_id, title, body, recipients, by_secretariat, created_at,
     idempotency_key, fanned_out_to, fanned_out_at
FROM announcements;
-- Keep AUTOINCREMENT's high-water mark: the id of a deleted announcement
-- is never given to a new one (old deep links must not open another).
UPDATE sqlite_sequence SET seq = (SELECT seq FROM sqlite_sequence WHERE name = 'announcements')
    WHERE name = 'announcements_new' AND EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'announcements');
DROP TABLE announcements;
ALTER TABLE announcements_new RENAME TO announcements;
CREATE INDEX announcements_organisation_idx ON announcements (organisation_id, created_at);
CREATE UNIQUE INDEX announcements_idempotency_idx ON announcements (sender_id, idempotency_key);
COMMIT;
PRAGMA foreign_keys = ON;

-- +goose Down
-- Back to the four audiences: PARTICIPANTS announcements are deleted
-- (their notifications keep their text and lose the link).
DELETE FROM announcements WHERE audience = 'PARTICIPANTS';
PRAGMA foreign_keys = OFF;
BEGIN IMMEDIATE;
DROP TABLE IF EXISTS announcements_old;
CREATE TABLE announcements_old (
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
    created_at      TIMESTAMP NOT NULL,
    idempotency_key TEXT,
    fanned_out_to   BIGINT NOT NULL DEFAULT 0,
    fanned_out_at   TIMESTAMP
);
INSERT INTO announcements_old
    (id, sender_id, audience, organisation_id, activity_id, slot_id, title, body, recipients, by_secretariat, created_at,
     idempotency_key, fanned_out_to, fanned_out_at)
SELECT id, sender_id, audience, organisation_id, activity_id, slot_id, title, body, recipients, by_secretariat, created_at,
     idempotency_key, fanned_out_to, fanned_out_at
FROM announcements;
UPDATE sqlite_sequence SET seq = (SELECT seq FROM sqlite_sequence WHERE name = 'announcements')
    WHERE name = 'announcements_old' AND EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'announcements');
DROP TABLE announcements;
ALTER TABLE announcements_old RENAME TO announcements;
CREATE INDEX announcements_organisation_idx ON announcements (organisation_id, created_at);
CREATE UNIQUE INDEX announcements_idempotency_idx ON announcements (sender_id, idempotency_key);
COMMIT;
PRAGMA foreign_keys = ON;
