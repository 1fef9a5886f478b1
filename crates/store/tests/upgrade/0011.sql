-- Version 11: a content stored with its IMAP ENVELOPE, filed in Archives.
INSERT INTO blobs (hash, size, refcount, released_at, meta, subject, from_addr, sent_date, has_attachment, preview,
                   created_at, imap_envelope, imap_envelope_utf8)
VALUES ('eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee', 500, 1, NULL, '{}', 'Élections',
        'direction@ac-demo.fr', 1700002900, 0, '', 1700002900,
        '(NIL "=?utf-8?q?=C3=89lections?=" NIL NIL NIL NIL NIL NIL NIL "<m3@ac-demo.fr>")',
        '(NIL "Élections" NIL NIL NIL NIL NIL NIL NIL "<m3@ac-demo.fr>")');
UPDATE mailboxes SET uid_next = 2, highest_modseq = 2 WHERE name = 'Archives';
UPDATE accounts SET used_bytes = used_bytes + 500 WHERE address = 'claire.martin@ac-demo.fr';
INSERT INTO messages (account_id, mailbox_id, uid, modseq, flags, keywords, internal_date, saved_date, size,
                      thread_id, blob_hash, msgid_header)
SELECT m.account_id, m.id, 1, 2, 0, '', 1700002900, 1700002900, 500, 0,
       'eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee', 'm3@ac-demo.fr'
FROM mailboxes m WHERE m.name = 'Archives';
UPDATE messages SET thread_id = id WHERE msgid_header = 'm3@ac-demo.fr';
INSERT INTO thread_refs (account_id, msgid, thread_id)
SELECT account_id, msgid_header, thread_id FROM messages WHERE msgid_header = 'm3@ac-demo.fr';
INSERT INTO changes (account_id, mailbox_id, modseq, kind, uid, message_id, at)
SELECT account_id, mailbox_id, 2, 'new', uid, id, 1700002900 FROM messages WHERE msgid_header = 'm3@ac-demo.fr';
