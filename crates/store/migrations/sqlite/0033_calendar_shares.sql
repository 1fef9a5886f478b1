-- Ardoise metadata schema, version 33: calendars shared (issue 21).
-- The owner of a collection grants a right (freebusy, read or write) to an
-- account or to an organisational unit (an établissement, a DSDEN, the
-- académie: everyone whose unit is it or below it). One row per grantee;
-- sharing again changes the right.
CREATE TABLE dav_shares (
    collection_id BIGINT NOT NULL REFERENCES dav_collections(id) ON DELETE CASCADE,
    grantee_kind  TEXT NOT NULL,
    grantee_id    BIGINT NOT NULL,
    rights        TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (collection_id, grantee_kind, grantee_id)
);
CREATE INDEX dav_shares_by_grantee ON dav_shares (grantee_kind, grantee_id);
