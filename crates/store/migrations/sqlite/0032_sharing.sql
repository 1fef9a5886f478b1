-- Ardoise metadata schema, version 32: large-file sharing (issue 22, the
-- `sharing` crate). A share is one document of an account behind a link:
-- token (random, at least 128 bits, in the URL), expiry, optional argon2id
-- password hash, the recipients told by mail (one address per line),
-- revoked_at (NULL: live) and notified (1 once the owner was told of the
-- first download). Each upload of the document is a version (numbered from
-- 1) whose bytes are a file of the sharing blob store (blob_id, size).
-- Uploads in progress (tus) are share_uploads: the bytes are a temporary
-- file named after the id, whose length is the offset; blob_id is set once
-- the upload is complete; share_id names the share a new version is for.
-- share_downloads is the journal: which version, when, from which address,
-- and who (the recipient's address when the link named one, else empty).
CREATE TABLE shares (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id  BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    token       TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    password    TEXT,
    recipients  TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    revoked_at  BIGINT,
    notified    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX shares_account ON shares (account_id);
CREATE INDEX shares_expiry ON shares (expires_at);
CREATE TABLE share_versions (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    share_id    BIGINT NOT NULL REFERENCES shares(id) ON DELETE CASCADE,
    version     BIGINT NOT NULL,
    blob_id     TEXT NOT NULL,
    size        BIGINT NOT NULL,
    filename    TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    UNIQUE (share_id, version)
);
CREATE INDEX share_versions_blob ON share_versions (blob_id);
CREATE TABLE share_uploads (
    id          TEXT PRIMARY KEY,
    account_id  BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    length      BIGINT NOT NULL,
    filename    TEXT NOT NULL,
    share_id    BIGINT REFERENCES shares(id) ON DELETE CASCADE,
    blob_id     TEXT,
    created_at  BIGINT NOT NULL
);
CREATE INDEX share_uploads_account ON share_uploads (account_id);
CREATE TABLE share_downloads (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    share_id    BIGINT NOT NULL REFERENCES shares(id) ON DELETE CASCADE,
    version     BIGINT NOT NULL,
    at          BIGINT NOT NULL,
    address     TEXT NOT NULL,
    who         TEXT NOT NULL DEFAULT ''
);
CREATE INDEX share_downloads_share ON share_downloads (share_id, at);
