-- Ardoise metadata schema, version 4 (SQLite dialect): the outbound queue.
-- One row per message waiting to leave (whatever its number of remote domains),
-- one row per recipient with its own status and last error. The message body
-- is a blob whose refcount counts the queue entry as one reference, so the
-- garbage collector keeps it while the entry exists. A runner leases an entry
-- by setting lease_until; an entry whose lease expired (the node died) is due
-- again. Recipient status: 'pending', 'sent' or 'failed'.

CREATE TABLE outbound_queue (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    blob            TEXT NOT NULL,
    size            BIGINT NOT NULL,
    sender          TEXT NOT NULL,
    account_id      BIGINT,
    created_at      BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    warned          BIGINT NOT NULL DEFAULT 0,
    lease_until     BIGINT NOT NULL DEFAULT 0
);

CREATE INDEX outbound_queue_due ON outbound_queue (next_attempt_at);

CREATE TABLE outbound_recipients (
    queue_id        BIGINT NOT NULL REFERENCES outbound_queue (id) ON DELETE CASCADE,
    rcpt            TEXT NOT NULL,
    domain          TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'pending',
    last_error      TEXT NOT NULL DEFAULT '',
    updated_at      BIGINT NOT NULL,
    PRIMARY KEY (queue_id, rcpt)
);
