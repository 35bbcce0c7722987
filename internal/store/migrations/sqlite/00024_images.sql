-- +goose Up
-- Pictures on what the app shows (internal/media, image.go). A story's
-- photo gets the BlurHash placeholder a client draws while it loads
-- (NULL for photos stored before this migration). Activities,
-- organisations, places and initiatives get a cover image: the key of its
-- source blob (an upright JPEG without metadata, at most 1920 px wide;
-- every size is made from it on request), its size, its alt text and its
-- placeholder. NULL cover_key is no cover. The cover is the thing's, like
-- its description: whoever may edit the thing changes it, and it is
-- shown to whoever may see the thing.
ALTER TABLE story_photos ADD COLUMN placeholder TEXT;
ALTER TABLE activities ADD COLUMN cover_key TEXT;
ALTER TABLE activities ADD COLUMN cover_width INTEGER;
ALTER TABLE activities ADD COLUMN cover_height INTEGER;
ALTER TABLE activities ADD COLUMN cover_alt TEXT;
ALTER TABLE activities ADD COLUMN cover_placeholder TEXT;
ALTER TABLE organisations ADD COLUMN cover_key TEXT;
ALTER TABLE organisations ADD COLUMN cover_width INTEGER;
ALTER TABLE organisations ADD COLUMN cover_height INTEGER;
ALTER TABLE organisations ADD COLUMN cover_alt TEXT;
ALTER TABLE organisations ADD COLUMN cover_placeholder TEXT;
ALTER TABLE places ADD COLUMN cover_key TEXT;
ALTER TABLE places ADD COLUMN cover_width INTEGER;
ALTER TABLE places ADD COLUMN cover_height INTEGER;
ALTER TABLE places ADD COLUMN cover_alt TEXT;
ALTER TABLE places ADD COLUMN cover_placeholder TEXT;
ALTER TABLE initiatives ADD COLUMN cover_key TEXT;
ALTER TABLE initiatives ADD COLUMN cover_width INTEGER;
ALTER TABLE initiatives ADD COLUMN cover_height INTEGER;
ALTER TABLE initiatives ADD COLUMN cover_alt TEXT;
ALTER TABLE initiatives ADD COLUMN cover_placeholder TEXT;
-- /media/<key> asks for every request whether the key is a public
-- cover; each lookup is by key.
CREATE INDEX activities_cover_key_idx ON activities (cover_key);
CREATE INDEX organisations_cover_key_idx ON organisations (cover_key);
CREATE INDEX places_cover_key_idx ON places (cover_key);
CREATE INDEX initiatives_cover_key_idx ON initiatives (cover_key);

-- +goose Down
DROP INDEX initiatives_cover_key_idx;
DROP INDEX places_cover_key_idx;
DROP INDEX organisations_cover_key_idx;
DROP INDEX activities_cover_key_idx;
ALTER TABLE initiatives DROP COLUMN cover_placeholder;
ALTER TABLE initiatives DROP COLUMN cover_alt;
ALTER TABLE initiatives DROP COLUMN cover_height;
ALTER TABLE initiatives DROP COLUMN cover_width;
ALTER TABLE initiatives DROP COLUMN cover_key;
ALTER TABLE places DROP COLUMN cover_placeholder;
ALTER TABLE places DROP COLUMN cover_alt;
ALTER TABLE places DROP COLUMN cover_height;
ALTER TABLE places DROP COLUMN cover_width;
ALTER TABLE places DROP COLUMN cover_key;
ALTER TABLE organisations DROP COLUMN cover_placeholder;
ALTER TABLE organisations DROP COLUMN cover_alt;
ALTER TABLE organisations DROP COLUMN cover_height;
ALTER TABLE organisations DROP COLUMN cover_width;
ALTER TABLE organisations DROP COLUMN cover_key;
ALTER TABLE activities DROP COLUMN cover_placeholder;
ALTER TABLE activities DROP COLUMN cover_alt;
ALTER TABLE activities DROP COLUMN cover_height;
ALTER TABLE activities DROP COLUMN cover_width;
ALTER TABLE activities DROP COLUMN cover_key;
ALTER TABLE story_photos DROP COLUMN placeholder;
