-- Version 7: the password expiry reminders already mailed to Claire.
INSERT INTO password_reminders (account_id, changed_at, days_before, sent_at)
SELECT id, 1700001000, 14, 1700002200 FROM accounts WHERE address = 'claire.martin@ac-demo.fr';
INSERT INTO password_reminders (account_id, changed_at, days_before, sent_at)
SELECT id, 1700001000, 7, 1700002300 FROM accounts WHERE address = 'claire.martin@ac-demo.fr';
