-- Ardoise metadata schema, version 40: the académie directory's changes (issue 21).
-- The directory's change feed, for CardDAV sync-collection (RFC 6578) on the
-- read-only académie book: one row per card (`compte-<id>`, `liste-<id>`)
-- whose text or visibility may have changed, under the domain of the account
-- or list (an account moved to another domain leaves a row under each). A row
-- without item (and without domain) says that every reader's view may have
-- changed: a unit moved in the tree; it raises the floor. `seq` is the
-- counter the sync tokens carry. Rows are written by triggers, so every code
-- path that changes an account, a list or a unit (HR sync, the admin console
-- and CLI, renames, suspensions) writes them in its own transaction.
-- Housekeeping deletes old rows and raises `directory_sync_floor.floor` to
-- the last seq deleted: a token below the floor is refused
-- (`DAV:valid-sync-token`) and the client reads the book again.
CREATE TABLE directory_changes (
    seq     INTEGER PRIMARY KEY AUTOINCREMENT,
    domain  TEXT,
    item    TEXT,
    at      BIGINT NOT NULL
);
CREATE INDEX directory_changes_domain ON directory_changes(domain, seq);
CREATE INDEX directory_changes_at ON directory_changes(at);

CREATE TABLE directory_sync_floor (
    id     BIGINT PRIMARY KEY,
    floor  BIGINT NOT NULL
);
INSERT INTO directory_sync_floor (id, floor) VALUES (1, 0);

-- Dialect-specific from here: the triggers (the dialect test compares only
-- what is above this line).
CREATE TRIGGER directory_account_added AFTER INSERT ON accounts
BEGIN
    INSERT INTO directory_changes (domain, item, at) VALUES (NEW.domain, 'compte-' || NEW.id, CAST(strftime('%s', 'now') AS INTEGER));
END;

CREATE TRIGGER directory_account_changed
AFTER UPDATE OF address, domain, display_name, role, status, org_unit_id ON accounts
WHEN OLD.address IS NOT NEW.address OR OLD.domain IS NOT NEW.domain OR OLD.display_name IS NOT NEW.display_name
  OR OLD.role IS NOT NEW.role OR OLD.status IS NOT NEW.status OR OLD.org_unit_id IS NOT NEW.org_unit_id
BEGIN
    INSERT INTO directory_changes (domain, item, at) VALUES (NEW.domain, 'compte-' || NEW.id, CAST(strftime('%s', 'now') AS INTEGER));
    INSERT INTO directory_changes (domain, item, at)
        SELECT OLD.domain, 'compte-' || OLD.id, CAST(strftime('%s', 'now') AS INTEGER) WHERE OLD.domain <> NEW.domain;
END;

CREATE TRIGGER directory_account_removed AFTER DELETE ON accounts
BEGIN
    INSERT INTO directory_changes (domain, item, at) VALUES (OLD.domain, 'compte-' || OLD.id, CAST(strftime('%s', 'now') AS INTEGER));
END;

CREATE TRIGGER directory_list_added AFTER INSERT ON lists
BEGIN
    INSERT INTO directory_changes (domain, item, at) VALUES (NEW.domain, 'liste-' || NEW.id, CAST(strftime('%s', 'now') AS INTEGER));
END;

CREATE TRIGGER directory_list_changed
AFTER UPDATE OF address, domain, name, description, unit_id ON lists
WHEN OLD.address IS NOT NEW.address OR OLD.domain IS NOT NEW.domain OR OLD.name IS NOT NEW.name
  OR OLD.description IS NOT NEW.description OR OLD.unit_id IS NOT NEW.unit_id
BEGIN
    INSERT INTO directory_changes (domain, item, at) VALUES (NEW.domain, 'liste-' || NEW.id, CAST(strftime('%s', 'now') AS INTEGER));
    INSERT INTO directory_changes (domain, item, at)
        SELECT OLD.domain, 'liste-' || OLD.id, CAST(strftime('%s', 'now') AS INTEGER) WHERE OLD.domain <> NEW.domain;
END;

CREATE TRIGGER directory_list_removed AFTER DELETE ON lists
BEGIN
    INSERT INTO directory_changes (domain, item, at) VALUES (OLD.domain, 'liste-' || OLD.id, CAST(strftime('%s', 'now') AS INTEGER));
END;

CREATE TRIGGER directory_unit_renamed AFTER UPDATE OF name, uai, kind ON org_units
WHEN OLD.name IS NOT NEW.name OR OLD.uai IS NOT NEW.uai OR OLD.kind IS NOT NEW.kind
BEGIN
    INSERT INTO directory_changes (domain, item, at)
        SELECT domain, 'compte-' || id, CAST(strftime('%s', 'now') AS INTEGER) FROM accounts WHERE org_unit_id = NEW.id;
END;

CREATE TRIGGER directory_unit_moved AFTER UPDATE OF parent_id ON org_units
WHEN OLD.parent_id IS NOT NEW.parent_id
BEGIN
    INSERT INTO directory_changes (domain, item, at) VALUES (NULL, NULL, CAST(strftime('%s', 'now') AS INTEGER));
    UPDATE directory_sync_floor SET floor = (SELECT MAX(seq) FROM directory_changes) WHERE id = 1;
END;
