-- Version 5: Claire's credentials (TOTP on, history, recovery codes, an app
-- password, journal, a web session, a reset link not yet used).
INSERT INTO credential_state (account_id, totp_secret, totp_enabled_at, totp_last_step, password_changed_at)
SELECT id, 'sealed-totp-seed', 1700001100, 56666703, 1700001000
FROM accounts WHERE address = 'claire.martin@ac-demo.fr';

INSERT INTO password_history (account_id, hash, at)
SELECT id, '$argon2id$v=19$m=19456,t=2,p=1$b2xk$b2xkMQ', 1700000000 FROM accounts WHERE address = 'claire.martin@ac-demo.fr';
INSERT INTO password_history (account_id, hash, at)
SELECT id, '$argon2id$v=19$m=19456,t=2,p=1$b2xk$b2xkMg', 1700001000 FROM accounts WHERE address = 'claire.martin@ac-demo.fr';

INSERT INTO recovery_codes (account_id, code_hash, used_at)
SELECT id, 'rc1', NULL FROM accounts WHERE address = 'claire.martin@ac-demo.fr';
INSERT INTO recovery_codes (account_id, code_hash, used_at)
SELECT id, 'rc2', 1700001200 FROM accounts WHERE address = 'claire.martin@ac-demo.fr';

INSERT INTO app_passwords (account_id, name, scopes, token_hash, created_at, last_used_at, revoked_at)
SELECT id, 'Thunderbird', 'imap smtp', 'apptoken1', 1700001300, 1700001400, NULL
FROM accounts WHERE address = 'claire.martin@ac-demo.fr';

INSERT INTO login_journal (at, account_id, login, protocol, ip, client, result)
SELECT 1700001500, id, 'cmartin', 'imap', '192.0.2.10', 'Thunderbird', 'bad'
FROM accounts WHERE address = 'claire.martin@ac-demo.fr';
INSERT INTO login_journal (at, account_id, login, protocol, ip, client, result)
SELECT 1700001510, id, 'cmartin', 'imap', '192.0.2.10', 'Thunderbird', 'ok'
FROM accounts WHERE address = 'claire.martin@ac-demo.fr';
INSERT INTO login_journal (at, account_id, login, protocol, ip, client, result)
VALUES (1700001520, NULL, 'inconnu', 'smtp', '198.51.100.7', '', 'bad');

INSERT INTO web_sessions (token_hash, account_id, stage, created_at, last_seen, expires_at, ip, client)
SELECT 'sessiontoken1', id, 'full', 1700001600, 1700001600, 4000000000, '192.0.2.10', 'Firefox'
FROM accounts WHERE address = 'claire.martin@ac-demo.fr';

INSERT INTO reset_tokens (token_hash, account_id, created_at, expires_at, used_at)
SELECT 'resettoken1', id, 1700001700, 4000000000, NULL FROM accounts WHERE address = 'claire.martin@ac-demo.fr';
