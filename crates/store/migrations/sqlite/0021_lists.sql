-- Ardoise metadata schema, version 21: distribution lists (issue 22).
-- A list owns an address on a local domain that no account or alias has
-- (`address_owner` checks all three). A static list names its members by
-- address (a local account, an outside address or another list, resolved
-- when a message is expanded); a dynamic one is a query over the HR
-- directory (an org unit's subtree, optionally one role) evaluated at
-- delivery time. Held posts keep one reference on their blob, like the
-- outbound queue, until they are approved or refused.
CREATE TABLE lists (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    address       TEXT NOT NULL UNIQUE,
    domain        TEXT NOT NULL REFERENCES domains(name),
    name          TEXT NOT NULL,
    description   TEXT NOT NULL DEFAULT '',
    kind          TEXT NOT NULL,
    unit_id       BIGINT REFERENCES org_units(id),
    role          TEXT,
    post_policy   TEXT NOT NULL DEFAULT 'anyone',
    discussion    BIGINT NOT NULL DEFAULT 0,
    tag           TEXT,
    created_at    BIGINT NOT NULL
);

CREATE TABLE list_members (
    list_id     BIGINT NOT NULL REFERENCES lists(id) ON DELETE CASCADE,
    address     TEXT NOT NULL,
    added_at    BIGINT NOT NULL,
    PRIMARY KEY (list_id, address)
);

CREATE TABLE list_senders (
    list_id     BIGINT NOT NULL REFERENCES lists(id) ON DELETE CASCADE,
    address     TEXT NOT NULL,
    PRIMARY KEY (list_id, address)
);

CREATE TABLE list_moderators (
    list_id     BIGINT NOT NULL REFERENCES lists(id) ON DELETE CASCADE,
    account_id  BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    PRIMARY KEY (list_id, account_id)
);

CREATE TABLE list_held (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    list_id      BIGINT NOT NULL REFERENCES lists(id) ON DELETE CASCADE,
    blob         TEXT NOT NULL,
    size         BIGINT NOT NULL,
    sender       TEXT NOT NULL,
    subject      TEXT NOT NULL,
    received_at  BIGINT NOT NULL
);
CREATE INDEX list_held_received ON list_held (received_at);
