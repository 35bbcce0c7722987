-- +goose Up
-- Retention (internal/notify retention.go). A device FCM calls
-- unregistered, or one its app has not registered for 270 days, is
-- removed and its token cleared from the deliveries that copied it: found
-- by device_id, which also spares the database a scan of deliveries for
-- every device deleted (ON DELETE SET NULL). The stale devices are found by
-- last_seen_at.
CREATE INDEX deliveries_device_idx ON deliveries (device_id) WHERE device_id IS NOT NULL;
CREATE INDEX devices_last_seen_idx ON devices (last_seen_at);

-- +goose Down
DROP INDEX devices_last_seen_idx;
DROP INDEX deliveries_device_idx;
