-- Ardoise metadata schema, version 43: a link of its own for each recipient
-- of a share (issue 22). A share mailed to named recipients gives each an
-- unguessable token (160 random bits, like the share's own) bound to the
-- share: it opens the same document, expires and is revoked with it, and
-- its downloads are journaled with the recipient's address (share_downloads.who).
-- The share's plain token keeps working, journaled by address only.
CREATE TABLE share_recipients (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    share_id    BIGINT NOT NULL REFERENCES shares(id) ON DELETE CASCADE,
    token       TEXT NOT NULL UNIQUE,
    address     TEXT NOT NULL
);
CREATE INDEX share_recipients_share ON share_recipients (share_id);
