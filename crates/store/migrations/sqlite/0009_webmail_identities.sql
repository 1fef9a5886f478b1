-- Webmail identities: the names, addresses (the account's own or one of its
-- aliases, checked when saved and again when sending) and signatures a user
-- writes with; at most one is the default.
CREATE TABLE mail_identities (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id  BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    address     TEXT NOT NULL,
    signature   TEXT NOT NULL,
    is_default  BIGINT NOT NULL DEFAULT 0,
    created_at  BIGINT NOT NULL
);
CREATE INDEX mail_identities_account ON mail_identities(account_id);
