//! French first, English second: the page texts and the choice of language.

/// A language of the interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Fr,
    En,
}

impl Lang {
    pub fn parse(s: &str) -> Option<Lang> {
        match s {
            "fr" => Some(Lang::Fr),
            "en" => Some(Lang::En),
            _ => None,
        }
    }
    pub fn code(self) -> &'static str {
        match self {
            Lang::Fr => "fr",
            Lang::En => "en",
        }
    }
    /// The first of fr/en named in an `Accept-Language` header; French when
    /// neither is (the institution's language).
    pub fn from_accept(header: Option<&str>) -> Lang {
        for part in header.unwrap_or("").split(',') {
            let tag = part.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
            if tag.starts_with("fr") {
                return Lang::Fr;
            }
            if tag.starts_with("en") {
                return Lang::En;
            }
        }
        Lang::Fr
    }
}

/// What templates call to get a text: `{{ c.t.get("login.title") }}`.
#[derive(Debug, Clone, Copy)]
pub struct Tr(pub Lang);

impl Tr {
    pub fn code(&self) -> &'static str {
        self.0.code()
    }
    pub fn get(&self, key: &str) -> &'static str {
        lookup(TEXTS, key, self.0)
    }
    /// French or English, picked here (for texts built in handlers).
    pub fn pick<'a>(&self, fr: &'a str, en: &'a str) -> &'a str {
        match self.0 {
            Lang::Fr => fr,
            Lang::En => en,
        }
    }
}

/// The text of `key` in `lang` from a (key, French, English) table; `??`
/// for an unknown key (tests check that every key a template uses exists).
pub fn lookup(table: &[(&str, &'static str, &'static str)], key: &str, lang: Lang) -> &'static str {
    match table.iter().find(|(k, _, _)| *k == key) {
        Some((_, fr, en)) => match lang {
            Lang::Fr => fr,
            Lang::En => en,
        },
        None => "??",
    }
}

/// (key, French, English).
pub const TEXTS: &[(&str, &str, &str)] = &[
    ("skip", "Aller au contenu", "Skip to content"),
    ("republic", "Académie — Éducation nationale", "Académie — French national education"),
    ("tagline", "messagerie académique", "academic mail"),
    ("tools", "Outils", "Tools"),
    ("security", "Sécurité", "Security"),
    ("logout", "Se déconnecter", "Log out"),
    ("nav.mail", "Courrier", "Mail"),
    ("nav.agenda", "Agenda", "Calendar"),
    ("nav.settings", "Réglages", "Settings"),
    ("nav.help", "Aide", "Help"),
    ("nav.directory", "Annuaire", "Directory"),
    ("nav.admin", "Administration", "Administration"),
    ("continue", "Continuer", "Continue"),
    ("login.title", "Connexion", "Log in"),
    ("sso.refused", "Connexion à l'application refusée", "Sign-in to the application refused"),
    ("sso.consent.title", "Autoriser l'application", "Allow the application"),
    (
        "sso.consent.intro",
        "Vous êtes sur le point de vous connecter avec votre compte Ardoise à",
        "You are about to sign in with your Ardoise account to",
    ),
    ("sso.consent.claims", "Cette application recevra :", "This application will receive:"),
    ("sso.consent.accept", "Autoriser", "Allow"),
    ("sso.consent.refuse", "Refuser", "Refuse"),
    (
        "sso.consent.note",
        "Votre mot de passe n'est jamais transmis à l'application. Votre accord est mémorisé pour les prochaines connexions.",
        "Your password is never given to the application. Your consent is remembered for the next sign-ins.",
    ),
    ("sso.logout.title", "Déconnexion", "Log out"),
    (
        "sso.logout.ask",
        "Voulez-vous fermer votre session Ardoise (messagerie et applications) ?",
        "Do you want to end your Ardoise session (mail and applications)?",
    ),
    ("sso.logout.submit", "Me déconnecter", "Log me out"),
    (
        "sso.logout.done",
        "Vous êtes déconnecté d'Ardoise et des applications qui s'y connectent.",
        "You are logged out of Ardoise and of the applications signed in through it.",
    ),
    ("login.intro", "Connectez-vous avec votre identifiant académique.", "Log in with your academic identifier."),
    ("login.identifier", "Identifiant", "Identifier"),
    (
        "login.identifier.help",
        "Votre adresse (prenom.nom@…) ou votre identifiant court.",
        "Your address (firstname.lastname@…) or your short login.",
    ),
    ("login.password", "Mot de passe", "Password"),
    ("up.with", "Se connecter avec", "Log in with"),
    (
        "up.or",
        "ou avec votre identifiant et votre mot de passe de messagerie :",
        "or with your mail identifier and password:",
    ),
    ("up.refused", "Connexion refusée", "Login refused"),
    (
        "up.only",
        "La connexion au webmail passe par le fournisseur d'identité de l'académie : utilisez le bouton ci-dessus.",
        "The webmail login goes through the académie's identity provider: use the button above.",
    ),
    ("login.submit", "Se connecter", "Log in"),
    (
        "login.first",
        "Première connexion ? Saisissez votre identifiant et, comme mot de passe provisoire, votre NUMEN.",
        "First login? Enter your identifier and, as provisional password, your NUMEN.",
    ),
    ("totp.title", "Validation en deux étapes", "Two-step verification"),
    (
        "totp.intro",
        "Saisissez le code à 6 chiffres affiché par votre application d'authentification.",
        "Enter the 6-digit code shown by your authenticator app.",
    ),
    ("totp.code", "Code de vérification", "Verification code"),
    ("totp.submit", "Valider", "Verify"),
    (
        "totp.recovery",
        "Téléphone perdu ? Saisissez l'un de vos codes de secours à la place.",
        "Lost your phone? Enter one of your recovery codes instead.",
    ),
    ("totp.bad", "Code incorrect ou déjà utilisé.", "Wrong or already used code."),
    ("pw.title", "Changer de mot de passe", "Change password"),
    ("pw.first.title", "Première connexion : choisissez votre mot de passe", "First login: choose your password"),
    (
        "pw.first.intro",
        "Votre mot de passe provisoire (votre NUMEN) doit être remplacé avant d'accéder à la messagerie.",
        "Your provisional password (your NUMEN) must be replaced before you can use your mail.",
    ),
    ("pw.current", "Mot de passe actuel", "Current password"),
    ("pw.current.first", "Mot de passe provisoire (NUMEN)", "Provisional password (NUMEN)"),
    ("pw.new", "Nouveau mot de passe", "New password"),
    ("pw.confirm", "Confirmer le nouveau mot de passe", "Confirm the new password"),
    ("pw.revoke_apps", "Révoquer aussi les mots de passe d'application", "Also revoke the app passwords"),
    (
        "pw.revoke_apps.help",
        "Les logiciels de messagerie et téléphones connectés avec un mot de passe d'application seront déconnectés.",
        "Mail clients and phones connected with an app password will be disconnected.",
    ),
    ("pw.submit", "Enregistrer le mot de passe", "Save the password"),
    ("pw.wrong", "Le mot de passe actuel est incorrect.", "The current password is wrong."),
    (
        "pw.expired",
        "Votre mot de passe a expiré : choisissez-en un nouveau pour continuer.",
        "Your password has expired: choose a new one to continue.",
    ),
    ("pw.done", "Votre mot de passe a été changé.", "Your password was changed."),
    ("enrol.title", "Activer la validation en deux étapes", "Turn on two-step verification"),
    (
        "enrol.required",
        "Votre fonction exige la validation en deux étapes : activez-la pour continuer.",
        "Your role requires two-step verification: turn it on to continue.",
    ),
    (
        "enrol.optional",
        "Recommandée : un code de votre téléphone sera demandé en plus du mot de passe.",
        "Recommended: a code from your phone will be asked for in addition to your password.",
    ),
    (
        "enrol.step1",
        "Installez une application d'authentification (FreeOTP, Aegis, Google Authenticator…).",
        "Install an authenticator app (FreeOTP, Aegis, Google Authenticator…).",
    ),
    ("enrol.step2", "Scannez ce code QR avec l'application.", "Scan this QR code with the app."),
    ("enrol.qr.alt", "Code QR de configuration de l'application", "QR code to set up the app"),
    ("enrol.manual", "Ou saisissez cette clé :", "Or type this key:"),
    ("enrol.step3", "Saisissez le code à 6 chiffres qu'elle affiche.", "Enter the 6-digit code it shows."),
    ("enrol.submit", "Activer", "Turn on"),
    ("enrol.skip", "Plus tard", "Later"),
    ("codes.title", "Vos codes de secours", "Your recovery codes"),
    (
        "codes.intro",
        "Chaque code permet une seule connexion si vous perdez votre téléphone. Notez-les et gardez-les en lieu \
         sûr : ils ne seront plus affichés.",
        "Each code allows one login if you lose your phone. Write them down and keep them safe: they will not be \
         shown again.",
    ),
    ("forgot.title", "Mot de passe oublié ?", "Forgotten password?"),
    (
        "forgot.intro",
        "Saisissez votre identifiant et votre NUMEN : un lien valable 30 minutes sera envoyé à votre adresse \
         secondaire (celle connue des ressources humaines).",
        "Enter your identifier and your NUMEN: a link valid 30 minutes will be sent to your secondary address \
         (the one human resources know).",
    ),
    ("forgot.numen.help", "Votre identifiant national à 13 caractères.", "Your 13-character national identifier."),
    ("forgot.submit", "Recevoir un lien", "Send me a link"),
    (
        "forgot.sent",
        "Si ces informations correspondent à un compte, un lien vient d'être envoyé à son adresse secondaire. \
         Il est valable 30 minutes.",
        "If these details match an account, a link was just sent to its secondary address. It is valid 30 minutes.",
    ),
    ("reset.title", "Choisir un nouveau mot de passe", "Choose a new password"),
    ("reset.intro", "Nouveau mot de passe pour", "New password for"),
    (
        "reset.invalid",
        "Ce lien n'est plus valable (déjà utilisé ou expiré). Demandez-en un nouveau.",
        "This link is no longer valid (used or expired). Ask for a new one.",
    ),
    (
        "reset.done",
        "Votre mot de passe a été changé. Connectez-vous avec le nouveau.",
        "Your password was changed. Log in with the new one.",
    ),
    ("home.title", "Accueil", "Home"),
    ("setup.title", "Configurer sa messagerie", "Setting up mail"),
    ("home.hello", "Bonjour", "Hello"),
    ("home.address", "Adresse", "Address"),
    ("home.unread", "Messages non lus (boîte de réception)", "Unread messages (inbox)"),
    ("home.quota", "Espace utilisé", "Storage used"),
    (
        "home.webmail",
        "Lisez votre courrier ici, ou avec Thunderbird, Outlook et votre téléphone (IMAP, port 993).",
        "Read your mail here, or with Thunderbird, Outlook and your phone (IMAP, port 993).",
    ),
    ("sec.password", "Mot de passe", "Password"),
    ("sec.password.change", "Changer de mot de passe", "Change password"),
    ("sec.2fa", "Validation en deux étapes", "Two-step verification"),
    ("sec.2fa.on", "Activée. Codes de secours restants :", "On. Recovery codes left:"),
    ("sec.2fa.none", "Non activée.", "Off."),
    ("sec.2fa.enable", "Activer", "Turn on"),
    ("sec.2fa.off", "Désactiver", "Turn off"),
    ("pk.title", "Clés d'accès", "Passkeys"),
    (
        "pk.intro",
        "Une clé d'accès (téléphone, ordinateur, clé de sécurité) vous connecte sans mot de passe, ou remplace le code de validation en deux étapes. Elle ne fonctionne que sur cette messagerie : un site d'hameçonnage ne peut pas s'en servir.",
        "A passkey (phone, computer, security key) logs you in without a password, or replaces the two-step verification code. It only works on this webmail: a phishing site cannot use it.",
    ),
    ("pk.created", "Ajoutée le", "Added"),
    ("pk.add", "Ajouter une clé d'accès", "Add a passkey"),
    ("pk.added", "Clé d'accès ajoutée.", "Passkey added."),
    ("pk.placeholder", "Téléphone, clé USB…", "Phone, USB key…"),
    ("pk.noscript", "L'ajout d'une clé d'accès demande JavaScript.", "Adding a passkey needs JavaScript."),
    ("pk.login", "Se connecter avec une clé d'accès", "Log in with a passkey"),
    ("pk.second", "Utiliser ma clé d'accès", "Use my passkey"),
    (
        "pk.second.intro",
        "Confirmez votre connexion avec l'une de vos clés d'accès.",
        "Confirm your login with one of your passkeys.",
    ),
    (
        "pk.js.error",
        "La clé d'accès n'a pas répondu (annulée, expirée ou non prise en charge). Réessayez.",
        "The passkey did not answer (cancelled, timed out or not supported). Try again.",
    ),
    ("sec.apps", "Mots de passe d'application", "App passwords"),
    (
        "sec.apps.intro",
        "Pour Thunderbird, Outlook ou un téléphone (IMAP, SMTP) : un mot de passe par appareil, révocable.",
        "For Thunderbird, Outlook or a phone (IMAP, SMTP): one password per device, revocable.",
    ),
    (
        "sec.apps.created",
        "Copiez ce mot de passe dans votre logiciel ; il ne sera plus affiché :",
        "Copy this password into your client; it will not be shown again:",
    ),
    ("sec.apps.name", "Nom", "Name"),
    ("sec.apps.scopes", "Protocoles", "Protocols"),
    ("sec.apps.used", "Dernière utilisation", "Last used"),
    ("sec.apps.revoke", "Révoquer", "Revoke"),
    ("sec.apps.create", "Créer un mot de passe d'application", "Create an app password"),
    ("sec.sessions", "Sessions ouvertes", "Open sessions"),
    ("sec.since", "Depuis", "Since"),
    ("sec.address", "Adresse IP", "IP address"),
    ("sec.client", "Appareil", "Device"),
    ("sec.action", "Action", "Action"),
    ("sec.this", "Cette session", "This session"),
    ("sec.end", "Fermer cette session", "End this session"),
    ("sec.journal", "Journal des connexions", "Connection journal"),
    ("sec.journal.caption", "Les 50 dernières tentatives (conservées 90 jours)", "The last 50 attempts (kept 90 days)"),
    ("sec.when", "Date", "Date"),
    ("sec.protocol", "Protocole", "Protocol"),
    ("sec.result", "Résultat", "Result"),
    ("never", "jamais", "never"),
    (
        "csrf",
        "Le formulaire a expiré. Rechargez la page et recommencez.",
        "The form expired. Reload the page and try again.",
    ),
    ("error", "Une erreur est survenue. Réessayez dans un instant.", "Something went wrong. Try again in a moment."),
    ("notfound", "Page introuvable", "Page not found"),
    ("reauth.password", "Votre mot de passe actuel, pour confirmer", "Your current password, to confirm"),
    (
        "reauth.code",
        "Code de validation en deux étapes (ou un code de secours)",
        "Two-step verification code (or a recovery code)",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_picks_the_first_known() {
        assert_eq!(Lang::from_accept(Some("en-GB,en;q=0.9,fr;q=0.8")), Lang::En);
        assert_eq!(Lang::from_accept(Some("de-DE, fr;q=0.5")), Lang::Fr);
        assert_eq!(Lang::from_accept(None), Lang::Fr);
    }

    #[test]
    fn every_key_is_unique_and_translated() {
        for (i, (k, fr, en)) in TEXTS.iter().enumerate() {
            assert!(!fr.is_empty() && !en.is_empty(), "{k}");
            assert!(TEXTS[i + 1..].iter().all(|(k2, _, _)| k2 != k), "duplicate {k}");
        }
    }

    #[test]
    fn every_key_used_by_a_template_exists() {
        let templates = [
            include_str!("../../templates/base.html"),
            include_str!("../../templates/outils.html"),
            include_str!("../../templates/help.html"),
            include_str!("../../templates/login.html"),
            include_str!("../../templates/totp.html"),
            include_str!("../../templates/password.html"),
            include_str!("../../templates/enrol.html"),
            include_str!("../../templates/codes.html"),
            include_str!("../../templates/message.html"),
            include_str!("../../templates/home.html"),
            include_str!("../../templates/security.html"),
            include_str!("../../templates/forgot.html"),
            include_str!("../../templates/reset.html"),
        ];
        for t in templates {
            for piece in t.split("c.t.get(\"").skip(1) {
                let key = piece.split('"').next().unwrap();
                assert!(TEXTS.iter().any(|(k, _, _)| *k == key), "missing text {key}");
            }
        }
    }
}
