-- +goose Up
-- Phone numbers are stored in E.164 (+4512345678) however they were typed
-- (user.NormalisePhone). Profiles kept them as typed without spaces before
-- that rule: eight Danish digits, or 00 and a country code. Anything else
-- stays as it is; it was never a number the rule would make.
-- Kept equivalent to ../postgres/00008_phone_e164.sql.
UPDATE users SET phone = '+45' || phone
    WHERE length(phone) = 8 AND phone NOT GLOB '*[^0-9]*';
UPDATE users SET phone = '+' || substr(phone, 3)
    WHERE phone GLOB '00*' AND length(phone) BETWEEN 10 AND 17 AND phone NOT GLOB '*[^0-9]*';

-- +goose Down
-- The numbers as typed are not kept; E.164 is read everywhere already.
SELECT 1;
