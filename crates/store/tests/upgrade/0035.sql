-- Version 35: Claire sent 2 messages to 5 recipients in the window that
-- starts at 1700002800 (hourly windows).
INSERT INTO allowances (scope, subject, window_start, events, weight)
SELECT 'envoi', CAST(id AS TEXT), 1700002800, 2, 5 FROM accounts WHERE address = 'claire.martin@ac-demo.fr';
