-- Ardoise metadata schema, version 5 (SQLite dialect): credentials.
-- Secrets are never stored in clear: passwords as argon2id PHC strings,
-- random tokens (web sessions, reset links, app passwords, recovery codes)
-- as keyed BLAKE3 hashes in hex. The TOTP seed is the one exception: the
-- server must compute codes from it.

-- Per-account credential state beside the accounts row.
CREATE TABLE credential_state (
    account_id           BIGINT PRIMARY KEY REFERENCES accounts(id),
    totp_secret          TEXT,
    totp_enabled_at      BIGINT,
    totp_last_step       BIGINT NOT NULL DEFAULT 0,
    password_changed_at  BIGINT
);

-- The last password hashes of an account, for the "not one of the last N" rule.
CREATE TABLE password_history (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id  BIGINT NOT NULL REFERENCES accounts(id),
    hash        TEXT NOT NULL,
    at          BIGINT NOT NULL
);
CREATE INDEX password_history_account ON password_history(account_id, id);

CREATE TABLE recovery_codes (
    account_id  BIGINT NOT NULL REFERENCES accounts(id),
    code_hash   TEXT NOT NULL,
    used_at     BIGINT,
    PRIMARY KEY (account_id, code_hash)
);

-- Scopes are a space-separated subset of "imap smtp dav".
CREATE TABLE app_passwords (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id    BIGINT NOT NULL REFERENCES accounts(id),
    name          TEXT NOT NULL,
    scopes        TEXT NOT NULL,
    token_hash    TEXT NOT NULL UNIQUE,
    created_at    BIGINT NOT NULL,
    last_used_at  BIGINT,
    revoked_at    BIGINT
);
CREATE INDEX app_passwords_account ON app_passwords(account_id);

-- Every login attempt on every protocol, kept 90 days. `account_id` is set
-- when the identifier named an account; `login` is the identifier as typed,
-- cut to 64 characters. `result` is ok, bad, throttled, refused-state, ...
CREATE TABLE login_journal (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    at          BIGINT NOT NULL,
    account_id  BIGINT REFERENCES accounts(id),
    login       TEXT NOT NULL,
    protocol    TEXT NOT NULL,
    ip          TEXT NOT NULL,
    client      TEXT NOT NULL,
    result      TEXT NOT NULL
);
CREATE INDEX login_journal_account ON login_journal(account_id, ip, at);
CREATE INDEX login_journal_ip ON login_journal(ip, at);
CREATE INDEX login_journal_at ON login_journal(at);

-- Web sessions. `stage` says how far the login went: totp (second factor
-- awaited), change_password (provisional account), enrol (2FA required but
-- not set up) or full.
CREATE TABLE web_sessions (
    token_hash  TEXT PRIMARY KEY,
    account_id  BIGINT NOT NULL REFERENCES accounts(id),
    stage       TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    last_seen   BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    ip          TEXT NOT NULL,
    client      TEXT NOT NULL
);
CREATE INDEX web_sessions_account ON web_sessions(account_id);

CREATE TABLE reset_tokens (
    token_hash  TEXT PRIMARY KEY,
    account_id  BIGINT NOT NULL REFERENCES accounts(id),
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    used_at     BIGINT
);
CREATE INDEX reset_tokens_account ON reset_tokens(account_id);
