-- Rows as a release at schema version 1 wrote them (see crates/store/tests/suite/upgrade.rs).
-- Ids are never given: rows find each other by their natural keys, so the
-- identity sequences stay as the real code would have left them.
INSERT INTO domains (name, created_at) VALUES ('ac-demo.fr', 1700000000);

INSERT INTO org_units (parent_id, kind, name, uai) VALUES (NULL, 'academie', 'Académie de démonstration', NULL);
INSERT INTO org_units (parent_id, kind, name, uai)
    VALUES ((SELECT id FROM org_units WHERE kind = 'academie'), 'etablissement', 'Collège Jules Ferry', '0541234A');

INSERT INTO accounts (address, domain, login, display_name, role, status, quota_bytes, used_bytes, org_unit_id,
                      password_hash, created_at, status_changed_at)
VALUES ('claire.martin@ac-demo.fr', 'ac-demo.fr', 'cmartin', 'Claire Martin', 'enseignant', 'active', 1073741824,
        4000, (SELECT id FROM org_units WHERE uai = '0541234A'), '$argon2id$v=19$m=19456,t=2,p=1$c2Vs$aGFzaA',
        1700000000, 1700000000),
       ('paul.durand@ac-demo.fr', 'ac-demo.fr', NULL, 'Paul Durand', 'enseignant', 'suspended', NULL, 0, NULL, NULL,
        1700000000, 1700000500);

INSERT INTO aliases (address, account_id, created_at)
VALUES ('cdi.jules-ferry@ac-demo.fr', (SELECT id FROM accounts WHERE address = 'claire.martin@ac-demo.fr'), 1700000010);

-- Claire's special-use folders, as account creation made them, and two of her own.
INSERT INTO mailboxes (account_id, parent_id, name, special_use, uid_validity, uid_next, highest_modseq, subscribed,
                       created_at)
SELECT a.id, NULL, f.name, f.special_use, 1700000000, f.uid_next, f.highest_modseq, 1, 1700000000
FROM accounts a,
     (SELECT 'INBOX' AS name, 'inbox' AS special_use, 3 AS uid_next, 4 AS highest_modseq
      UNION ALL SELECT 'Brouillons', 'drafts', 1, 1
      UNION ALL SELECT 'Envoyés', 'sent', 1, 1
      UNION ALL SELECT 'Corbeille', 'trash', 1, 1
      UNION ALL SELECT 'Indésirables', 'junk', 1, 1
      UNION ALL SELECT 'Archives', 'archive', 1, 1
      UNION ALL SELECT 'Projets', NULL, 2, 2) f
WHERE a.address = 'claire.martin@ac-demo.fr';
INSERT INTO mailboxes (account_id, parent_id, name, special_use, uid_validity, uid_next, highest_modseq, subscribed,
                       created_at)
SELECT m.account_id, m.id, 'Projets/2026', NULL, 1700000001, 1, 1, 0, 1700000001
FROM mailboxes m WHERE m.name = 'Projets';

-- Two contents: one in INBOX and copied to Projets (refcount 2), one in INBOX
-- only; a third whose last copy was expunged, waiting for the collector.
INSERT INTO blobs (hash, size, refcount, released_at, meta, subject, from_addr, sent_date, has_attachment, preview,
                   created_at)
VALUES ('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', 1000, 2, NULL,
        '{"subject":"Conseil de classe","from":"direction@ac-demo.fr"}', 'Conseil de classe',
        'direction@ac-demo.fr', 1699999000, 0, 'Le conseil de classe aura lieu mardi.', 1700000100),
       ('bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb', 2000, 1, NULL,
        '{"subject":"Re: Conseil de classe"}', 'Re: Conseil de classe', 'paul.durand@ac-demo.fr', NULL, 1,
        'Je serai présent, pièce jointe : ordre du jour.', 1700000200),
       ('cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc', 300, 0, 1700000300, '{}', 'Ancien',
        'x@example.org', NULL, 0, '', 1700000050);

-- INBOX uid 1 (\Seen \Flagged, two keywords, its flags changed once: modseq 4),
-- INBOX uid 2 (a reply in the same thread), Projets uid 1 (a copy of uid 1).
INSERT INTO messages (account_id, mailbox_id, uid, modseq, flags, keywords, internal_date, saved_date, size,
                      thread_id, blob_hash, msgid_header)
SELECT m.account_id, m.id, 1, 4, 5, '$Forwarded Projet', 1700000100, 1700000100, 1000, 0,
       'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', 'm1@ac-demo.fr'
FROM mailboxes m WHERE m.name = 'INBOX';
UPDATE messages SET thread_id = id WHERE msgid_header = 'm1@ac-demo.fr';
INSERT INTO messages (account_id, mailbox_id, uid, modseq, flags, keywords, internal_date, saved_date, size,
                      thread_id, blob_hash, msgid_header)
SELECT m.account_id, m.id, 2, 3, 0, '', 1700000200, 1700000200, 2000,
       (SELECT id FROM messages WHERE msgid_header = 'm1@ac-demo.fr'),
       'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb', 'm2@ac-demo.fr'
FROM mailboxes m WHERE m.name = 'INBOX';
INSERT INTO messages (account_id, mailbox_id, uid, modseq, flags, keywords, internal_date, saved_date, size,
                      thread_id, blob_hash, msgid_header)
SELECT m.account_id, m.id, 1, 2, 1, '', 1700000100, 1700000400, 1000,
       (SELECT id FROM messages WHERE msgid_header = 'm1@ac-demo.fr'),
       'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', 'm1@ac-demo.fr'
FROM mailboxes m WHERE m.name = 'Projets';

INSERT INTO thread_refs (account_id, msgid, thread_id)
SELECT account_id, msgid_header, thread_id FROM messages WHERE mailbox_id = (SELECT id FROM mailboxes WHERE name = 'INBOX');

INSERT INTO changes (account_id, mailbox_id, modseq, kind, uid, message_id, at)
SELECT account_id, mailbox_id, 2, 'new', uid, id, 1700000100 FROM messages WHERE uid = 1 AND modseq = 4;
INSERT INTO changes (account_id, mailbox_id, modseq, kind, uid, message_id, at)
SELECT account_id, mailbox_id, 3, 'new', uid, id, 1700000200 FROM messages WHERE uid = 2;
INSERT INTO changes (account_id, mailbox_id, modseq, kind, uid, message_id, at)
SELECT account_id, mailbox_id, 4, 'flags', uid, id, 1700000250 FROM messages WHERE uid = 1 AND modseq = 4;
INSERT INTO changes (account_id, mailbox_id, modseq, kind, uid, message_id, at)
SELECT account_id, mailbox_id, 2, 'new', uid, id, 1700000400 FROM messages WHERE modseq = 2;
