-- Version 10: Claire's webmail preferences, a trusted sender, the banner.
INSERT INTO web_prefs (account_id, density, lang, theme, updated_at)
SELECT id, 'compacte', 'en', 'sombre', 1700002600 FROM accounts WHERE address = 'claire.martin@ac-demo.fr';
INSERT INTO trusted_senders (account_id, sender, added_at)
SELECT id, 'lettre@musee.example', 1700002700 FROM accounts WHERE address = 'claire.martin@ac-demo.fr';
INSERT INTO web_banner (id, text, until_at, set_at) VALUES (1, 'Maintenance samedi de 8 h à 10 h.', NULL, 1700002800);
