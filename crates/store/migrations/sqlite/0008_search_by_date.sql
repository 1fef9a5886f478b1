-- Ardoise metadata schema, version 8: the webmail's search across folders
-- walks an account's messages from the newest (by internal date, as IMAP's
-- BEFORE/SINCE read it) a bounded batch at a time, instead of loading every
-- row of the account.
CREATE INDEX messages_account_date ON messages(account_id, internal_date, id);
