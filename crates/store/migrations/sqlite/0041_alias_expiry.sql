-- Ardoise metadata schema, version 41: aliases that end (issue 28). An agent
-- moved by the HR file to another académie gets an address in the new
-- académie's domain; the old one stays an alias until `expires_at` (unix
-- seconds), then housekeeping deletes it. NULL: kept for good (a rename).
ALTER TABLE aliases ADD COLUMN expires_at BIGINT;
