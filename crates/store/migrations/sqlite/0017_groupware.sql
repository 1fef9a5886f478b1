-- Ardoise metadata schema, version 17: calendars and address books (CalDAV, CardDAV).
-- A collection belongs to one account and is a calendar or an address book,
-- named in URLs by its segment. sync_counter grows by one at every change of
-- one of its objects: it is the collection's CTag and RFC 6578 sync token.
CREATE TABLE dav_collections (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id    BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    kind          TEXT NOT NULL,
    segment       TEXT NOT NULL,
    display_name  TEXT NOT NULL,
    colour        TEXT NOT NULL,
    description   TEXT NOT NULL,
    components    TEXT NOT NULL,
    sync_counter  BIGINT NOT NULL,
    created_at    BIGINT NOT NULL,
    UNIQUE (account_id, kind, segment)
);
-- One iCalendar or vCard object. etag is a hash of its text; first_start and
-- last_end bound its occurrences in UTC seconds, NULL when unbounded (a
-- recurrence without end, a task without dates). modseq is the collection's
-- sync_counter at its last change.
CREATE TABLE dav_objects (
    collection_id BIGINT NOT NULL REFERENCES dav_collections(id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    uid           TEXT NOT NULL,
    etag          TEXT NOT NULL,
    component     TEXT NOT NULL,
    content       TEXT NOT NULL,
    first_start   BIGINT,
    last_end      BIGINT,
    modseq        BIGINT NOT NULL,
    PRIMARY KEY (collection_id, name),
    UNIQUE (collection_id, uid)
);
CREATE INDEX dav_objects_by_start ON dav_objects (collection_id, first_start);
-- The collection's change log for sync-collection: the last change of each
-- name, deletions kept as tombstones (deleted = 1).
CREATE TABLE dav_changes (
    collection_id BIGINT NOT NULL REFERENCES dav_collections(id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    modseq        BIGINT NOT NULL,
    deleted       BIGINT NOT NULL,
    PRIMARY KEY (collection_id, name)
);
CREATE INDEX dav_changes_by_modseq ON dav_changes (collection_id, modseq);
