-- Ardoise metadata schema, version 27: administrators' Sieve scripts per
-- organisational unit (issue 20). At delivery, the script of the account's
-- nearest unit (walking up the tree) runs before the account's own active
-- script, as if included with `include :global` (RFC 6609): its `stop` ends
-- filtering, its `fileinto` cancels the implicit keep. revision grows at
-- every change of the text, so a compiled copy of an older text is stale.
CREATE TABLE admin_sieve_scripts (
    org_unit_id BIGINT PRIMARY KEY REFERENCES org_units(id) ON DELETE CASCADE,
    source      TEXT NOT NULL,
    revision    BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
