-- Ardoise metadata schema, version 37: reminders (VALARM, issue 21).
-- dav_objects.next_alarm is when the object's next alarm fires (UTC seconds),
-- NULL when it has none to come, 0 when not computed yet (objects stored
-- before this version, a calendar whose default reminder changed): the
-- reminder runner computes those. Firing claims the row by compare and set
-- on next_alarm, so an alarm fires once across nodes and restarts.
-- dav_collections gain the calendar's default reminder (minutes before the
-- start of a timed event without alarms of its own; NULL: none) and whether
-- its reminders are also mailed to the owner.
-- reminders are the fired alarms an owner sees in the webmail until they
-- dismiss them; mail_state 0: not mailed, 1: to mail, 2: mailed (claimed
-- before sending).
ALTER TABLE dav_objects ADD COLUMN next_alarm BIGINT;
UPDATE dav_objects SET next_alarm = 0 WHERE component IN ('VEVENT', 'VTODO');
CREATE INDEX dav_objects_next_alarm ON dav_objects (next_alarm) WHERE next_alarm IS NOT NULL;
ALTER TABLE dav_collections ADD COLUMN reminder_minutes BIGINT;
ALTER TABLE dav_collections ADD COLUMN reminder_mail BIGINT NOT NULL DEFAULT 0;
CREATE TABLE reminders (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id    BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    collection_id BIGINT NOT NULL REFERENCES dav_collections(id) ON DELETE CASCADE,
    object_name   TEXT NOT NULL,
    title         TEXT NOT NULL,
    location      TEXT NOT NULL,
    starts_at     BIGINT NOT NULL,
    fire_at       BIGINT NOT NULL,
    created_at    BIGINT NOT NULL,
    dismissed_at  BIGINT,
    mail_state    BIGINT NOT NULL,
    UNIQUE (collection_id, object_name, starts_at, fire_at)
);
CREATE INDEX reminders_account ON reminders (account_id, fire_at);
CREATE INDEX reminders_to_mail ON reminders (mail_state) WHERE mail_state = 1;
