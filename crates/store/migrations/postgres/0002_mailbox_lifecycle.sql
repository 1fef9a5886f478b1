-- Ardoise metadata schema, version 2 (PostgreSQL dialect): mailboxes can be deleted
-- and renamed. An account remembers the highest UIDVALIDITY it ever handed out,
-- so a mailbox recreated under a deleted one's name, even within the same
-- second, gets a strictly greater UIDVALIDITY (RFC 9051 section 2.3.1.1).

ALTER TABLE accounts ADD COLUMN uid_validity_floor BIGINT NOT NULL DEFAULT 0;
