-- Ardoise metadata schema, version 7 (SQLite dialect): identity additions.
-- Password expiry reminders already mailed: one row per account, password
-- (named by the time it was set) and threshold in days before expiry (0 is
-- the "expired" notice), so that each reminder goes out once, even with
-- several nodes running the daily task (the insert is the claim).
CREATE TABLE password_reminders (
    account_id   BIGINT NOT NULL REFERENCES accounts(id),
    changed_at   BIGINT NOT NULL,
    days_before  BIGINT NOT NULL,
    sent_at      BIGINT NOT NULL,
    PRIMARY KEY (account_id, changed_at, days_before)
);
