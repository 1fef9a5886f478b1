-- Ardoise metadata schema, version 39: the scheduling inbox (RFC 6638
-- section 2.2, issue 21). Each row is one iTIP message (REQUEST, REPLY,
-- CANCEL) delivered to a local account by groupware's scheduling, kept as
-- a resource of /dav/calendars/<address>/inbox/ until the owner's client
-- deletes it; only the newest ones are kept (the groupware prunes the
-- rest at each delivery). `id` orders them and makes the sync token.
CREATE TABLE schedule_inbox (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id  BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    uid         TEXT NOT NULL,
    method      TEXT NOT NULL,
    etag        TEXT NOT NULL,
    content     TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    UNIQUE (account_id, name)
);
CREATE INDEX schedule_inbox_account ON schedule_inbox (account_id, id);
