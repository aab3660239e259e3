-- 0006: indexes for the admin tools. User search by prefix uses the
-- existing indexes on username and lower(email) (SQLite compares bytes by
-- default); the audit log gains an index by actor.

CREATE INDEX audit_log_actor_idx ON audit_log (actor_uuid, id);
