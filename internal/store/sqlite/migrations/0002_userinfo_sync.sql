-- The user-info sync (internal/userinfo): memberships and user attribute
-- values an identity provider owns, and each user's last sync attempt.
--
-- iam is '' for a membership or value set by hand, else the id of the
-- identity provider whose user-info endpoint answered it. The sync only ever
-- adds and removes rows with iam <> '', so manual ones are never touched; a
-- manual add of an owned row sets iam to ''. Existing rows were all set by
-- hand. No foreign key to iams: the built-in IAM need not have a row (see
-- 0001), and DeleteIAM refuses while users still belong to the IAM.

ALTER TABLE group_members ADD COLUMN iam TEXT NOT NULL DEFAULT '';
ALTER TABLE user_attributes ADD COLUMN iam TEXT NOT NULL DEFAULT '';

CREATE TABLE user_sync (
    username        TEXT PRIMARY KEY REFERENCES users (username) ON DELETE CASCADE,
    iam             TEXT NOT NULL,               -- the identity provider last asked
    last_sync_at    TEXT NOT NULL,               -- last attempt, whatever its outcome
    last_success_at TEXT,                        -- last applied answer; NULL if none yet
    last_error      TEXT NOT NULL DEFAULT ''     -- '' when the last attempt applied everything
) STRICT;
-- The periodic sync's "who is due" query: oldest attempts first.
CREATE INDEX user_sync_last_sync_at ON user_sync (last_sync_at, username);
