-- Version 6: Claire's vacation reply, and a sender it already answered.
INSERT INTO vacation (account_id, enabled, subject, body, starts_at, ends_at, interval_days, updated_at)
SELECT id, 1, 'Absente', 'Je suis absente jusqu''au 4 janvier.', 1700000000, 1800000000, 7, 1700002000
FROM accounts WHERE address = 'claire.martin@ac-demo.fr';
INSERT INTO vacation_replies (account_id, sender, replied_at)
SELECT id, 'parent@example.org', 1700002100 FROM accounts WHERE address = 'claire.martin@ac-demo.fr';
