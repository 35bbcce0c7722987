-- +goose Up
-- The app's delta sync widened to every kind it keeps offline
-- (internal/offline). A change of a person's own things (their claims,
-- follows and inbox) names them in person_id, and a sync reads only the
-- rows without a person and the caller's own: nobody else's claims,
-- follows or notifications ever reach a phone, not even as ids. Rows of
-- public kinds keep person_id NULL.
--
-- updated_at is when a slot, a claim or a place last changed, for the
-- nodes' updatedAt; NULL until the first change after this migration (the
-- node then answers its created_at). Kept equivalent to
-- ../postgres/00025_sync_personal.sql.
ALTER TABLE changes ADD COLUMN person_id BIGINT;
ALTER TABLE volunteer_slots ADD COLUMN updated_at TIMESTAMP;
ALTER TABLE slot_claims ADD COLUMN updated_at TIMESTAMP;
ALTER TABLE places ADD COLUMN updated_at TIMESTAMP;

-- +goose Down
ALTER TABLE places DROP COLUMN updated_at;
ALTER TABLE slot_claims DROP COLUMN updated_at;
ALTER TABLE volunteer_slots DROP COLUMN updated_at;
ALTER TABLE changes DROP COLUMN person_id;
