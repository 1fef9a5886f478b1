-- Version 21: a discussion group with a held post, and an institutional list.
INSERT INTO lists (address, domain, name, description, kind, post_policy, discussion, tag, created_at)
VALUES ('cdi@ac-demo.fr', 'ac-demo.fr', 'CDI', '', 'static', 'anyone', 1, 'CDI', 1700000500);
INSERT INTO lists (address, domain, name, description, kind, post_policy, discussion, created_at)
VALUES ('direction@ac-demo.fr', 'ac-demo.fr', 'Direction', '', 'static', 'members', 0, 1700000600);
INSERT INTO list_members (list_id, address, added_at)
SELECT id, 'claire.martin@ac-demo.fr', 1700000700 FROM lists WHERE address = 'cdi@ac-demo.fr';
