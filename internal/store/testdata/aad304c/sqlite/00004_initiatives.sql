-- +goose Up
-- Initiatives: residents propose something new, others join in with a
-- light "count me in", and the secretariat either approves the proposal
-- (it becomes an organisation of kind INFORMAL_INITIATIVE) or merges it into
-- an existing one. Proposals are open to the same reporting and hiding as
-- stories. Kept equivalent to ../postgres/00005_initiatives.sql.

CREATE TABLE initiatives (
    id                    INTEGER PRIMARY KEY AUTOINCREMENT,
    name                  TEXT NOT NULL,
    description           TEXT NOT NULL DEFAULT '',
    search_text           TEXT NOT NULL DEFAULT '',
    place_id              INTEGER REFERENCES places (id) ON DELETE SET NULL,
    neighbourhood         TEXT NOT NULL DEFAULT '',
    help_needed           TEXT NOT NULL DEFAULT '',
    status                TEXT NOT NULL CHECK (status IN ('PROPOSED', 'ACTIVE', 'MERGED', 'CLOSED')),
    proposer_id           INTEGER REFERENCES users (id) ON DELETE SET NULL,
    -- Set when the proposal is approved (its own new organisation) or
    -- merged (the organisation it was merged into).
    organisation_id       INTEGER REFERENCES organisations (id) ON DELETE SET NULL,
    -- The secretariat's word to everyone who joined when it merged.
    merge_message         TEXT NOT NULL DEFAULT '',
    close_reason          TEXT CHECK (close_reason IN ('PROPOSER', 'SECRETARIAT', 'STALE', 'MODERATION')),
    -- Three distinct reports since the last review hide the proposal until
    -- the secretariat has looked at it.
    hidden                BOOLEAN NOT NULL DEFAULT FALSE,
    hidden_at             TIMESTAMP,
    reviewed_at           TIMESTAMP,
    approval_requested_at TIMESTAMP,
    closed_at             TIMESTAMP,
    created_at            TIMESTAMP NOT NULL,
    updated_at            TIMESTAMP NOT NULL,
    last_activity_at      TIMESTAMP NOT NULL
);
CREATE INDEX initiatives_list_idx ON initiatives (status, created_at, id);
CREATE INDEX initiatives_created_idx ON initiatives (created_at, id);
CREATE INDEX initiatives_stale_idx ON initiatives (status, last_activity_at);
CREATE INDEX initiatives_proposer_idx ON initiatives (proposer_id);
CREATE INDEX initiatives_place_idx ON initiatives (place_id);
CREATE INDEX initiatives_organisation_idx ON initiatives (organisation_id);

CREATE TABLE initiative_themes (
    initiative_id INTEGER NOT NULL REFERENCES initiatives (id) ON DELETE CASCADE,
    theme         TEXT NOT NULL REFERENCES themes (slug),
    PRIMARY KEY (initiative_id, theme)
);
CREATE INDEX initiative_themes_theme_idx ON initiative_themes (theme, initiative_id);

CREATE TABLE initiative_members (
    initiative_id INTEGER NOT NULL REFERENCES initiatives (id) ON DELETE CASCADE,
    user_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    message       TEXT NOT NULL DEFAULT '',
    created_at    TIMESTAMP NOT NULL,
    PRIMARY KEY (initiative_id, user_id)
);
CREATE INDEX initiative_members_user_idx ON initiative_members (user_id);

CREATE TABLE initiative_reports (
    initiative_id INTEGER NOT NULL REFERENCES initiatives (id) ON DELETE CASCADE,
    user_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    reason        TEXT NOT NULL DEFAULT '',
    created_at    TIMESTAMP NOT NULL,
    PRIMARY KEY (initiative_id, user_id)
);
CREATE INDEX initiative_reports_user_idx ON initiative_reports (user_id);

-- +goose Down
DROP TABLE initiative_reports;
DROP TABLE initiative_members;
DROP TABLE initiative_themes;
DROP TABLE initiatives;
