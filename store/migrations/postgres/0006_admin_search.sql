-- 0006: indexes for the admin tools: user search by username or email
-- prefix (byte-wise ranges, hence the "C" collation) and the audit log by
-- actor.

CREATE INDEX users_username_c_idx ON users (username COLLATE "C");
CREATE INDEX users_email_lower_c_idx ON users ((lower(email)) COLLATE "C");
CREATE INDEX audit_log_actor_idx ON audit_log (actor_uuid, id);
