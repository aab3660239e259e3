-- 0003: feature flags (shared by every instance) and failed-login counters.

-- value is the flag as JSON: true, false or a list of rules.
CREATE TABLE feature_flags (
    name       TEXT NOT NULL,
    value      TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    CONSTRAINT feature_flags_pkey PRIMARY KEY (name)
);

-- One row; every change of feature_flags increments version, which the
-- instances poll.
CREATE TABLE feature_flags_version (
    id      INTEGER NOT NULL,
    version BIGINT  NOT NULL,
    CONSTRAINT feature_flags_version_pkey PRIMARY KEY (id)
);
INSERT INTO feature_flags_version (id, version) VALUES (1, 0);

CREATE TABLE login_failures (
    user_uuid    TEXT    NOT NULL REFERENCES users (uuid) ON DELETE CASCADE,
    failures     INTEGER NOT NULL,
    window_start TIMESTAMP NOT NULL,
    locked_until TIMESTAMP,
    CONSTRAINT login_failures_pkey PRIMARY KEY (user_uuid)
);
