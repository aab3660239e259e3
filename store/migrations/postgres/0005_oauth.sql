-- 0005: third-party login. external_identities links a provider's account
-- (provider, subject) to a user, with the provider's tokens sealed
-- (AES-GCM) by the Manager; oauth_states holds the pending authorization
-- flows, single-use, found by the SHA-256 of their state and bound to the
-- browser by the SHA-256 of a cookie (empty for a link ticket not yet
-- opened by a browser).

CREATE TABLE external_identities (
    provider     TEXT      NOT NULL,
    subject      TEXT      NOT NULL,
    user_uuid    TEXT      NOT NULL REFERENCES users (uuid) ON DELETE CASCADE,
    username     TEXT      NOT NULL DEFAULT '',
    display_name TEXT      NOT NULL DEFAULT '',
    email        TEXT      NOT NULL DEFAULT '',
    picture_url  TEXT      NOT NULL DEFAULT '',
    tokens       BYTEA,
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL,
    CONSTRAINT external_identities_pkey PRIMARY KEY (provider, subject),
    CONSTRAINT external_identities_user_provider_key UNIQUE (user_uuid, provider)
);

CREATE TABLE oauth_states (
    state_hash   BYTEA      NOT NULL,
    cookie_hash  BYTEA,
    provider     TEXT      NOT NULL,
    user_uuid    TEXT      NOT NULL DEFAULT '',
    redirect_uri TEXT      NOT NULL DEFAULT '',
    created_at   TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL,
    CONSTRAINT oauth_states_pkey PRIMARY KEY (state_hash)
);

CREATE INDEX oauth_states_expires_at_idx ON oauth_states (expires_at);
