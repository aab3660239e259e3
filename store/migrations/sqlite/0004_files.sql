-- 0004: users' files and the deletions of their contents still to do.
-- users.profile_picture_id (0001) names the files row of a user's picture.

CREATE TABLE files (
    id              INTEGER   PRIMARY KEY AUTOINCREMENT,
    owner_uuid      TEXT      NOT NULL REFERENCES users (uuid) ON DELETE CASCADE,
    created_by_uuid TEXT      REFERENCES users (uuid) ON DELETE SET NULL,
    file_name       TEXT      NOT NULL,
    file_type       TEXT      NOT NULL DEFAULT '',
    content_type    TEXT      NOT NULL DEFAULT '',
    size            INTEGER   NOT NULL DEFAULT 0,
    sha256          TEXT      NOT NULL DEFAULT '',
    description     TEXT      NOT NULL DEFAULT '',
    storage_key     TEXT      NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    CONSTRAINT files_owner_name_key UNIQUE (owner_uuid, file_name)
);

CREATE INDEX files_created_at_idx ON files (created_at, id);
CREATE INDEX files_created_by_idx ON files (created_by_uuid);
CREATE INDEX users_profile_picture_idx ON users (profile_picture_id);

-- A content (or, with folder, a whole folder) to remove from storage: written
-- in the transaction that drops its rows, removed once storage is clean, and
-- swept at start-up when the process died in between.
CREATE TABLE file_deletions (
    storage_key TEXT      NOT NULL,
    folder      BOOLEAN   NOT NULL DEFAULT FALSE,
    created_at  TIMESTAMP NOT NULL,
    CONSTRAINT file_deletions_pkey PRIMARY KEY (storage_key)
);
