-- +goose Up
-- The start a published activity had before its organiser (or its
-- calendar) moved it, so its page and JSON-LD can say it was moved
-- (schema.org eventStatus EventRescheduled, previousStartDate). Only the
-- latest move is kept; moving it back clears it.
ALTER TABLE activities ADD COLUMN rescheduled_from TIMESTAMP;

-- +goose Down
ALTER TABLE activities DROP COLUMN rescheduled_from;
