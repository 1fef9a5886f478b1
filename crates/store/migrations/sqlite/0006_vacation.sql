-- Vacation auto-reply: one setting per account, and when each sender was last
-- answered (RFC 3834 and the Sieve vacation extension's once-per-interval rule).
CREATE TABLE vacation (
    account_id     BIGINT PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
    enabled        BIGINT NOT NULL DEFAULT 0,
    subject        TEXT NOT NULL,
    body           TEXT NOT NULL,
    starts_at      BIGINT,
    ends_at        BIGINT,
    interval_days  BIGINT NOT NULL DEFAULT 7,
    updated_at     BIGINT NOT NULL
);

CREATE TABLE vacation_replies (
    account_id  BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    sender      TEXT NOT NULL,
    replied_at  BIGINT NOT NULL,
    PRIMARY KEY (account_id, sender)
);
