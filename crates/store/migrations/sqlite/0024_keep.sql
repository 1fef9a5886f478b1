-- Ardoise metadata schema, version 24: undelete, retention, archiving and
-- quota warnings (issue 20).
--
-- A message deleted for good (an IMAP EXPUNGE, "supprimer définitivement" or
-- emptying the Corbeille in the webmail, a deleted folder, the Corbeille's
-- retention) leaves its row here for [mail] undelete_days: it keeps its blob
-- reference (the blob's refcount counts it, so garbage collection leaves the
-- file), its folder (id and name at the time, the folder may be gone since),
-- flags, keywords and internal date. The source side of a move is not a
-- deletion and leaves nothing. Its size no longer counts in the account's
-- usage. Restoring moves the reference back to a new message row; purging
-- releases it.
CREATE TABLE deleted_messages (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id     BIGINT NOT NULL REFERENCES accounts(id),
    mailbox_id     BIGINT NOT NULL,
    mailbox_name   TEXT NOT NULL,
    flags          BIGINT NOT NULL,
    keywords       TEXT NOT NULL,
    internal_date  BIGINT NOT NULL,
    size           BIGINT NOT NULL,
    thread_id      BIGINT NOT NULL,
    blob_hash      TEXT NOT NULL REFERENCES blobs(hash),
    msgid_header   TEXT,
    deleted_at     BIGINT NOT NULL,
    cause          TEXT NOT NULL CHECK (cause IN ('expunge', 'folder', 'retention'))
);
CREATE INDEX deleted_messages_account ON deleted_messages (account_id, id);
CREATE INDEX deleted_messages_at ON deleted_messages (deleted_at);

-- The highest quota warning (80, 90 or 95 per cent) mailed to the account
-- since its usage was last below it; 0 when none.
ALTER TABLE accounts ADD COLUMN quota_warned BIGINT NOT NULL DEFAULT 0;

-- Automatic archiving: messages of the Inbox older than days move to
-- Archives/YYYY. One row per account that chose (0: never); without a row
-- the installation's [mail] archive_days applies.
CREATE TABLE archive_settings (
    account_id  BIGINT PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
    days        BIGINT NOT NULL CHECK (days >= 0),
    updated_at  BIGINT NOT NULL
);
