-- Ardoise metadata schema, version 15: \Recent for IMAP4rev1 sessions.
-- RFC 3501 section 2.3.2: a message is recent in exactly one session, the
-- first to be notified of it. recent_uid is the first UID no session has
-- claimed yet; the session that selects the mailbox (or is selected when
-- mail arrives) moves it to uid_next and holds the UIDs in between as its
-- recent messages. Messages already there at the upgrade were seen by the
-- clients of the previous release: none of them is recent.
ALTER TABLE mailboxes ADD COLUMN recent_uid BIGINT NOT NULL DEFAULT 1;
UPDATE mailboxes SET recent_uid = uid_next;
