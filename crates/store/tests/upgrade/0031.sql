-- Version 31: a room, the account of the « Salle du conseil ».
INSERT INTO accounts (address, domain, login, display_name, role, status, quota_bytes, used_bytes, org_unit_id,
                      password_hash, created_at, status_changed_at)
VALUES ('salle-du-conseil.0541234a@ac-demo.fr', 'ac-demo.fr', NULL, 'Salle du conseil', 'fonctionnel', 'active',
        NULL, 0, (SELECT id FROM org_units WHERE uai = '0541234A'), NULL, 1700031000, 1700031000);
INSERT INTO resources (account_id, kind, created_at)
SELECT id, 'salle', 1700031000 FROM accounts WHERE address = 'salle-du-conseil.0541234a@ac-demo.fr';
