-- Ardoise metadata schema, version 35: allowances counted where every node
-- sees them (issue 28, several nodes). One row per (scope, subject, window):
-- how many events and how much weight (e.g. messages and recipients sent by
-- an account) fell in the window that starts at window_start (unix seconds).
-- A node alone keeps counting in memory; a cluster counts here, so that a
-- limit holds whatever node a client reaches. At most two windows are kept
-- per subject (the current and the previous one, for the sliding estimate).
CREATE TABLE allowances (
    scope         TEXT NOT NULL,
    subject       TEXT NOT NULL,
    window_start  BIGINT NOT NULL,
    events        BIGINT NOT NULL,
    weight        BIGINT NOT NULL,
    PRIMARY KEY (scope, subject, window_start)
);
