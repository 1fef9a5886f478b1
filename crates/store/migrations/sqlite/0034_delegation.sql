-- Ardoise metadata schema, version 34: delegation and functional mailboxes
-- (issue 22). A grant gives grantee_id rights on owner_id's mail: on one
-- folder (mailbox_id) or, with mailbox_id NULL, on every folder of the
-- account. rights holds RFC 4314 letters (lrswipkxtea); send_as and
-- on_behalf are the sending rights, meaningful on account-wide grants only.
-- The members of a functional mailbox (an account of role 'fonctionnel') are
-- its account-wide grantees. delegation_journal says who did what on
-- another account's mail (read, flags, moved, deleted, sent, rights changed).
CREATE TABLE mailbox_grants (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    owner_id    BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    mailbox_id  BIGINT REFERENCES mailboxes(id) ON DELETE CASCADE,
    grantee_id  BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    rights      TEXT NOT NULL,
    send_as     INTEGER NOT NULL DEFAULT 0,
    on_behalf   INTEGER NOT NULL DEFAULT 0,
    created_at  BIGINT NOT NULL
);
CREATE UNIQUE INDEX mailbox_grants_whole ON mailbox_grants (owner_id, grantee_id) WHERE mailbox_id IS NULL;
CREATE UNIQUE INDEX mailbox_grants_folder ON mailbox_grants (mailbox_id, grantee_id) WHERE mailbox_id IS NOT NULL;
CREATE INDEX mailbox_grants_grantee ON mailbox_grants (grantee_id);
CREATE TABLE delegation_journal (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    owner_id    BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    actor_id    BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    action      TEXT NOT NULL,
    detail      TEXT NOT NULL DEFAULT '',
    at          BIGINT NOT NULL
);
CREATE INDEX delegation_journal_owner ON delegation_journal (owner_id, at);
