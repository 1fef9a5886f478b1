-- Version 42: Claire asked for more space (still open), and an earlier
-- request of hers was refused.
INSERT INTO quota_requests (account_id, reason, quota_bytes, used_bytes, requested_at, status, decided_at,
    decided_by, answer)
SELECT id, 'Archives', 1048576, 900000, 1700006000, 'refused', 1700006100, 'admin@ac-demo.fr', 'Trop tôt'
FROM accounts WHERE address = 'claire.martin@ac-demo.fr';
INSERT INTO quota_requests (account_id, reason, quota_bytes, used_bytes, requested_at)
SELECT id, 'Conseils de classe', 1048576, 1000000, 1700006200
FROM accounts WHERE address = 'claire.martin@ac-demo.fr';
