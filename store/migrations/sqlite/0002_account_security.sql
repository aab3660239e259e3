-- 0002: one-time tokens (email verification, password reset, email codes,
-- login challenges), two-factor recovery codes and two-factor state.
-- Every token and code is stored hashed.

CREATE TABLE one_time_tokens (
    id          TEXT      NOT NULL,
    user_uuid   TEXT      NOT NULL REFERENCES users (uuid) ON DELETE CASCADE,
    purpose     TEXT      NOT NULL,
    token_hash  BLOB      NOT NULL,
    detail      TEXT      NOT NULL DEFAULT '',
    expires_at  TIMESTAMP NOT NULL,
    used_at     TIMESTAMP,
    created_at  TIMESTAMP NOT NULL,
    CONSTRAINT one_time_tokens_pkey PRIMARY KEY (id)
);

CREATE UNIQUE INDEX one_time_tokens_hash_key ON one_time_tokens (purpose, token_hash);
CREATE INDEX one_time_tokens_user_idx ON one_time_tokens (user_uuid, purpose);

CREATE TABLE recovery_codes (
    id          TEXT      NOT NULL,
    user_uuid   TEXT      NOT NULL REFERENCES users (uuid) ON DELETE CASCADE,
    code_hash   BLOB      NOT NULL,
    used_at     TIMESTAMP,
    created_at  TIMESTAMP NOT NULL,
    CONSTRAINT recovery_codes_pkey PRIMARY KEY (id)
);

CREATE INDEX recovery_codes_user_idx ON recovery_codes (user_uuid);

CREATE TABLE otp_state (
    user_uuid     TEXT      NOT NULL REFERENCES users (uuid) ON DELETE CASCADE,
    last_step     INTEGER   NOT NULL DEFAULT 0,
    failures      INTEGER   NOT NULL DEFAULT 0,
    locked_until  TIMESTAMP,
    CONSTRAINT otp_state_pkey PRIMARY KEY (user_uuid)
);
