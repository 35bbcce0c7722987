-- +goose Up
-- A trigram index on each searchable table's folded title (issue 19,
-- search at 100,000 activities). The search lists title hits first and
-- reads them on their own (search.Service.Search); without this index a
-- title search on PostgreSQL either read the long search_text of every
-- row the text index found or scanned the table. Kept equivalent to
-- ../sqlite/00029_search_titles.sql, which needs nothing: its FTS5 tables
-- already index the title as a column of their own.
CREATE INDEX activities_search_title_trgm_idx ON activities USING gin (search_title public.gin_trgm_ops);
CREATE INDEX organisations_search_title_trgm_idx ON organisations USING gin (search_title public.gin_trgm_ops);
CREATE INDEX places_search_title_trgm_idx ON places USING gin (search_title public.gin_trgm_ops);
CREATE INDEX stories_search_title_trgm_idx ON stories USING gin (search_title public.gin_trgm_ops);
CREATE INDEX initiatives_search_title_trgm_idx ON initiatives USING gin (search_title public.gin_trgm_ops);

-- +goose Down
DROP INDEX initiatives_search_title_trgm_idx;
DROP INDEX stories_search_title_trgm_idx;
DROP INDEX places_search_title_trgm_idx;
DROP INDEX organisations_search_title_trgm_idx;
DROP INDEX activities_search_title_trgm_idx;
