-- Version 3: Claire's HR record, an administrative grant, two chained audit rows.
INSERT INTO people (numen_hash, account_id, civilite, nom, prenom, hr_role, hr_status, uai, secondary_address,
                    effective_date, departed_at, prior_status, updated_at)
SELECT 'f00df00df00df00df00df00df00df00df00df00df00df00df00df00df00df00d', id, 'Mme', 'MARTIN', 'Claire',
       'enseignant', 'actif', '0541234A', 'claire.perso@example.org', '2023-09-01', NULL, NULL, 1700000600
FROM accounts WHERE address = 'claire.martin@ac-demo.fr';

INSERT INTO role_grants (account_id, role, org_unit_id, created_at)
SELECT a.id, 'admin-etablissement', o.id, 1700000700
FROM accounts a, org_units o WHERE a.address = 'claire.martin@ac-demo.fr' AND o.uai = '0541234A';

INSERT INTO audit_log (at, actor, scope, action, target, detail, prev_hash, hash)
VALUES (1700000600, 'rh-sync', 'academie', 'account.create', 'claire.martin@ac-demo.fr', '{}', '', 'h1'),
       (1700000700, 'admin@ac-demo.fr', '0541234A', 'role.grant', 'claire.martin@ac-demo.fr',
        '{"role":"admin-etablissement"}', 'h1', 'h2');
