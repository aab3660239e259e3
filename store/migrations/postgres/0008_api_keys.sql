-- 0008: API keys (the apikey feature). api_keys holds each user's
-- personal access tokens: never the key, only its SHA-256, found by the
-- key's unique prefix in one indexed lookup; the scopes that narrow the
-- owner's permissions; the expiry; and the last use (time and IP),
-- written at most once a minute per key.

CREATE TABLE api_keys (
    id           TEXT      NOT NULL,
    user_uuid    TEXT      NOT NULL REFERENCES users (uuid) ON DELETE CASCADE,
    name         TEXT      NOT NULL DEFAULT '',
    prefix       TEXT      NOT NULL,
    hash         BYTEA     NOT NULL,
    scopes       JSONB     NOT NULL DEFAULT '[]',
    created_by   TEXT      NOT NULL DEFAULT '',
    created_at   TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ,
    last_used_at TIMESTAMPTZ,
    last_used_ip TEXT      NOT NULL DEFAULT '',
    CONSTRAINT api_keys_pkey PRIMARY KEY (id),
    CONSTRAINT api_keys_prefix_key UNIQUE (prefix)
);

CREATE INDEX api_keys_user_uuid_idx ON api_keys (user_uuid);
