-- Ardoise metadata schema, version 16: subscriptions as their own set of
-- names, and implied parent folders as placeholders.
--
-- RFC 9051 section 6.3.7: the subscription list is a set of names, not a
-- property of mailboxes. A name stays subscribed when its mailbox is
-- deleted (LIST then shows it \NonExistent \Subscribed) and UNSUBSCRIBE
-- removes it whether or not the mailbox exists. The old per-mailbox column
-- mailboxes.subscribed is carried over here and no longer read.
CREATE TABLE subscriptions (
    account_id  BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    PRIMARY KEY (account_id, name)
);
INSERT INTO subscriptions (account_id, name)
    SELECT account_id, name FROM mailboxes WHERE subscribed <> 0;

-- A placeholder is a parent that exists only because something was created
-- below it (CREATE "Élèves/3e B" makes "Élèves"): IMAP lists it \Noselect,
-- it holds no message, and it becomes a real mailbox when it is created by
-- name or something is filed in it. Folders made by earlier releases stay
-- real mailboxes.
ALTER TABLE mailboxes ADD COLUMN placeholder BIGINT NOT NULL DEFAULT 0;
