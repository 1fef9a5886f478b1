-- Version 32: Claire shares a document (two versions), downloaded once; and
-- an upload in progress.
INSERT INTO shares (account_id, token, name, password, recipients, created_at, expires_at, notified)
SELECT id, '00112233445566778899aabbccddeeff00112233', 'bilan.pdf', NULL, 'paul.durand@ac-demo.fr', 1700004000,
       4000000000, 1
FROM accounts WHERE address = 'claire.martin@ac-demo.fr';
INSERT INTO share_versions (share_id, version, blob_id, size, filename, created_at)
SELECT id, 1, 'dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd', 1000, 'bilan.pdf', 1700004000
FROM shares WHERE name = 'bilan.pdf';
INSERT INTO share_versions (share_id, version, blob_id, size, filename, created_at)
SELECT id, 2, 'eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee', 2000, 'bilan-v2.pdf', 1700004100
FROM shares WHERE name = 'bilan.pdf';
INSERT INTO share_downloads (share_id, version, at, address, who)
SELECT id, 1, 1700004050, '192.0.2.7', 'paul.durand@ac-demo.fr' FROM shares WHERE name = 'bilan.pdf';
INSERT INTO share_uploads (id, account_id, length, filename, share_id, blob_id, created_at)
SELECT 'ffffffffffffffffffffffffffffffff', id, 500, 'notes.txt', NULL, NULL, 1700004200
FROM accounts WHERE address = 'claire.martin@ac-demo.fr';
