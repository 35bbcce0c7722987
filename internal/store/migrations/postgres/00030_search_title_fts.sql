-- +goose Up
-- SQLite gets a title-only FTS5 table on each searchable table here
-- (../sqlite/00030_search_title_fts.sql, issue 19). PostgreSQL needs
-- nothing: migration 00029 gave its titles their own trigram index. The
-- migration exists so both databases count the same versions.
SELECT 1;

-- +goose Down
SELECT 1;
