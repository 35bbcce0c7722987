-- +goose Up
-- Who may do what, bound to proof (issue 15, holes 1, 4 and 5). Kept
-- equivalent to ../postgres/00009_roles.sql; the comments there say why.
-- Timestamps written here have the driver's format, so they compare with
-- those written from Go.

-- NOT NULL said out loud: SQLite lets a PRIMARY KEY other than the rowid
-- hold NULL otherwise (store's TestSchemasMatch).
CREATE TABLE secretariat_grants (
    email       TEXT NOT NULL PRIMARY KEY,
    created_at  TIMESTAMP NOT NULL
);

CREATE TABLE organiser_invitations (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    organisation_id INTEGER NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    user_id         INTEGER REFERENCES users (id) ON DELETE CASCADE,
    email           TEXT,
    invited_by      INTEGER REFERENCES users (id) ON DELETE SET NULL,
    direct          BOOLEAN NOT NULL DEFAULT FALSE,
    status          TEXT NOT NULL CHECK (status IN ('PENDING', 'ACCEPTED', 'DECLINED', 'REVOKED')),
    created_at      TIMESTAMP NOT NULL,
    expires_at      TIMESTAMP NOT NULL,
    responded_at    TIMESTAMP,
    CHECK (user_id IS NOT NULL OR email IS NOT NULL)
);
CREATE UNIQUE INDEX organiser_invitations_pending_user_idx ON organiser_invitations (organisation_id, user_id)
    WHERE status = 'PENDING' AND user_id IS NOT NULL;
CREATE UNIQUE INDEX organiser_invitations_pending_email_idx ON organiser_invitations (organisation_id, email)
    WHERE status = 'PENDING' AND email IS NOT NULL;
CREATE INDEX organiser_invitations_user_idx ON organiser_invitations (user_id);
CREATE INDEX organiser_invitations_email_idx ON organiser_invitations (email);

INSERT INTO secretariat_grants (email, created_at)
    SELECT email, strftime('%Y-%m-%d %H:%M:%f', 'now') || '+00:00' FROM users
    WHERE role = 'SECRETARIAT' AND email IS NOT NULL AND NOT email_verified
      AND firebase_uid IS NOT NULL AND deleted_at IS NULL;
UPDATE users SET role = 'RESIDENT', updated_at = strftime('%Y-%m-%d %H:%M:%f', 'now') || '+00:00'
    WHERE role = 'SECRETARIAT' AND email IS NOT NULL AND NOT email_verified
      AND firebase_uid IS NOT NULL AND deleted_at IS NULL;
INSERT INTO organiser_invitations (organisation_id, email, invited_by, direct, status, created_at, expires_at)
    SELECT o.organisation_id, u.email, o.added_by, TRUE, 'PENDING',
           strftime('%Y-%m-%d %H:%M:%f', 'now') || '+00:00', strftime('%Y-%m-%d %H:%M:%f', 'now', '+365 days') || '+00:00'
    FROM organisers o JOIN users u ON u.id = o.user_id
    WHERE u.email IS NOT NULL AND NOT u.email_verified AND u.deleted_at IS NULL;
DELETE FROM organisers WHERE user_id IN (
    SELECT id FROM users WHERE email IS NOT NULL AND NOT email_verified AND deleted_at IS NULL);

INSERT INTO secretariat_grants (email, created_at)
    SELECT email, strftime('%Y-%m-%d %H:%M:%f', 'now') || '+00:00' FROM users
    WHERE role = 'SECRETARIAT' AND email IS NOT NULL AND firebase_uid IS NULL AND deleted_at IS NULL
    ON CONFLICT (email) DO NOTHING;
UPDATE users SET email = NULL, role = 'RESIDENT', updated_at = strftime('%Y-%m-%d %H:%M:%f', 'now') || '+00:00'
    WHERE email IS NOT NULL AND firebase_uid IS NULL AND deleted_at IS NULL;

ALTER TABLE user_qualifications RENAME TO user_qualifications_old;
CREATE TABLE user_qualifications (
    user_id         INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    organisation_id INTEGER NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    requirement     TEXT NOT NULL,
    checked_at      TIMESTAMP NOT NULL,
    expires_at      TIMESTAMP NOT NULL,
    recorded_by     INTEGER REFERENCES users (id) ON DELETE SET NULL,
    recorded_at     TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, organisation_id, requirement)
);
CREATE INDEX user_qualifications_organisation_idx ON user_qualifications (organisation_id);

INSERT INTO user_qualifications (user_id, organisation_id, requirement, checked_at, expires_at, recorded_by, recorded_at)
    SELECT q.user_id, m.organisation_id, q.requirement, q.recorded_at,
           COALESCE(q.expires_at, strftime('%Y-%m-%d %H:%M:%f', q.recorded_at, '+2 years') || '+00:00'), q.recorded_by, q.recorded_at
    FROM user_qualifications_old q
    JOIN (
        SELECT o.user_id AS recorder, o.organisation_id, NULL AS requirement, NULL AS volunteer
        FROM organisers o
        UNION
        SELECT s.id AS recorder, a.organisation_id, vs.requirement, c.user_id AS volunteer
        FROM users s
        JOIN slot_claims c ON c.status <> 'CANCELLED'
        JOIN volunteer_slots vs ON vs.id = c.slot_id AND vs.requirement IS NOT NULL
        JOIN activities a ON a.id = vs.activity_id
        WHERE s.role = 'SECRETARIAT'
    ) m ON m.recorder = q.recorded_by
       AND (m.requirement IS NULL OR (m.requirement = q.requirement AND m.volunteer = q.user_id))
    WHERE q.recorded_by IS NOT NULL AND q.recorded_by <> q.user_id
    ON CONFLICT DO NOTHING;
DROP TABLE user_qualifications_old;

-- +goose Down
ALTER TABLE user_qualifications RENAME TO user_qualifications_new;
CREATE TABLE user_qualifications (
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    requirement  TEXT NOT NULL,
    recorded_by  INTEGER REFERENCES users (id) ON DELETE SET NULL,
    recorded_at  TIMESTAMP NOT NULL,
    expires_at   TIMESTAMP,
    PRIMARY KEY (user_id, requirement)
);
INSERT OR IGNORE INTO user_qualifications (user_id, requirement, recorded_by, recorded_at, expires_at)
    SELECT user_id, requirement, recorded_by, recorded_at, expires_at
    FROM user_qualifications_new ORDER BY user_id, requirement, expires_at DESC;
DROP TABLE user_qualifications_new;
DROP TABLE organiser_invitations;
DROP TABLE secretariat_grants;
