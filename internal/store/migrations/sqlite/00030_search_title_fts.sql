-- +goose Up
-- A title-only FTS5 table beside each searchable table's FTS5 table of
-- migration 00015 (issue 19, search at 100,000 activities). The search
-- reads title hits first and on their own; asking 00015's table for the
-- title column alone still walks every row whose text holds the word (a
-- word in 3,600 story bodies and no title cost as many rows), while a
-- table of titles only holds the rows that have it there. Kept in step by
-- triggers, as 00015's are. Kept equivalent to
-- ../postgres/00030_search_title_fts.sql, which needs nothing: 00029 gave
-- PostgreSQL's titles their own trigram index.

CREATE VIRTUAL TABLE activities_title_search USING fts5(search_title, content='activities', content_rowid='id', tokenize='trigram');
-- +goose StatementBegin
CREATE TRIGGER activities_title_search_insert AFTER INSERT ON activities BEGIN
    INSERT INTO activities_title_search (rowid, search_title) VALUES (new.id, new.search_title);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER activities_title_search_delete AFTER DELETE ON activities BEGIN
    INSERT INTO activities_title_search (activities_title_search, rowid, search_title) VALUES ('delete', old.id, old.search_title);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER activities_title_search_update AFTER UPDATE OF search_title ON activities BEGIN
    INSERT INTO activities_title_search (activities_title_search, rowid, search_title) VALUES ('delete', old.id, old.search_title);
    INSERT INTO activities_title_search (rowid, search_title) VALUES (new.id, new.search_title);
END;
-- +goose StatementEnd
INSERT INTO activities_title_search (activities_title_search) VALUES ('rebuild');

CREATE VIRTUAL TABLE organisations_title_search USING fts5(search_title, content='organisations', content_rowid='id', tokenize='trigram');
-- +goose StatementBegin
CREATE TRIGGER organisations_title_search_insert AFTER INSERT ON organisations BEGIN
    INSERT INTO organisations_title_search (rowid, search_title) VALUES (new.id, new.search_title);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER organisations_title_search_delete AFTER DELETE ON organisations BEGIN
    INSERT INTO organisations_title_search (organisations_title_search, rowid, search_title) VALUES ('delete', old.id, old.search_title);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER organisations_title_search_update AFTER UPDATE OF search_title ON organisations BEGIN
    INSERT INTO organisations_title_search (organisations_title_search, rowid, search_title) VALUES ('delete', old.id, old.search_title);
    INSERT INTO organisations_title_search (rowid, search_title) VALUES (new.id, new.search_title);
END;
-- +goose StatementEnd
INSERT INTO organisations_title_search (organisations_title_search) VALUES ('rebuild');

CREATE VIRTUAL TABLE places_title_search USING fts5(search_title, content='places', content_rowid='id', tokenize='trigram');
-- +goose StatementBegin
CREATE TRIGGER places_title_search_insert AFTER INSERT ON places BEGIN
    INSERT INTO places_title_search (rowid, search_title) VALUES (new.id, new.search_title);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER places_title_search_delete AFTER DELETE ON places BEGIN
    INSERT INTO places_title_search (places_title_search, rowid, search_title) VALUES ('delete', old.id, old.search_title);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER places_title_search_update AFTER UPDATE OF search_title ON places BEGIN
    INSERT INTO places_title_search (places_title_search, rowid, search_title) VALUES ('delete', old.id, old.search_title);
    INSERT INTO places_title_search (rowid, search_title) VALUES (new.id, new.search_title);
END;
-- +goose StatementEnd
INSERT INTO places_title_search (places_title_search) VALUES ('rebuild');

CREATE VIRTUAL TABLE stories_title_search USING fts5(search_title, content='stories', content_rowid='id', tokenize='trigram');
-- +goose StatementBegin
CREATE TRIGGER stories_title_search_insert AFTER INSERT ON stories BEGIN
    INSERT INTO stories_title_search (rowid, search_title) VALUES (new.id, new.search_title);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER stories_title_search_delete AFTER DELETE ON stories BEGIN
    INSERT INTO stories_title_search (stories_title_search, rowid, search_title) VALUES ('delete', old.id, old.search_title);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER stories_title_search_update AFTER UPDATE OF search_title ON stories BEGIN
    INSERT INTO stories_title_search (stories_title_search, rowid, search_title) VALUES ('delete', old.id, old.search_title);
    INSERT INTO stories_title_search (rowid, search_title) VALUES (new.id, new.search_title);
END;
-- +goose StatementEnd
INSERT INTO stories_title_search (stories_title_search) VALUES ('rebuild');

CREATE VIRTUAL TABLE initiatives_title_search USING fts5(search_title, content='initiatives', content_rowid='id', tokenize='trigram');
-- +goose StatementBegin
CREATE TRIGGER initiatives_title_search_insert AFTER INSERT ON initiatives BEGIN
    INSERT INTO initiatives_title_search (rowid, search_title) VALUES (new.id, new.search_title);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER initiatives_title_search_delete AFTER DELETE ON initiatives BEGIN
    INSERT INTO initiatives_title_search (initiatives_title_search, rowid, search_title) VALUES ('delete', old.id, old.search_title);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER initiatives_title_search_update AFTER UPDATE OF search_title ON initiatives BEGIN
    INSERT INTO initiatives_title_search (initiatives_title_search, rowid, search_title) VALUES ('delete', old.id, old.search_title);
    INSERT INTO initiatives_title_search (rowid, search_title) VALUES (new.id, new.search_title);
END;
-- +goose StatementEnd
INSERT INTO initiatives_title_search (initiatives_title_search) VALUES ('rebuild');

-- +goose Down
DROP TRIGGER initiatives_title_search_update;
DROP TRIGGER initiatives_title_search_delete;
DROP TRIGGER initiatives_title_search_insert;
DROP TABLE initiatives_title_search;
DROP TRIGGER stories_title_search_update;
DROP TRIGGER stories_title_search_delete;
DROP TRIGGER stories_title_search_insert;
DROP TABLE stories_title_search;
DROP TRIGGER places_title_search_update;
DROP TRIGGER places_title_search_delete;
DROP TRIGGER places_title_search_insert;
DROP TABLE places_title_search;
DROP TRIGGER organisations_title_search_update;
DROP TRIGGER organisations_title_search_delete;
DROP TRIGGER organisations_title_search_insert;
DROP TABLE organisations_title_search;
DROP TRIGGER activities_title_search_update;
DROP TRIGGER activities_title_search_delete;
DROP TRIGGER activities_title_search_insert;
DROP TABLE activities_title_search;
