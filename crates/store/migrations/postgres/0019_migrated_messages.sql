-- Ardoise metadata schema, version 19: what `ardoise migrate imap` has
-- copied. One row per source message (account, source server and login,
-- source folder, UIDVALIDITY, UID), written right after its delivery, so
-- that a rerun or a resumed run copies only what is absent, and brings the
-- flags of what was copied up to date. The target is named by mailbox and
-- UID, not by row: a message the user expunged since is not brought back.
CREATE TABLE migrated_messages (
    account_id    BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    source        TEXT NOT NULL,
    folder        TEXT NOT NULL,
    uid_validity  BIGINT NOT NULL,
    uid           BIGINT NOT NULL,
    mailbox_id    BIGINT NOT NULL,
    target_uid    BIGINT NOT NULL,
    migrated_at   BIGINT NOT NULL,
    PRIMARY KEY (account_id, source, folder, uid_validity, uid)
);
