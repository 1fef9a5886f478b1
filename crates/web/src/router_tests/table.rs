//! One row per route (and a few more for routes that take a reference in
//! their query): the path with A's ids, the form a POST carries, the status
//! when signed out, and the status when B asks.

use axum::http::Method;

/// What a POST carries besides its CSRF token.
pub enum Form {
    None,
    /// `application/x-www-form-urlencoded` fields (`{...}` filled with A's ids).
    Url(&'static str),
    /// `multipart/form-data` fields, as `name=value` pairs separated by `&`.
    Multipart(&'static str),
    /// An XML document asked by a mail client (no session, no CSRF token).
    Xml(&'static str),
    /// An application's form to the OpenID provider (no session, no CSRF token).
    Client(&'static str),
}

impl Form {
    pub fn url(token: &str, fields: &str) -> (String, Vec<u8>) {
        let body = if fields.is_empty() { format!("csrf={token}") } else { format!("csrf={token}&{fields}") };
        ("application/x-www-form-urlencoded".into(), body.into_bytes())
    }

    pub fn multipart(token: &str, fields: &str) -> (String, Vec<u8>) {
        let mut body = String::new();
        let pairs = std::iter::once(("csrf", token)).chain(fields.split('&').filter_map(|kv| kv.split_once('=')));
        for (name, value) in pairs {
            body.push_str(&format!(
                "--frontiere\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            ));
        }
        body.push_str("--frontiere--\r\n");
        ("multipart/form-data; boundary=frontiere".into(), body.into_bytes())
    }
}

pub struct Case {
    pub method: Method,
    /// The route as the router declares it.
    pub pattern: &'static str,
    /// The path requested (with a query, and `{...}` for A's ids).
    pub path: &'static str,
    pub form: Form,
    /// The status signed out (POSTs with no valid token).
    pub signed_out: u16,
    /// The status for B, with B's valid token.
    pub other: u16,
}

const fn get(pattern: &'static str, path: &'static str, signed_out: u16, other: u16) -> Case {
    Case { method: Method::GET, pattern, path, form: Form::None, signed_out, other }
}

fn post(pattern: &'static str, path: &'static str, form: Form, signed_out: u16, other: u16) -> Case {
    Case { method: Method::POST, pattern, path, form, signed_out, other }
}

/// Outlook's autodiscover request for A (it learns nothing A-specific).
const OUTLOOK: &str = "<?xml version=\"1.0\"?><Autodiscover xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006\"><Request><EMailAddress>alice.martin@ac-test.fr</EMailAddress><AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema></Request></Autodiscover>";

/// An authorization request of the test ENT, and its consent form.
const AUTHORIZE: &str = "/oidc/authorize?client_id={client}&redirect_uri=https%3A%2F%2Fent.ac-test.fr%2Fcb&response_type=code&scope=openid%20email&state=etat";
const CONSENT: &str = "client_id={client}&redirect_uri=https%3A%2F%2Fent.ac-test.fr%2Fcb&response_type=code&scope=openid&decision=accepter";

/// Every route. Signed out, pages send to the login (303) and the login
/// journey's forms want the pre-session token (403); B gets 404 for
/// anything of A's, exactly as for something that does not exist.
pub fn cases() -> Vec<Case> {
    use Form::{Client, Multipart, None as Empty, Url, Xml};
    vec![
        get("/", "/", 303, 303),
        get("/connexion", "/connexion", 200, 303),
        post("/connexion", "/connexion", Url("login=bruno.petit&password=x"), 403, 401),
        get("/connexion/code", "/connexion/code", 303, 303),
        // Passkeys: a passwordless challenge is anyone's (it names nobody);
        // the code step's wants a session at that step.
        post("/connexion/cle/defi", "/connexion/cle/defi", Empty, 403, 200),
        post("/connexion/cle", "/connexion/cle", Url("id=x&client_data=x"), 403, 422),
        post("/connexion/code/cle/defi", "/connexion/code/cle/defi", Empty, 403, 303),
        post("/connexion/code/cle", "/connexion/code/cle", Url("id=x"), 403, 303),
        post("/connexion/code", "/connexion/code", Url("code=123456"), 403, 303),
        // The académie's identity provider: none is configured here.
        get("/connexion/externe/{id}", "/connexion/externe/inconnu", 404, 404),
        get("/connexion/externe/{id}/retour", "/connexion/externe/inconnu/retour?state=x&code=y", 404, 404),
        get("/premiere-connexion", "/premiere-connexion", 303, 303),
        post("/premiere-connexion", "/premiere-connexion", Url("current=x&new=y&confirm=y"), 403, 303),
        // Before the enrolment page: no seed is pending yet.
        get("/2fa/qr.svg", "/2fa/qr.svg", 404, 404),
        get("/2fa/activer", "/2fa/activer", 303, 200),
        post("/2fa/activer", "/2fa/activer", Url("code=000000"), 403, 401),
        post("/deconnexion", "/deconnexion", Empty, 403, 303),
        get("/mot-de-passe-oublie", "/mot-de-passe-oublie", 200, 200),
        post("/mot-de-passe-oublie", "/mot-de-passe-oublie", Url("login=x&numen=y"), 403, 200),
        get("/mot-de-passe/reinitialiser", "/mot-de-passe/reinitialiser?jeton=faux", 410, 410),
        post("/mot-de-passe/reinitialiser", "/mot-de-passe/reinitialiser", Url("jeton=faux&new=x&confirm=x"), 403, 410),
        get("/accueil", "/accueil", 303, 200),
        get("/securite", "/securite", 303, 200),
        get("/aide", "/aide", 303, 200),
        get("/securite/mot-de-passe", "/securite/mot-de-passe", 303, 200),
        post("/securite/mot-de-passe", "/securite/mot-de-passe", Url("current=faux&new=x&confirm=x"), 303, 401),
        post("/securite/2fa/desactiver", "/securite/2fa/desactiver", Url("password=faux"), 303, 401),
        post("/securite/applications", "/securite/applications", Url("name=client&imap=on"), 303, 401),
        post("/securite/applications/{id}/revoquer", "/securite/applications/{app}/revoquer", Empty, 303, 404),
        post("/securite/sessions/fin", "/securite/sessions/fin", Url("id={session}"), 303, 404),
        post("/securite/cles/defi", "/securite/cles/defi", Empty, 303, 200),
        post("/securite/cles", "/securite/cles", Url("name=cle&password=faux"), 303, 401),
        post("/securite/cles/{id}/revoquer", "/securite/cles/{passkey}/revoquer", Empty, 303, 404),
        get("/aide/configuration", "/aide/configuration", 303, 200),
        get("/aide/configuration/ardoise.mobileconfig", "/aide/configuration/ardoise.mobileconfig", 303, 200),
        // Mail clients' setup: the same answer for everyone, nothing of A's.
        get(
            "/.well-known/autoconfig/mail/config-v1.1.xml",
            "/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress=alice.martin@ac-test.fr",
            200,
            200,
        ),
        get("/mail/config-v1.1.xml", "/mail/config-v1.1.xml", 200, 200),
        get("/mail/config-v1.1.xml", "/mail/config-v1.1.xml?emailaddress=x@ailleurs.fr", 404, 404),
        post("/autodiscover/autodiscover.xml", "/autodiscover/autodiscover.xml", Xml(OUTLOOK), 200, 200),
        post("/Autodiscover/Autodiscover.xml", "/Autodiscover/Autodiscover.xml", Xml("<pas-du-xml"), 400, 400),
        get(
            "/autodiscover/autodiscover.json/v1.0/{address}",
            "/autodiscover/autodiscover.json/v1.0/alice.martin@ac-test.fr?Protocol=AutodiscoverV1",
            200,
            200,
        ),
        get("/healthz", "/healthz", 200, 200),
        get("/readyz", "/readyz", 200, 200),
        get("/static/ardoise.css", "/static/ardoise.css", 200, 200),
        get("/static/cle.js", "/static/cle.js", 200, 200),
        get("/favicon.ico", "/favicon.ico", 204, 204),
        // The webmail.
        get("/courrier", "/courrier", 303, 200),
        get("/courrier/ecrire", "/courrier/ecrire", 303, 200),
        get("/courrier/ecrire", "/courrier/ecrire?dossier={inbox}&uid={uid}", 303, 404),
        get("/courrier/ecrire", "/courrier/ecrire?dossier={inbox}&uid={uid}&transferer=pj", 303, 404),
        get("/courrier/ecrire", "/courrier/ecrire?brouillon={inbox}:{uid}", 303, 404),
        post("/courrier/envoyer", "/courrier/envoyer", Multipart("action=envoyer&to=&subject=x&body=y"), 303, 400),
        post("/courrier/dossiers", "/courrier/dossiers", Url("nom=Nouveau&parent={folder}"), 303, 404),
        get("/courrier/recherche", "/courrier/recherche?q=conseil", 303, 200),
        get("/courrier/evenements", "/courrier/evenements", 401, 200),
        get("/courrier/raccourcis", "/courrier/raccourcis", 303, 200),
        // B sees its own (empty) list, and A's ids restore nothing of A's (deleted.rs checks it).
        get("/courrier/supprimes", "/courrier/supprimes", 303, 200),
        // « À modérer »: B moderates nothing (an empty page); A's held post is a 404 to B, and a
        // decision on it sends B back to the queue (« no longer awaits »), deciding nothing.
        get("/courrier/moderation", "/courrier/moderation", 303, 200),
        get("/courrier/moderation/{id}", "/courrier/moderation/{held}", 303, 404),
        get("/courrier/moderation/{id}/contenu", "/courrier/moderation/{held}/contenu", 303, 404),
        post("/courrier/moderation/{id}", "/courrier/moderation/{held}", Url("decision=diffuser"), 303, 303),
        post("/courrier/moderation/{id}", "/courrier/moderation/{held}", Url("decision=refuser&motif=non"), 303, 303),
        // A list's archive: its members and moderators only; B is neither (404, no probing).
        get("/listes/{address}/archives", "/listes/sorties@ac-test.fr/archives", 303, 404),
        get("/listes/{address}/archives", "/listes/sorties@ac-test.fr/archives?avant={archived}", 303, 404),
        get("/listes/{address}/archives/{id}", "/listes/sorties@ac-test.fr/archives/{archived}", 303, 404),
        get(
            "/listes/{address}/archives/{id}/contenu",
            "/listes/sorties@ac-test.fr/archives/{archived}/contenu",
            303,
            404,
        ),
        get("/courrier/reglages/archivage", "/courrier/reglages/archivage", 303, 200),
        // « Partager ce dossier » on A's folder: B gets 404, as for a missing one
        // (the authorization matrix over shared folders is in delegation.rs).
        get("/courrier/reglages/delegations", "/courrier/reglages/delegations?dossier={folder}", 303, 404),
        post(
            "/courrier/reglages/delegations",
            "/courrier/reglages/delegations",
            Url("action=donner&adresse=bruno.petit@ac-test.fr&portee={folder}&droits=lecture"),
            303,
            404,
        ),
        post("/courrier/reglages/archivage", "/courrier/reglages/archivage", Url("jours=365"), 303, 303),
        get("/courrier/reglages/lecture", "/courrier/reglages/lecture", 303, 200),
        post(
            "/courrier/reglages/lecture",
            "/courrier/reglages/lecture",
            Url("fuseau=Indian/Reunion&volet=droite&notifications=tous"),
            303,
            303,
        ),
        get("/courrier/reglages/export", "/courrier/reglages/export", 303, 200),
        post("/courrier/reglages/export", "/courrier/reglages/export", Empty, 303, 303),
        // A's single-use link: B gets the 404 page, and the file stays A's (export.rs downloads it).
        get("/courrier/reglages/export/{token}", "/courrier/reglages/export/{export}", 303, 404),
        post("/courrier/supprimes", "/courrier/supprimes", Url("id=1"), 303, 303),
        post("/courrier/annuler", "/courrier/annuler", Empty, 303, 303),
        // Another account's message waiting to be sent: never shown, never cancelled.
        get("/courrier/envoi/{id}", "/courrier/envoi/{delayed}", 303, 303),
        post("/courrier/envoi/{id}/annuler", "/courrier/envoi/{delayed}/annuler", Empty, 303, 400),
        get("/courrier/destinataires", "/courrier/destinataires?q=alice", 401, 200),
        // The directory is everyone's (of the académie); contacts are each one's own.
        get("/annuaire", "/annuaire?q=alice", 303, 200),
        get("/annuaire/fiche/{key}", "/annuaire/fiche/compte-1", 303, 200),
        post("/annuaire/fiche/{key}/ajouter", "/annuaire/fiche/compte-1/ajouter", Empty, 303, 303),
        get("/contacts", "/contacts", 303, 200),
        get("/contacts/nouveau", "/contacts/nouveau", 303, 200),
        post("/contacts/nouveau", "/contacts/nouveau", Url("nom=Zoé&adresses=zoe%40ac-test.fr"), 303, 303),
        get("/contacts/fiche/{name}", "/contacts/fiche/{contact}", 303, 404),
        post("/contacts/fiche/{name}", "/contacts/fiche/{contact}", Url("nom=X&etag=x"), 303, 404),
        post("/contacts/fiche/{name}/supprimer", "/contacts/fiche/{contact}/supprimer", Empty, 303, 404),
        get("/courrier/reglages/identites", "/courrier/reglages/identites", 303, 200),
        post(
            "/courrier/reglages/identites",
            "/courrier/reglages/identites",
            Url("action=supprimer&id={identity}"),
            303,
            404,
        ),
        get("/courrier/reglages", "/courrier/reglages", 303, 200),
        get("/courrier/reglages/filtres", "/courrier/reglages/filtres", 303, 200),
        // B has no rule 0 to delete: A's rules are not B's.
        post("/courrier/reglages/filtres", "/courrier/reglages/filtres", Url("quoi=supprimer&n=0&rev=0"), 303, 400),
        get("/courrier/reglages/filtres/regle", "/courrier/reglages/filtres/regle", 303, 200),
        // A rule made from, or tried on, A's message or folder: B gets a 404.
        get("/courrier/reglages/filtres/regle", "/courrier/reglages/filtres/regle?dossier={inbox}&uid={uid}", 303, 404),
        post(
            "/courrier/reglages/filtres/regle",
            "/courrier/reglages/filtres/regle",
            Url("nom=x&actif=1&c0_champ=objet&c0_op=contient&c0_valeur=x&lu=1&action=essayer&essai={inbox}"),
            303,
            404,
        ),
        post("/courrier/reglages", "/courrier/reglages", Url("section=expediteur&retirer=x@y.fr"), 303, 303),
        post("/courrier/reglages/espace", "/courrier/reglages/espace", Url("raison=Archives"), 303, 303),
        get("/courrier/{mailbox}", "/courrier/{inbox}", 303, 404),
        get("/courrier/{mailbox}", "/courrier/{inbox}?q=conseil", 303, 404),
        post("/courrier/{mailbox}/lot", "/courrier/{inbox}/lot", Url("uid={uid}&action=supprimer"), 303, 404),
        get("/courrier/{mailbox}/renommer", "/courrier/{folder}/renommer", 303, 404),
        post("/courrier/{mailbox}/renommer", "/courrier/{folder}/renommer", Url("nom=Pris"), 303, 404),
        get("/courrier/{mailbox}/supprimer", "/courrier/{folder}/supprimer", 303, 404),
        post("/courrier/{mailbox}/supprimer", "/courrier/{folder}/supprimer", Empty, 303, 404),
        get("/courrier/{mailbox}/vider", "/courrier/{trash}/vider", 303, 404),
        post("/courrier/{mailbox}/vider", "/courrier/{trash}/vider", Empty, 303, 404),
        get("/courrier/{mailbox}/{uid}", "/courrier/{inbox}/{uid}", 303, 404),
        post("/courrier/{mailbox}/{uid}", "/courrier/{inbox}/{uid}", Url("action=supprimer"), 303, 404),
        post("/courrier/{mailbox}/{uid}", "/courrier/{inbox}/{uid}", Url("action=deplacer&dossier={folder}"), 303, 404),
        get("/courrier/{mailbox}/{uid}/pj/{n}", "/courrier/{inbox}/{uid}/pj/0", 303, 404),
        get("/courrier/{mailbox}/{uid}/joint/{chain}", "/courrier/{inbox}/{uid}/joint/1", 303, 404),
        get("/courrier/{mailbox}/{uid}/joint/{chain}/pj/{n}", "/courrier/{inbox}/{uid}/joint/1/pj/0", 303, 404),
        get("/courrier/{mailbox}/{uid}/joint/{chain}/contenu", "/courrier/{inbox}/{uid}/joint/1/contenu", 303, 404),
        get("/courrier/{mailbox}/{uid}/source", "/courrier/{inbox}/{uid}/source", 303, 404),
        post("/courrier/{mailbox}/{uid}/confiance", "/courrier/{inbox}/{uid}/confiance", Empty, 303, 404),
        post("/courrier/{mailbox}/{uid}/invitation", "/courrier/{inbox}/{uid}/invitation", Empty, 303, 404),
        get("/courrier/{mailbox}/{uid}/contenu", "/courrier/{inbox}/{uid}/contenu", 303, 404),
        get("/courrier/{mailbox}/{uid}/apercu/{n}", "/courrier/{inbox}/{uid}/apercu/0", 303, 404),
        get("/static/courrier.css", "/static/courrier.css", 200, 200),
        get("/static/courrier.js", "/static/courrier.js", 200, 200),
        get("/static/compose.js", "/static/compose.js", 200, 200),
        // Large-file sharing. The tus API takes its CSRF token in a header
        // (partage.rs tests it): a bare POST is refused before anything.
        post("/partage/televersement", "/partage/televersement", Client(""), 401, 412),
        post("/partage/televersement/", "/partage/televersement/", Client(""), 401, 412),
        // A's link is public: anyone with it reads the page and the file.
        get("/partage/{token}", "/partage/{share}", 200, 200),
        post("/partage/{token}", "/partage/{share}", Url("password=x"), 403, 200),
        get("/partage/{token}/fichier", "/partage/{share}/fichier", 200, 200),
        get("/partage/{token}", "/partage/00112233445566778899aabbccddeeff00112233", 404, 404),
        get("/courrier/partage", "/courrier/partage", 303, 200),
        // B cannot share A's upload, see, revoke or add a version to A's share.
        post("/courrier/partage", "/courrier/partage", Url("upload=0123456789abcdef0123456789abcdef"), 303, 400),
        post(
            "/courrier/partage/lien",
            "/courrier/partage/lien",
            Url("upload=0123456789abcdef0123456789abcdef"),
            303,
            400,
        ),
        get("/courrier/partage/{id}", "/courrier/partage/{share_id}", 303, 404),
        post("/courrier/partage/{id}/revoquer", "/courrier/partage/{share_id}/revoquer", Empty, 303, 404),
        post("/courrier/partage/{id}/version", "/courrier/partage/{share_id}/version", Url("upload=x"), 303, 404),
        get("/static/partage.js", "/static/partage.js", 200, 200),
        // The Agenda: B sees its own calendars; A's calendar and events are a 404 for B.
        get("/agenda", "/agenda", 303, 200),
        get("/agenda", "/agenda?vue=mois&date=2026-09-07&choix=1&voir=agenda", 303, 200),
        get("/agenda", "/agenda?vue=%22%3E&date=%3Cscript%3E&voir=../x", 303, 200),
        get("/agenda/nouveau", "/agenda/nouveau?date=2026-09-07&heure=17:00", 303, 200),
        post(
            "/agenda/nouveau",
            "/agenda/nouveau",
            Url(
                "agenda=agenda&titre=B&debut_date=2026-09-07&debut_heure=10:00&fin_date=2026-09-07&fin_heure=11:00&fuseau=UTC&repetition=aucune",
            ),
            303,
            303,
        ),
        get("/agenda/{calendar}/{name}", "/agenda/agenda/{event}?occurrence={occurrence}", 303, 404),
        post(
            "/agenda/{calendar}/{name}",
            "/agenda/agenda/{event}",
            Url(
                "titre=Pris&debut_date=2026-09-07&debut_heure=10:00&fin_date=2026-09-07&fin_heure=11:00&fuseau=UTC&repetition=aucune",
            ),
            303,
            404,
        ),
        get(
            "/agenda/{calendar}/{name}/supprimer",
            "/agenda/agenda/{event}/supprimer?occurrence={occurrence}",
            303,
            404,
        ),
        post(
            "/agenda/{calendar}/{name}/supprimer",
            "/agenda/agenda/{event}/supprimer",
            Url("portee=occurrence&occurrence={occurrence}"),
            303,
            404,
        ),
        post("/agenda/{calendar}/{name}/supprimer", "/agenda/agenda/{event}/supprimer", Url("portee=serie"), 303, 404),
        get("/static/agenda.css", "/static/agenda.css", 200, 200),
        // Sharing: B shares only B's own calendars; A's shares are not B's to revoke.
        get("/agenda/partager", "/agenda/partager?agenda=agenda", 303, 200),
        get("/agenda/partager", "/agenda/partager?agenda=inconnu", 303, 404),
        post("/agenda/partager", "/agenda/partager", Url("agenda=agenda&action=retirer&partage=account:1"), 303, 404),
        post(
            "/agenda/partager",
            "/agenda/partager",
            Url("agenda=agenda&action=partager&qui=0541234A&droit=read"),
            303,
            400,
        ),
        // Reminders: B sees B's (none); A's reminder and A's calendar are not B's to touch.
        get("/agenda/rappels", "/agenda/rappels", 303, 200),
        post("/agenda/rappels", "/agenda/rappels", Url("action=fermer&rappel={reminder}"), 303, 404),
        post("/agenda/rappels", "/agenda/rappels", Url("action=regler&agenda=inconnu&defaut=15"), 303, 404),
        // The identity provider: nothing there is A's; B signs in as B.
        get("/.well-known/openid-configuration", "/.well-known/openid-configuration", 200, 200),
        get("/oidc/jwks", "/oidc/jwks", 200, 200),
        get("/oidc/authorize", AUTHORIZE, 303, 303),
        get(
            "/oidc/authorize",
            "/oidc/authorize?client_id={client}&redirect_uri=https://evil.example/cb&response_type=code&scope=openid",
            400,
            400,
        ),
        post("/oidc/autoriser", "/oidc/autoriser", Url(CONSENT), 403, 303),
        post("/oidc/token", "/oidc/token", Client("grant_type=authorization_code&code=x&client_id={client}"), 401, 401),
        get("/oidc/userinfo", "/oidc/userinfo", 401, 401),
        post("/oidc/userinfo", "/oidc/userinfo", Client(""), 401, 401),
        get("/oidc/logout", "/oidc/logout", 200, 200),
        get("/oidc/logout", "/oidc/logout?client_id={client}&post_logout_redirect_uri=https://evil.example/", 400, 400),
        get("/cas/login", "/cas/login?service=https%3A%2F%2Fent.ac-test.fr%2Fapp", 303, 303),
        get("/cas/login", "/cas/login?service=https%3A%2F%2Fevil.example%2F", 400, 400),
        get("/cas/logout", "/cas/logout", 200, 200),
        get(
            "/cas/serviceValidate",
            "/cas/serviceValidate?service=https%3A%2F%2Fent.ac-test.fr%2Fapp&ticket=ST-faux",
            200,
            200,
        ),
        get(
            "/cas/p3/serviceValidate",
            "/cas/p3/serviceValidate?service=https%3A%2F%2Fent.ac-test.fr%2Fapp&ticket=ST-faux",
            200,
            200,
        ),
        // The administration console: nothing answers a plain teacher
        // (console.rs has the matrix over every role).
        get("/admin", "/admin", 303, 404),
        get("/admin/comptes", "/admin/comptes?q=alice", 303, 404),
        get("/admin/comptes/{id}", "/admin/comptes/{account}", 303, 404),
        post("/admin/comptes/{id}/suspendre", "/admin/comptes/{account}/suspendre", Url("confirm=1"), 303, 404),
        post("/admin/comptes/{id}/reactiver", "/admin/comptes/{account}/reactiver", Empty, 303, 404),
        post("/admin/comptes/{id}/quota", "/admin/comptes/{account}/quota", Url("quota=1G"), 303, 404),
        post("/admin/comptes/{id}/mot-de-passe", "/admin/comptes/{account}/mot-de-passe", Url("confirm=1"), 303, 404),
        post("/admin/comptes/{id}/2fa", "/admin/comptes/{account}/2fa", Url("confirm=1"), 303, 404),
        post("/admin/comptes/{id}/cles", "/admin/comptes/{account}/cles", Url("confirm=1"), 303, 404),
        post("/admin/comptes/{id}/debloquer", "/admin/comptes/{account}/debloquer", Empty, 303, 404),
        post("/admin/comptes/{id}/role", "/admin/comptes/{account}/role", Url("role=admin-academie&unit=1"), 303, 404),
        post(
            "/admin/comptes/{id}/sessions/fermer",
            "/admin/comptes/{account}/sessions/fermer",
            Url("session=00"),
            303,
            404,
        ),
        post(
            "/admin/comptes/{id}/sessions/tout-fermer",
            "/admin/comptes/{account}/sessions/tout-fermer",
            Url("confirm=1"),
            303,
            404,
        ),
        get("/admin/file", "/admin/file", 303, 404),
        post("/admin/file/{id}/relancer", "/admin/file/1/relancer", Empty, 303, 404),
        post("/admin/file/{id}/supprimer", "/admin/file/1/supprimer", Url("confirm=1"), 303, 404),
        get("/admin/quarantaine", "/admin/quarantaine", 303, 404),
        post("/admin/quarantaine/{id}/liberer", "/admin/quarantaine/1/liberer", Url("confirm=1"), 303, 404),
        post("/admin/quarantaine/{id}/supprimer", "/admin/quarantaine/1/supprimer", Url("confirm=1"), 303, 404),
        get("/admin/stockage", "/admin/stockage", 303, 404),
        get("/admin/journal", "/admin/journal", 303, 404),
        get("/admin/demandes", "/admin/demandes", 303, 404),
        post("/admin/demandes/{id}/accepter", "/admin/demandes/1/accepter", Url("quota=2G"), 303, 404),
        post("/admin/demandes/{id}/refuser", "/admin/demandes/1/refuser", Url("raison=Non"), 303, 404),
        get("/admin/listes", "/admin/listes", 303, 404),
        get("/admin/listes/{id}", "/admin/listes/1", 303, 404),
        post("/admin/listes/{id}/membres", "/admin/listes/1/membres", Url("membre=x%40ac-test.fr"), 303, 404),
        post(
            "/admin/listes/{id}/membres/retirer",
            "/admin/listes/1/membres/retirer",
            Url("membre=x%40ac-test.fr"),
            303,
            404,
        ),
        post("/admin/listes/{id}/politique", "/admin/listes/1/politique", Url("politique=members"), 303, 404),
        post(
            "/admin/listes/{id}/moderateurs",
            "/admin/listes/1/moderateurs",
            Url("compte=x%40ac-test.fr&action=ajouter"),
            303,
            404,
        ),
        get("/admin/boites", "/admin/boites", 303, 404),
        get("/admin/boites/{id}", "/admin/boites/{account}", 303, 404),
        post(
            "/admin/boites/{id}/membres",
            "/admin/boites/{account}/membres",
            Url("membre=bruno.petit%40ac-test.fr&droits=lr"),
            303,
            404,
        ),
        post(
            "/admin/boites/{id}/membres/retirer",
            "/admin/boites/{account}/membres/retirer",
            Url("compte=1"),
            303,
            404,
        ),
        get("/admin/politiques", "/admin/politiques", 303, 404),
        post("/admin/politiques/{id}/transfert", "/admin/politiques/1/transfert", Url("politique=anywhere"), 303, 404),
        post("/admin/politiques/{id}/archivage", "/admin/politiques/1/archivage", Url("jours=30"), 303, 404),
        get("/admin/annuaire", "/admin/annuaire", 303, 404),
        post("/admin/annuaire", "/admin/annuaire", Multipart("fichier=numen;nom"), 303, 404),
        post("/admin/annuaire/appliquer", "/admin/annuaire/appliquer", Url("jeton=x&empreinte=y&confirm=1"), 303, 404),
    ]
}
