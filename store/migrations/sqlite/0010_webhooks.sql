-- 0010: webhooks (the webhook feature). webhook_deliveries is the outbox:
-- one row per event and endpoint, written in the transaction of the
-- change, then sent by a worker that leases it (next_attempt_at moved
-- past the lease, claim set) and writes the outcome; a delivery that
-- fails for the retry period is dead, kept for admins to see and retry.

CREATE TABLE webhook_deliveries (
    id              TEXT      NOT NULL,
    event_id        TEXT      NOT NULL,
    event_type      TEXT      NOT NULL,
    endpoint        TEXT      NOT NULL,
    payload         BLOB      NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    status          TEXT      NOT NULL DEFAULT 'pending',
    attempts        INTEGER   NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    claim           TEXT      NOT NULL DEFAULT '',
    last_status     INTEGER   NOT NULL DEFAULT 0,
    last_error      TEXT      NOT NULL DEFAULT '',
    delivered_at    TIMESTAMP,
    CONSTRAINT webhook_deliveries_pkey PRIMARY KEY (id)
);

CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (status, next_attempt_at);
CREATE INDEX webhook_deliveries_created_idx ON webhook_deliveries (created_at, id);
