-- Ardoise metadata schema, version 31: resources (issue 21, scheduling).
-- A resource is an account that never logs in (no password, no login) whose
-- calendar answers invitations by itself: accepted when free, declined on a
-- conflict. kind: 'salle' (a room) or 'materiel' (equipment). Deleting the
-- account deletes its row.
CREATE TABLE resources (
    account_id  BIGINT PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
