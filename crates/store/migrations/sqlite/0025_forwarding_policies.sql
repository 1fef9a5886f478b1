-- Ardoise metadata schema, version 25: forwarding policies per organisational
-- unit (issue 20). An account's policy is its nearest unit's (walking up the
-- tree), else the installation's [forwarding] setting. policy is "internal",
-- "domains" or "anywhere"; domains is a space-separated list (with "domains").
CREATE TABLE forwarding_policies (
    org_unit_id BIGINT PRIMARY KEY REFERENCES org_units(id) ON DELETE CASCADE,
    policy      TEXT NOT NULL,
    domains     TEXT NOT NULL DEFAULT '',
    updated_at  BIGINT NOT NULL
);
