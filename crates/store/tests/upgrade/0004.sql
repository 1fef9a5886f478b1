-- Version 4: a message from Claire waiting for two remote recipients; the
-- queue entry holds one reference on its content.
INSERT INTO blobs (hash, size, refcount, released_at, meta, subject, from_addr, sent_date, has_attachment, preview,
                   created_at)
VALUES ('dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd', 1500, 1, NULL, '{}', 'Sortie au musée',
        'claire.martin@ac-demo.fr', 1700000800, 0, 'Bonjour,', 1700000800);

INSERT INTO outbound_queue (blob, size, sender, account_id, created_at, next_attempt_at, expires_at, attempts, warned,
                            lease_until)
SELECT 'dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd', 1500, 'claire.martin@ac-demo.fr', id,
       1700000800, 1700004400, 1700432800, 2, 1, 0
FROM accounts WHERE address = 'claire.martin@ac-demo.fr';

INSERT INTO outbound_recipients (queue_id, rcpt, domain, status, last_error, updated_at)
SELECT id, 'guide@musee.example', 'musee.example', 'pending', '451 4.7.1 Greylisted', 1700001000
FROM outbound_queue WHERE sender = 'claire.martin@ac-demo.fr';
INSERT INTO outbound_recipients (queue_id, rcpt, domain, status, last_error, updated_at)
SELECT id, 'parent@example.org', 'example.org', 'failed', '550 5.1.1 User unknown', 1700001000
FROM outbound_queue WHERE sender = 'claire.martin@ac-demo.fr';
