-- +goose Up
-- Phone numbers are stored in E.164 (+4512345678) however they were typed
-- (user.NormalisePhone). Profiles kept them as typed without spaces before
-- that rule: eight Danish digits, or 00 and a country code. Anything else
-- stays as it is; it was never a number the rule would make.
-- Kept equivalent to ../sqlite/00008_phone_e164.sql.
UPDATE users SET phone = '+45' || phone
    WHERE phone ~ '^[0-9]{8}$';
UPDATE users SET phone = '+' || substr(phone, 3)
    WHERE phone ~ '^00[0-9]{8,15}$';

-- +goose Down
-- The numbers as typed are not kept; E.164 is read everywhere already.
SELECT 1;
