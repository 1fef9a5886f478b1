-- Version 17: Claire's calendar with one event (changed twice) and a deleted one.
INSERT INTO dav_collections (account_id, kind, segment, display_name, colour, description, components, sync_counter,
                             created_at)
SELECT id, 'calendar', 'agenda', 'Agenda', '#000091', '', 'VEVENT,VTODO,VJOURNAL', 3, 1700003000
FROM accounts WHERE address = 'claire.martin@ac-demo.fr';
INSERT INTO dav_objects (collection_id, name, uid, etag, component, content, first_start, last_end, modseq)
SELECT c.id, 'conseil.ics', 'conseil', 'e2', 'VEVENT', 'BEGIN:VCALENDAR', 1700003600, 1700007200, 2
FROM dav_collections c WHERE c.segment = 'agenda';
INSERT INTO dav_changes (collection_id, name, modseq, deleted)
SELECT c.id, 'conseil.ics', 2, 0 FROM dav_collections c WHERE c.segment = 'agenda';
INSERT INTO dav_changes (collection_id, name, modseq, deleted)
SELECT c.id, 'annule.ics', 3, 1 FROM dav_collections c WHERE c.segment = 'agenda';
