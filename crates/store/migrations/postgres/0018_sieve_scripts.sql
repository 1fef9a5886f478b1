-- Ardoise metadata schema, version 18: Sieve scripts (RFC 5228), put and
-- read over ManageSieve (RFC 5804) and run at delivery. Each account names
-- its scripts; at most one is active (the partial unique index says so).
-- revision grows at every change of a script's text, so that a node's
-- compiled copy is known stale without comparing texts.
CREATE TABLE sieve_scripts (
    account_id  BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    source      TEXT NOT NULL,
    size        BIGINT NOT NULL,
    active      BIGINT NOT NULL DEFAULT 0,
    revision    BIGINT NOT NULL DEFAULT 1,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (account_id, name)
);
CREATE UNIQUE INDEX sieve_scripts_one_active ON sieve_scripts (account_id) WHERE active = 1;
