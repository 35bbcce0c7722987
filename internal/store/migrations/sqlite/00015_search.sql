-- +goose Up
-- Search across kinds (issue 19). Each searchable table keeps its text
-- folded by store.SearchText (case, diacritics, ø/æ/å/aa, Arabic letter
-- forms) in search_title and search_text. A NULL search_title marks a row
-- written before this migration: its owner package folds it again at
-- start (RefreshSearch). Places had no search text and get both.
--
-- SQLite indexes the folded text with FTS5's trigram tokenizer, kept in
-- step by triggers. It finds any piece of a word of three letters or
-- more: Danish glues words together ("Lektiecafé"), so "cafe" must find
-- the inside of a word, which unicode61's word tokens cannot, and a word
-- typed halfway is found as well. Kept equivalent to
-- ../postgres/00015_search.sql (PostgreSQL uses trigram and Danish
-- full-text GIN indexes instead).
ALTER TABLE activities ADD COLUMN search_title TEXT;
ALTER TABLE organisations ADD COLUMN search_title TEXT;
ALTER TABLE places ADD COLUMN search_title TEXT;
ALTER TABLE stories ADD COLUMN search_title TEXT;
ALTER TABLE initiatives ADD COLUMN search_title TEXT;
ALTER TABLE places ADD COLUMN search_text TEXT NOT NULL DEFAULT '';

CREATE VIRTUAL TABLE activities_search USING fts5(search_title, search_text, content='activities', content_rowid='id', tokenize='trigram');
-- +goose StatementBegin
CREATE TRIGGER activities_search_insert AFTER INSERT ON activities BEGIN
    INSERT INTO activities_search (rowid, search_title, search_text) VALUES (new.id, new.search_title, new.search_text);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER activities_search_delete AFTER DELETE ON activities BEGIN
    INSERT INTO activities_search (activities_search, rowid, search_title, search_text) VALUES ('delete', old.id, old.search_title, old.search_text);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER activities_search_update AFTER UPDATE OF search_title, search_text ON activities BEGIN
    INSERT INTO activities_search (activities_search, rowid, search_title, search_text) VALUES ('delete', old.id, old.search_title, old.search_text);
    INSERT INTO activities_search (rowid, search_title, search_text) VALUES (new.id, new.search_title, new.search_text);
END;
-- +goose StatementEnd
INSERT INTO activities_search (activities_search) VALUES ('rebuild');

CREATE VIRTUAL TABLE organisations_search USING fts5(search_title, search_text, content='organisations', content_rowid='id', tokenize='trigram');
-- +goose StatementBegin
CREATE TRIGGER organisations_search_insert AFTER INSERT ON organisations BEGIN
    INSERT INTO organisations_search (rowid, search_title, search_text) VALUES (new.id, new.search_title, new.search_text);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER organisations_search_delete AFTER DELETE ON organisations BEGIN
    INSERT INTO organisations_search (organisations_search, rowid, search_title, search_text) VALUES ('delete', old.id, old.search_title, old.search_text);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER organisations_search_update AFTER UPDATE OF search_title, search_text ON organisations BEGIN
    INSERT INTO organisations_search (organisations_search, rowid, search_title, search_text) VALUES ('delete', old.id, old.search_title, old.search_text);
    INSERT INTO organisations_search (rowid, search_title, search_text) VALUES (new.id, new.search_title, new.search_text);
END;
-- +goose StatementEnd
INSERT INTO organisations_search (organisations_search) VALUES ('rebuild');

CREATE VIRTUAL TABLE places_search USING fts5(search_title, search_text, content='places', content_rowid='id', tokenize='trigram');
-- +goose StatementBegin
CREATE TRIGGER places_search_insert AFTER INSERT ON places BEGIN
    INSERT INTO places_search (rowid, search_title, search_text) VALUES (new.id, new.search_title, new.search_text);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER places_search_delete AFTER DELETE ON places BEGIN
    INSERT INTO places_search (places_search, rowid, search_title, search_text) VALUES ('delete', old.id, old.search_title, old.search_text);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER places_search_update AFTER UPDATE OF search_title, search_text ON places BEGIN
    INSERT INTO places_search (places_search, rowid, search_title, search_text) VALUES ('delete', old.id, old.search_title, old.search_text);
    INSERT INTO places_search (rowid, search_title, search_text) VALUES (new.id, new.search_title, new.search_text);
END;
-- +goose StatementEnd
INSERT INTO places_search (places_search) VALUES ('rebuild');

CREATE VIRTUAL TABLE stories_search USING fts5(search_title, search_text, content='stories', content_rowid='id', tokenize='trigram');
-- +goose StatementBegin
CREATE TRIGGER stories_search_insert AFTER INSERT ON stories BEGIN
    INSERT INTO stories_search (rowid, search_title, search_text) VALUES (new.id, new.search_title, new.search_text);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER stories_search_delete AFTER DELETE ON stories BEGIN
    INSERT INTO stories_search (stories_search, rowid, search_title, search_text) VALUES ('delete', old.id, old.search_title, old.search_text);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER stories_search_update AFTER UPDATE OF search_title, search_text ON stories BEGIN
    INSERT INTO stories_search (stories_search, rowid, search_title, search_text) VALUES ('delete', old.id, old.search_title, old.search_text);
    INSERT INTO stories_search (rowid, search_title, search_text) VALUES (new.id, new.search_title, new.search_text);
END;
-- +goose StatementEnd
INSERT INTO stories_search (stories_search) VALUES ('rebuild');

CREATE VIRTUAL TABLE initiatives_search USING fts5(search_title, search_text, content='initiatives', content_rowid='id', tokenize='trigram');
-- +goose StatementBegin
CREATE TRIGGER initiatives_search_insert AFTER INSERT ON initiatives BEGIN
    INSERT INTO initiatives_search (rowid, search_title, search_text) VALUES (new.id, new.search_title, new.search_text);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER initiatives_search_delete AFTER DELETE ON initiatives BEGIN
    INSERT INTO initiatives_search (initiatives_search, rowid, search_title, search_text) VALUES ('delete', old.id, old.search_title, old.search_text);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER initiatives_search_update AFTER UPDATE OF search_title, search_text ON initiatives BEGIN
    INSERT INTO initiatives_search (initiatives_search, rowid, search_title, search_text) VALUES ('delete', old.id, old.search_title, old.search_text);
    INSERT INTO initiatives_search (rowid, search_title, search_text) VALUES (new.id, new.search_title, new.search_text);
END;
-- +goose StatementEnd
INSERT INTO initiatives_search (initiatives_search) VALUES ('rebuild');

-- +goose Down
DROP TRIGGER initiatives_search_update;
DROP TRIGGER initiatives_search_delete;
DROP TRIGGER initiatives_search_insert;
DROP TABLE initiatives_search;
DROP TRIGGER stories_search_update;
DROP TRIGGER stories_search_delete;
DROP TRIGGER stories_search_insert;
DROP TABLE stories_search;
DROP TRIGGER places_search_update;
DROP TRIGGER places_search_delete;
DROP TRIGGER places_search_insert;
DROP TABLE places_search;
DROP TRIGGER organisations_search_update;
DROP TRIGGER organisations_search_delete;
DROP TRIGGER organisations_search_insert;
DROP TABLE organisations_search;
DROP TRIGGER activities_search_update;
DROP TRIGGER activities_search_delete;
DROP TRIGGER activities_search_insert;
DROP TABLE activities_search;
ALTER TABLE places DROP COLUMN search_text;
ALTER TABLE initiatives DROP COLUMN search_title;
ALTER TABLE stories DROP COLUMN search_title;
ALTER TABLE places DROP COLUMN search_title;
ALTER TABLE organisations DROP COLUMN search_title;
ALTER TABLE activities DROP COLUMN search_title;
