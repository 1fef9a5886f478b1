-- Ardoise metadata schema, version 30: the webmail's reading preferences
-- (issue 19). time_zone: the IANA zone the account reads dates in (NULL:
-- the installation's [web] time_zone); reading_pane: 'aucun', 'droite' or
-- 'dessous'; notify: 'non', 'tous' or 'prioritaires' (browser notifications
-- of new mail). NULL words are the defaults ('aucun', 'non'). Saved apart
-- from density, language and theme, so neither form overwrites the other.
ALTER TABLE web_prefs ADD COLUMN time_zone TEXT;
ALTER TABLE web_prefs ADD COLUMN reading_pane TEXT;
ALTER TABLE web_prefs ADD COLUMN notify TEXT;
