-- +goose Up
-- PostgreSQL gets a trigram index on each searchable table's folded
-- title here (../postgres/00029_search_titles.sql, issue 19). SQLite
-- needs nothing: the FTS5 tables of migration 00015 index the title as a
-- column of their own, and the search asks for that column alone. The
-- migration exists so both databases count the same versions.
SELECT 1;

-- +goose Down
SELECT 1;
