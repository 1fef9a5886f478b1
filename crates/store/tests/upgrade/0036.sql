-- Version 36: Claire has a passkey (used once), a registration in progress,
-- and a web session that proved its second factor (method left to its default).
INSERT INTO passkeys (account_id, credential_id, public_key, sign_count, name, created_at, last_used_at)
SELECT id, 'Y3JlZGVudGlhbA', 'pQECAyYgASFYIA', 7, 'Téléphone', 1700005000, 1700005100
FROM accounts WHERE address = 'claire.martin@ac-demo.fr';
INSERT INTO passkey_challenges (challenge_hash, purpose, account_id, expires_at)
SELECT 'defi-en-cours', 'register', id, 4000000000 FROM accounts WHERE address = 'claire.martin@ac-demo.fr';
INSERT INTO sso_session_factors (session_hash, account_id, at)
SELECT 'session-2fa', id, 1700005200 FROM accounts WHERE address = 'claire.martin@ac-demo.fr';
