-- 0012: org_sessions (the org feature): the organization a session chose
-- with POST /auth/switch-org, whose access tokens carry org_id and
-- org_role. A row goes with its session or its organization.

CREATE TABLE org_sessions (
    session_id TEXT      NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    org_id     TEXT      NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    chosen_at  TIMESTAMPTZ NOT NULL,
    CONSTRAINT org_sessions_pkey PRIMARY KEY (session_id)
);

CREATE INDEX org_sessions_org_id_idx ON org_sessions (org_id);
