-- Ardoise metadata schema, version 29: automatic archiving per organisational
-- unit (issue 20). An account's delay is its own choice (archive_settings),
-- else its nearest unit's (walking up the tree), else the installation's
-- [mail] archive_days. days = 0: never.
CREATE TABLE archive_policies (
    org_unit_id BIGINT PRIMARY KEY REFERENCES org_units(id) ON DELETE CASCADE,
    days        BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
