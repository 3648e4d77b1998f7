-- The directory, admin tokens, the audit log and the revision counter.
-- Times are TEXT in sqlstore.TextTime's fixed-width UTC form, so they sort
-- and compare as times; booleans are INTEGER 0/1. Foreign keys cascade so
-- that deleting a user or a group takes everything hanging off it along.
-- users.iam has no foreign key: the built-in IAM need not have a row, and
-- DeleteIAM checks for remaining users itself.

CREATE TABLE meta (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    revision INTEGER NOT NULL
) STRICT;
INSERT INTO meta (id, revision) VALUES (1, 0);

CREATE TABLE iams (
    id              TEXT PRIMARY KEY,
    display_name    TEXT NOT NULL,
    user_info       TEXT,  -- JSON of directory.UserInfoEndpoint, NULL when unset
    profile_mapping TEXT,  -- JSON object platform -> IAM attribute, NULL when empty
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
) STRICT;

CREATE TABLE users (
    username   TEXT PRIMARY KEY,  -- the email, lower-cased
    full_name  TEXT NOT NULL,
    iam        TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    disabled   INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
) STRICT;
CREATE INDEX users_iam ON users (iam, username);

CREATE TABLE user_permissions (
    username   TEXT NOT NULL REFERENCES users (username) ON DELETE CASCADE,
    permission TEXT NOT NULL,
    PRIMARY KEY (username, permission)
) STRICT;

CREATE TABLE user_attributes (
    username TEXT NOT NULL REFERENCES users (username) ON DELETE CASCADE,
    name     TEXT NOT NULL,
    value    TEXT NOT NULL,
    PRIMARY KEY (username, name, value)
) STRICT;

CREATE TABLE external_ids (
    username TEXT NOT NULL REFERENCES users (username) ON DELETE CASCADE,
    platform TEXT NOT NULL,
    name     TEXT NOT NULL,  -- the user's name on platform, e.g. their Trino user
    PRIMARY KEY (username, platform),
    UNIQUE (platform, name)
) STRICT;

CREATE TABLE groups (
    name        TEXT PRIMARY KEY,
    description TEXT NOT NULL,
    email       TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
) STRICT;

CREATE TABLE group_members (
    group_name TEXT NOT NULL REFERENCES groups (name) ON DELETE CASCADE,
    username   TEXT NOT NULL REFERENCES users (username) ON DELETE CASCADE,
    PRIMARY KEY (group_name, username)
) STRICT;
-- A user's groups, and the cascade when a user is deleted.
CREATE INDEX group_members_username ON group_members (username, group_name);

CREATE TABLE group_attributes (
    group_name TEXT NOT NULL REFERENCES groups (name) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    value      TEXT NOT NULL,
    PRIMARY KEY (group_name, name, value)
) STRICT;

CREATE TABLE tokens (
    id          TEXT PRIMARY KEY,
    username    TEXT NOT NULL REFERENCES users (username) ON DELETE CASCADE,
    description TEXT NOT NULL,
    hash        TEXT NOT NULL UNIQUE,  -- of the secret; the secret itself is never stored
    created_at  TEXT NOT NULL,
    expires_at  TEXT                   -- NULL: never expires
) STRICT;
CREATE INDEX tokens_username ON tokens (username);

-- AUTOINCREMENT: ids are never reused, so they stay valid page cursors.
CREATE TABLE audit (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    time       TEXT NOT NULL,
    type       TEXT NOT NULL,
    actor      TEXT NOT NULL,
    target     TEXT NOT NULL,
    changes    TEXT,  -- JSON, NULL when the record has none
    request_id TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX audit_time ON audit (time);
CREATE INDEX audit_actor ON audit (actor, id);
CREATE INDEX audit_type ON audit (type, id);
