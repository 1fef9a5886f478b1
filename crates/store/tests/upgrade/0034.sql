-- Version 34: Paul reads and writes all of Claire's mail and may send on her
-- behalf; he read her Inbox once.
INSERT INTO mailbox_grants (owner_id, mailbox_id, grantee_id, rights, send_as, on_behalf, created_at)
SELECT c.id, NULL, p.id, 'lrswipte', 0, 1, 1700036000
FROM accounts c, accounts p WHERE c.address = 'claire.martin@ac-demo.fr' AND p.address = 'paul.durand@ac-demo.fr';
INSERT INTO delegation_journal (owner_id, actor_id, action, detail, at)
SELECT c.id, p.id, 'lecture', 'INBOX', 1700036100
FROM accounts c, accounts p WHERE c.address = 'claire.martin@ac-demo.fr' AND p.address = 'paul.durand@ac-demo.fr';
