-- Ardoise metadata schema, version 14: credential revocations, and the
-- login journal's questions per account and per device (issue 25, items 3, 5, 11).
--
-- A password change or an app password's revocation must end the sessions
-- opened with that secret, in every process (the admin CLI and the servers
-- are different processes). Each such change writes a row here, numbered
-- from the same counter as status changes (status_sequence, schema 13), in
-- the same transaction; the servers' revocation watcher follows both.
-- what: 'password', 'app-password' (with app_password_id), 'app-passwords'.
CREATE TABLE credential_revocations (
    seq             BIGINT PRIMARY KEY,
    account_id      BIGINT NOT NULL REFERENCES accounts(id),
    what            TEXT NOT NULL,
    app_password_id BIGINT,
    at              BIGINT NOT NULL
);
-- The device a login attempt came from, when it proved one (the web's signed
-- device cookie): the owner's known device is slowed down on its own count,
-- not on the whole account's.
ALTER TABLE login_journal ADD COLUMN device TEXT;
-- Failures per account across addresses, per identifier for names that are
-- no account (so an unknown name slows down exactly like a real one), and
-- per (account, device).
CREATE INDEX login_journal_account_only ON login_journal(account_id, result, id);
CREATE INDEX login_journal_login ON login_journal(login, result, id);
CREATE INDEX login_journal_device ON login_journal(account_id, device, result, id);
