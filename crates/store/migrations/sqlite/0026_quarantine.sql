-- Messages the MX refused for a virus or as spam, kept for the administrators
-- (issue 20): a blob reference (blobs.refcount) and what the refusal knew.
CREATE TABLE quarantine (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    blob         TEXT NOT NULL,
    size         BIGINT NOT NULL,
    reason       TEXT NOT NULL,
    detail       TEXT NOT NULL,
    mail_from    TEXT NOT NULL,
    recipients   TEXT NOT NULL,
    subject      TEXT NOT NULL,
    received_at  BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL
);
CREATE INDEX quarantine_expires ON quarantine (expires_at);
