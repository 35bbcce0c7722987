-- +goose Up
-- users.language held 'da' both for a person who chose Danish and for one
-- who never chose, so a signed-in person's Accept-Language was ignored. A
-- stored language now counts only when the person chose it (updateMe).
-- Every language other than Danish was chosen (the default is 'da'); a
-- stored 'da' cannot be told apart and is taken as not chosen, so such a
-- person gets their device's language until they choose again.
-- Kept equivalent to ../sqlite/00016_language_chosen.sql.
ALTER TABLE users ADD COLUMN language_chosen BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE users SET language_chosen = TRUE WHERE language <> 'da';

-- +goose Down
ALTER TABLE users DROP COLUMN language_chosen;
