-- Webmail preferences of each account (display, language, theme), the
-- senders whose remote images an account always shows, and the one
-- announcement banner administrators set for every webmail page.
CREATE TABLE web_prefs (
    account_id  BIGINT PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
    density     TEXT NOT NULL,
    lang        TEXT NOT NULL,
    theme       TEXT NOT NULL,
    updated_at  BIGINT NOT NULL
);

CREATE TABLE trusted_senders (
    account_id  BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    sender      TEXT NOT NULL,
    added_at    BIGINT NOT NULL,
    PRIMARY KEY (account_id, sender)
);

-- At most one row (id = 1): the banner shown until `until_at` (unix seconds, excluded) if set.
CREATE TABLE web_banner (
    id        BIGINT PRIMARY KEY,
    text      TEXT NOT NULL,
    until_at  BIGINT,
    set_at    BIGINT NOT NULL
);
