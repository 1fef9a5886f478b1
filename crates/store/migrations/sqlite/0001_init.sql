-- Ardoise metadata schema, version 1 (SQLite dialect).
-- The PostgreSQL file of the same version describes the same logical schema;
-- only identity columns differ. Every integer is 64-bit, times are unix seconds,
-- booleans are 0/1. Identity columns are INTEGER PRIMARY KEY AUTOINCREMENT: the
-- 64-bit rowid, never reused after a deletion (message and change ids are
-- handed to clients and must never come back).

CREATE TABLE domains (
    name        TEXT PRIMARY KEY,
    created_at  BIGINT NOT NULL
);

CREATE TABLE org_units (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    parent_id   BIGINT REFERENCES org_units(id),
    kind        TEXT NOT NULL,
    name        TEXT NOT NULL,
    uai         TEXT UNIQUE
);
CREATE INDEX org_units_parent ON org_units(parent_id);

CREATE TABLE accounts (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    address            TEXT NOT NULL UNIQUE,
    domain             TEXT NOT NULL REFERENCES domains(name),
    login              TEXT UNIQUE,
    display_name       TEXT NOT NULL,
    role               TEXT NOT NULL,
    status             TEXT NOT NULL,
    quota_bytes        BIGINT,
    used_bytes         BIGINT NOT NULL DEFAULT 0,
    org_unit_id        BIGINT REFERENCES org_units(id),
    password_hash      TEXT,
    created_at         BIGINT NOT NULL,
    status_changed_at  BIGINT NOT NULL
);
CREATE INDEX accounts_org_unit ON accounts(org_unit_id);
CREATE INDEX accounts_domain ON accounts(domain);

CREATE TABLE aliases (
    address     TEXT PRIMARY KEY,
    account_id  BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    created_at  BIGINT NOT NULL
);
CREATE INDEX aliases_account ON aliases(account_id);

CREATE TABLE mailboxes (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id      BIGINT NOT NULL REFERENCES accounts(id),
    parent_id       BIGINT REFERENCES mailboxes(id),
    name            TEXT NOT NULL,
    special_use     TEXT,
    uid_validity    BIGINT NOT NULL,
    uid_next        BIGINT NOT NULL DEFAULT 1,
    highest_modseq  BIGINT NOT NULL DEFAULT 1,
    subscribed      BIGINT NOT NULL DEFAULT 1,
    created_at      BIGINT NOT NULL,
    UNIQUE (account_id, name),
    UNIQUE (account_id, special_use)
);
CREATE INDEX mailboxes_parent ON mailboxes(parent_id);

CREATE TABLE blobs (
    hash            TEXT PRIMARY KEY,
    size            BIGINT NOT NULL,
    refcount        BIGINT NOT NULL DEFAULT 0 CHECK (refcount >= 0),
    released_at     BIGINT,
    meta            TEXT NOT NULL,
    subject         TEXT NOT NULL,
    from_addr       TEXT NOT NULL,
    sent_date       BIGINT,
    has_attachment  BIGINT NOT NULL DEFAULT 0,
    preview         TEXT NOT NULL,
    created_at      BIGINT NOT NULL
);
CREATE INDEX blobs_released ON blobs(released_at) WHERE refcount = 0;

CREATE TABLE messages (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id     BIGINT NOT NULL REFERENCES accounts(id),
    mailbox_id     BIGINT NOT NULL REFERENCES mailboxes(id),
    uid            BIGINT NOT NULL,
    modseq         BIGINT NOT NULL,
    flags          BIGINT NOT NULL DEFAULT 0,
    keywords       TEXT NOT NULL DEFAULT '',
    internal_date  BIGINT NOT NULL,
    saved_date     BIGINT NOT NULL,
    size           BIGINT NOT NULL,
    thread_id      BIGINT NOT NULL,
    blob_hash      TEXT NOT NULL REFERENCES blobs(hash),
    msgid_header   TEXT,
    UNIQUE (mailbox_id, uid)
);
CREATE INDEX messages_msgid ON messages(account_id, msgid_header);
CREATE INDEX messages_mailbox_modseq ON messages(mailbox_id, modseq);
CREATE INDEX messages_thread ON messages(account_id, thread_id);
CREATE INDEX messages_blob ON messages(blob_hash);

-- Every message-id an account has seen (a message's own and those it
-- references), mapped to the thread it was filed in. A reply finds its
-- parent's thread, and a parent arriving after its reply finds the reply's.
CREATE TABLE thread_refs (
    account_id  BIGINT NOT NULL REFERENCES accounts(id),
    msgid       TEXT NOT NULL,
    thread_id   BIGINT NOT NULL,
    PRIMARY KEY (account_id, msgid)
);

CREATE TABLE changes (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id  BIGINT NOT NULL REFERENCES accounts(id),
    mailbox_id  BIGINT NOT NULL REFERENCES mailboxes(id),
    modseq      BIGINT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('new', 'flags', 'expunge', 'mailbox')),
    uid         BIGINT NOT NULL,
    message_id  BIGINT,
    at          BIGINT NOT NULL
);
CREATE INDEX changes_mailbox_modseq ON changes(mailbox_id, modseq);
CREATE INDEX changes_account_id ON changes(account_id, id);
