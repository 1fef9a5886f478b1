-- Ardoise metadata schema, version 8: the IMAP ENVELOPE of each message
-- content, rendered at delivery, so that FETCH ENVELOPE over a large mailbox
-- copies stored bytes instead of parsing the stored analysis per message.
-- imap_envelope is the form for sessions without UTF-8 (non-ASCII text as
-- RFC 2047 encoded words); imap_envelope_utf8 the form for UTF8=ACCEPT
-- sessions, NULL when it is the same. Both NULL for contents stored before
-- this version: readers fall back to the analysis in `meta`.
ALTER TABLE blobs ADD COLUMN imap_envelope TEXT;
ALTER TABLE blobs ADD COLUMN imap_envelope_utf8 TEXT;
