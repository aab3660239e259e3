-- 0001: users, sessions and the audit log.
-- Times are UTC text as bun writes them, 'YYYY-MM-DD HH:MM:SS[.ffffff]+00:00'
-- (trailing zeros of the fraction dropped), which still sorts in time order
-- because '+' < '.' < '0'; JSON lists are TEXT.

CREATE TABLE users (
    uuid               TEXT      NOT NULL,
    username           TEXT      NOT NULL,
    display_name       TEXT      NOT NULL DEFAULT '',
    email              TEXT      NOT NULL,
    email_verified     BOOLEAN   NOT NULL DEFAULT FALSE,
    password_hash      TEXT      NOT NULL DEFAULT '',
    otp_method         TEXT      NOT NULL DEFAULT 'none',
    otp_secret         TEXT      NOT NULL DEFAULT '',
    roles              TEXT      NOT NULL DEFAULT '[]',
    description        TEXT      NOT NULL DEFAULT '',
    is_external_only   BOOLEAN   NOT NULL DEFAULT FALSE,
    is_active          BOOLEAN   NOT NULL DEFAULT TRUE,
    blocked_uuids      TEXT      NOT NULL DEFAULT '[]',
    profile_picture_id INTEGER,
    created_at         TIMESTAMP NOT NULL,
    updated_at         TIMESTAMP NOT NULL,
    CONSTRAINT users_pkey PRIMARY KEY (uuid),
    CONSTRAINT users_username_key UNIQUE (username)
);

CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email));
CREATE INDEX users_created_at_idx ON users (created_at, uuid);

CREATE TABLE sessions (
    id                TEXT      NOT NULL,
    user_uuid         TEXT      NOT NULL REFERENCES users (uuid) ON DELETE CASCADE,
    generation        INTEGER   NOT NULL DEFAULT 0,
    refresh_hash      BLOB,
    prev_refresh_hash BLOB,
    sealed_successor  BLOB,
    created_at        TIMESTAMP NOT NULL,
    rotated_at        TIMESTAMP NOT NULL,
    expires_at        TIMESTAMP NOT NULL,
    revoked_at        TIMESTAMP,
    ip                TEXT      NOT NULL DEFAULT '',
    user_agent        TEXT      NOT NULL DEFAULT '',
    CONSTRAINT sessions_pkey PRIMARY KEY (id)
);

CREATE INDEX sessions_user_uuid_idx ON sessions (user_uuid, created_at, id);

-- No foreign keys: entries outlive the users they mention.
CREATE TABLE audit_log (
    id           INTEGER   PRIMARY KEY AUTOINCREMENT,
    time         TIMESTAMP NOT NULL,
    actor_uuid   TEXT      NOT NULL DEFAULT '',
    subject_uuid TEXT      NOT NULL DEFAULT '',
    action       TEXT      NOT NULL,
    detail       TEXT      NOT NULL DEFAULT '',
    ip           TEXT      NOT NULL DEFAULT ''
);

CREATE INDEX audit_log_subject_idx ON audit_log (subject_uuid, id);
