-- 0009: one-time sign-in secrets (the emaillogin feature): the pending
-- magic links and email sign-in codes. Only a hash of each secret is kept
-- (the SHA-256 of a link's token, a keyed MAC of a code). An address has
-- at most one secret of each kind (the newest voids the older, by the
-- unique key); user_uuid is NULL for a sign-up link, whose account does
-- not exist yet. attempts counts the wrong guesses at a code.

CREATE TABLE signin_secrets (
    id           TEXT      NOT NULL,
    kind         TEXT      NOT NULL,
    email        TEXT      NOT NULL,
    user_uuid    TEXT      REFERENCES users (uuid) ON DELETE CASCADE,
    secret_hash  BYTEA     NOT NULL,
    redirect_uri TEXT      NOT NULL DEFAULT '',
    attempts     INTEGER   NOT NULL DEFAULT 0,
    created_at   TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL,
    CONSTRAINT signin_secrets_pkey PRIMARY KEY (id),
    CONSTRAINT signin_secrets_kind_email_key UNIQUE (kind, email),
    CONSTRAINT signin_secrets_secret_hash_key UNIQUE (secret_hash)
);

CREATE INDEX signin_secrets_user_uuid_idx ON signin_secrets (user_uuid);
CREATE INDEX signin_secrets_expires_at_idx ON signin_secrets (expires_at);
