-- Version 9: Claire writes as herself (default) and as the CDI.
INSERT INTO mail_identities (account_id, name, address, signature, is_default, created_at)
SELECT id, 'Claire Martin', 'claire.martin@ac-demo.fr', '-- Claire', 1, 1700002400
FROM accounts WHERE address = 'claire.martin@ac-demo.fr';
INSERT INTO mail_identities (account_id, name, address, signature, is_default, created_at)
SELECT id, 'CDI Jules Ferry', 'cdi.jules-ferry@ac-demo.fr', '', 0, 1700002500
FROM accounts WHERE address = 'claire.martin@ac-demo.fr';
