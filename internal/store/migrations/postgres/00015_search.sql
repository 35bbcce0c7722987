-- +goose Up
-- Search across kinds (issue 19). Each searchable table keeps its text
-- folded by store.SearchText (case, diacritics, ø/æ/å/aa, Arabic letter
-- forms) in search_title and search_text. A NULL search_title marks a row
-- written before this migration: its owner package folds it again at
-- start (RefreshSearch). Places had no search text and get both.
--
-- PostgreSQL finds words inside the folded text with a trigram GIN index
-- (pg_trgm, a trusted extension: the database's owner may create it; it
-- goes in schema public, which must exist, so that every schema of the
-- database finds its operator class by that name), so
-- "cafe" finds "Lektiecafé" and a word typed halfway is found, and finds
-- other forms of a Danish word with the Danish stemmer ("børnene" finds
-- "børn") through a GIN index on to_tsvector('danish', search_text);
-- store.SearchMatch repeats both expressions exactly. Kept equivalent to
-- ../sqlite/00015_search.sql, which uses FTS5 instead.
CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;
ALTER TABLE activities ADD COLUMN search_title TEXT;
ALTER TABLE organisations ADD COLUMN search_title TEXT;
ALTER TABLE places ADD COLUMN search_title TEXT;
ALTER TABLE stories ADD COLUMN search_title TEXT;
ALTER TABLE initiatives ADD COLUMN search_title TEXT;
ALTER TABLE places ADD COLUMN search_text TEXT NOT NULL DEFAULT '';

CREATE INDEX activities_search_trgm_idx ON activities USING gin (search_text public.gin_trgm_ops);
CREATE INDEX activities_search_danish_idx ON activities USING gin (to_tsvector('danish', search_text));
CREATE INDEX organisations_search_trgm_idx ON organisations USING gin (search_text public.gin_trgm_ops);
CREATE INDEX organisations_search_danish_idx ON organisations USING gin (to_tsvector('danish', search_text));
CREATE INDEX places_search_trgm_idx ON places USING gin (search_text public.gin_trgm_ops);
CREATE INDEX places_search_danish_idx ON places USING gin (to_tsvector('danish', search_text));
CREATE INDEX stories_search_trgm_idx ON stories USING gin (search_text public.gin_trgm_ops);
CREATE INDEX stories_search_danish_idx ON stories USING gin (to_tsvector('danish', search_text));
CREATE INDEX initiatives_search_trgm_idx ON initiatives USING gin (search_text public.gin_trgm_ops);
CREATE INDEX initiatives_search_danish_idx ON initiatives USING gin (to_tsvector('danish', search_text));

-- +goose Down
DROP INDEX initiatives_search_danish_idx;
DROP INDEX initiatives_search_trgm_idx;
DROP INDEX stories_search_danish_idx;
DROP INDEX stories_search_trgm_idx;
DROP INDEX places_search_danish_idx;
DROP INDEX places_search_trgm_idx;
DROP INDEX organisations_search_danish_idx;
DROP INDEX organisations_search_trgm_idx;
DROP INDEX activities_search_danish_idx;
DROP INDEX activities_search_trgm_idx;
ALTER TABLE places DROP COLUMN search_text;
ALTER TABLE initiatives DROP COLUMN search_title;
ALTER TABLE stories DROP COLUMN search_title;
ALTER TABLE places DROP COLUMN search_title;
ALTER TABLE organisations DROP COLUMN search_title;
ALTER TABLE activities DROP COLUMN search_title;
