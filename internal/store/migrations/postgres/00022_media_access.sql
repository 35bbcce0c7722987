-- +goose Up
-- Photos of stories that are not published are served only through
-- short-lived signed URLs (internal/media, sign.go). The key that signs
-- them is kept here, made by the first replica that starts, so every
-- replica signs and checks alike without a setting to share.
CREATE TABLE media_secrets (
    id         INTEGER PRIMARY KEY,
    secret     TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
-- /media/<key> asks for every request whether the key is a photo of a
-- published story.
CREATE INDEX story_photos_key_small_idx ON story_photos (key_small);
CREATE INDEX story_photos_key_large_idx ON story_photos (key_large);

-- +goose Down
DROP INDEX story_photos_key_large_idx;
DROP INDEX story_photos_key_small_idx;
DROP TABLE media_secrets;
