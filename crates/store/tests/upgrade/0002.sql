-- Version 2: the account's UIDVALIDITY floor, here as if a clock had once run
-- far ahead, so that the next mailbox created shows it was kept.
UPDATE accounts SET uid_validity_floor = 4000000000 WHERE address = 'claire.martin@ac-demo.fr';
