-- 0010: passkeys (the passkey feature). passkeys holds each user's
-- WebAuthn credentials: the COSE public key, the signature counter and the
-- backup flags, checked and updated at every sign-in. passkey_ceremonies
-- holds the registrations and sign-ins begun and not yet finished,
-- single-use, found by the SHA-256 of the ceremony ID handed to the
-- client, so that any instance can finish what another began.

CREATE TABLE passkeys (
    id                 TEXT      NOT NULL,
    user_uuid          TEXT      NOT NULL REFERENCES users (uuid) ON DELETE CASCADE,
    credential_id      BLOB      NOT NULL,
    name               TEXT      NOT NULL DEFAULT '',
    public_key         BLOB      NOT NULL,
    sign_count         BIGINT    NOT NULL DEFAULT 0,
    aaguid             BLOB,
    transports         TEXT      NOT NULL DEFAULT '[]',
    attestation_format TEXT      NOT NULL DEFAULT '',
    user_verified      BOOLEAN   NOT NULL DEFAULT FALSE,
    backup_eligible    BOOLEAN   NOT NULL DEFAULT FALSE,
    backed_up          BOOLEAN   NOT NULL DEFAULT FALSE,
    created_at         TIMESTAMP NOT NULL,
    last_used_at       TIMESTAMP,
    CONSTRAINT passkeys_pkey PRIMARY KEY (id),
    CONSTRAINT passkeys_credential_id_key UNIQUE (credential_id)
);

CREATE INDEX passkeys_user_uuid_idx ON passkeys (user_uuid);

CREATE TABLE passkey_ceremonies (
    id_hash    BLOB      NOT NULL,
    kind       TEXT      NOT NULL,
    user_uuid  TEXT      NOT NULL DEFAULT '',
    session    BLOB      NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    CONSTRAINT passkey_ceremonies_pkey PRIMARY KEY (id_hash)
);

CREATE INDEX passkey_ceremonies_expires_at_idx ON passkey_ceremonies (expires_at);
