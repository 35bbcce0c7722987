-- +goose Up
-- An announcement is fanned out in chunks of recipients in id order, the
-- first in the request and the rest by a job (notify_announce):
-- fanned_out_to is the last recipient given an inbox entry, fanned_out_at
-- when every one was. idempotency_key makes a retried sendAnnouncement
-- return the first. Notifications name their announcement, so the
-- secretariat can count its deliveries.
ALTER TABLE announcements ADD COLUMN idempotency_key TEXT;
ALTER TABLE announcements ADD COLUMN fanned_out_to BIGINT NOT NULL DEFAULT 0;
ALTER TABLE announcements ADD COLUMN fanned_out_at TIMESTAMPTZ;
CREATE UNIQUE INDEX announcements_idempotency_idx ON announcements (sender_id, idempotency_key);
-- Announcements made before were fanned out in their request.
UPDATE announcements SET fanned_out_at = created_at;

ALTER TABLE notifications ADD COLUMN announcement_id BIGINT REFERENCES announcements (id) ON DELETE SET NULL;
CREATE INDEX notifications_announcement_idx ON notifications (announcement_id) WHERE announcement_id IS NOT NULL;

-- Deliveries are kept 30 days (notify.PurgeDeliveries).
CREATE INDEX deliveries_created_idx ON deliveries (created_at);

-- +goose Down
DROP INDEX deliveries_created_idx;
DROP INDEX notifications_announcement_idx;
ALTER TABLE notifications DROP COLUMN announcement_id;
DROP INDEX announcements_idempotency_idx;
ALTER TABLE announcements DROP COLUMN fanned_out_at;
ALTER TABLE announcements DROP COLUMN fanned_out_to;
ALTER TABLE announcements DROP COLUMN idempotency_key;
