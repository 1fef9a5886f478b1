-- Version 33: Claire's calendar shared read-only with her collège.
INSERT INTO dav_shares (collection_id, grantee_kind, grantee_id, rights, created_at)
SELECT c.id, 'unit', u.id, 'read', 1700004000
FROM dav_collections c, org_units u WHERE c.segment = 'agenda' AND u.uai = '0541234A';
