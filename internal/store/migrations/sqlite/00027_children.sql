-- +goose Up
-- Children's own accounts (issue 17). The Danish age of consent to
-- online services is 13. A person says whether they are under 13
-- (age_group: NULL until they say, 'UNDER_13' or 'AT_LEAST_13'; a
-- self-declaration, no birth date is kept); one under 13 may browse but
-- not do what shows them to others until the secretariat records that a
-- parent or guardian consented (guardian_consent_at). Kept equivalent to
-- ../postgres/00027_children.sql.
ALTER TABLE users ADD COLUMN age_group TEXT CHECK (age_group IN ('UNDER_13', 'AT_LEAST_13'));
ALTER TABLE users ADD COLUMN guardian_consent_at TIMESTAMP;

-- +goose Down
ALTER TABLE users DROP COLUMN guardian_consent_at;
ALTER TABLE users DROP COLUMN age_group;
