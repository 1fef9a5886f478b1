-- Ardoise metadata schema, version 36: passkeys (WebAuthn, issue 27 item 3).
-- A passkey is one public key credential of an account: its credential id
-- (base64url, as the authenticator gave it, unique), its COSE public key
-- (base64), the signature counter last seen (a counter that goes back is a
-- cloned authenticator), the name its owner gave it, and its dates.
-- passkey_challenges are the ceremonies in progress: the keyed hash of a
-- random challenge, what it is for (register, login, second), the account
-- it was given to (NULL for a passwordless login), and its expiry; a
-- challenge is claimed once, by deleting it.
-- sso_session_factors gains the method of the second factor proved
-- (otp, hwk: a passkey after the password; hwk-user: a passwordless passkey
-- with user verification), for the `amr` of ID tokens (RFC 8176).
CREATE TABLE passkeys (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id    BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    credential_id TEXT NOT NULL UNIQUE,
    public_key    TEXT NOT NULL,
    sign_count    BIGINT NOT NULL DEFAULT 0,
    name          TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    last_used_at  BIGINT
);
CREATE INDEX passkeys_account ON passkeys (account_id);
CREATE TABLE passkey_challenges (
    challenge_hash TEXT PRIMARY KEY,
    purpose        TEXT NOT NULL,
    account_id     BIGINT REFERENCES accounts(id) ON DELETE CASCADE,
    expires_at     BIGINT NOT NULL
);
CREATE INDEX passkey_challenges_expiry ON passkey_challenges (expires_at);
ALTER TABLE sso_session_factors ADD COLUMN method TEXT NOT NULL DEFAULT 'otp';
