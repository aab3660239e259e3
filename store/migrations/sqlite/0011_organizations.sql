-- 0011: organizations (the org feature). organizations holds each
-- organization with its unique slug and the host's metadata (a JSON
-- object, kept as sent); org_members each user's role in an organization
-- (removed with the user or the organization); org_invitations the
-- pending invitations, with only the SHA-256 of each mailed token.

CREATE TABLE organizations (
    id         TEXT      NOT NULL,
    name       TEXT      NOT NULL,
    slug       TEXT      NOT NULL,
    metadata   TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    CONSTRAINT organizations_pkey PRIMARY KEY (id),
    CONSTRAINT organizations_slug_key UNIQUE (slug)
);

CREATE TABLE org_members (
    org_id    TEXT      NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    user_uuid TEXT      NOT NULL REFERENCES users (uuid) ON DELETE CASCADE,
    role      TEXT      NOT NULL,
    joined_at TIMESTAMP NOT NULL,
    CONSTRAINT org_members_pkey PRIMARY KEY (org_id, user_uuid)
);

CREATE INDEX org_members_user_uuid_idx ON org_members (user_uuid);

CREATE TABLE org_invitations (
    id         TEXT      NOT NULL,
    org_id     TEXT      NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    email      TEXT      NOT NULL,
    role       TEXT      NOT NULL,
    hash       BLOB     NOT NULL,
    invited_by TEXT      NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    CONSTRAINT org_invitations_pkey PRIMARY KEY (id),
    CONSTRAINT org_invitations_hash_key UNIQUE (hash)
);

CREATE INDEX org_invitations_org_id_idx ON org_invitations (org_id);
