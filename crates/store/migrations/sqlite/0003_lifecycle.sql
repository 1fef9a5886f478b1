-- Ardoise metadata schema, version 3 (SQLite dialect): the account lifecycle.
-- `people` links an account to its HR record through a keyed hash of the
-- NUMEN (never the NUMEN itself). `role_grants` gives administrative roles on
-- a subtree of organisational units. `audit_log` is append-only and
-- hash-chained: each row stores the previous row's hash and its own.

CREATE TABLE people (
    numen_hash         TEXT PRIMARY KEY,
    account_id         BIGINT NOT NULL UNIQUE REFERENCES accounts(id),
    civilite           TEXT NOT NULL,
    nom                TEXT NOT NULL,
    prenom             TEXT NOT NULL,
    hr_role            TEXT NOT NULL,
    hr_status          TEXT NOT NULL,
    uai                TEXT,
    secondary_address  TEXT,
    effective_date     TEXT,
    departed_at        BIGINT,
    prior_status       TEXT,
    updated_at         BIGINT NOT NULL
);

CREATE INDEX accounts_status_changed ON accounts(status_changed_at);

CREATE TABLE role_grants (
    account_id   BIGINT NOT NULL REFERENCES accounts(id),
    role         TEXT NOT NULL,
    org_unit_id  BIGINT NOT NULL REFERENCES org_units(id),
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (account_id, role, org_unit_id)
);

CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    at          BIGINT NOT NULL,
    actor       TEXT NOT NULL,
    scope       TEXT NOT NULL,
    action      TEXT NOT NULL,
    target      TEXT NOT NULL,
    detail      TEXT NOT NULL,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
);
