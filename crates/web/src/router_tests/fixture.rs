//! Two accounts on a temporary SQLite store, A with mail, folders, an app
//! password, an identity and a session, and the router over them.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Method, Request, StatusCode, header};
use identity::credentials::hash::{hash_password, random_token, token_hash};
use identity::{Account, WebSession};
use model::SpecialUse;
use tower_service::Service;

use crate::base::Peer;
use crate::base::session::{STAGE_FULL, derive, unix_now};
use crate::{App, WebConfig};

pub const PASSWORD_A: &str = "Cheval-Agrafe-Correct-42";
pub const PASSWORD_B: &str = "Batterie-Solide-Verte-17";
/// A's message subject: no answer to B may contain it.
pub const SUBJECT_A: &str = "Compte rendu confidentiel du conseil";
/// The body of the message attached to A's message.
pub const ATTACHED_A: &str = "Note de service jointe";
/// The subject of the post held for A's moderation, and its HTML body's text.
pub const HELD_A: &str = "Annonce retenue pour la liste";
pub const HELD_BODY_A: &str = "Texte retenu confidentiel";
/// The subject and HTML body's text of the post archived on a discussion
/// group A moderates and B is no member of (`{archived}`).
pub const ARCHIVED_A: &str = "Sortie pédagogique du groupe";
pub const ARCHIVED_BODY_A: &str = "Texte archivé réservé aux membres";
/// The title of A's recurring event in A's « Agenda ».
pub const EVENT_A: &str = "Entretien confidentiel avec la famille";

/// Whose session a request carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    Nobody,
    /// A, who owns everything the paths name.
    Owner,
    /// B, another account of the same domain.
    Other,
}

pub struct Session {
    pub cookie: String,
    pub csrf: String,
}

pub struct Fixture {
    _dir: tempfile::TempDir,
    /// The store under the app, for tests that seed more (the console's units and grants).
    /// The store, to change accounts behind the services' back.
    pub store: store::Store,
    pub app: Arc<App>,
    pub router: Router,
    pub a: Account,
    pub b: Account,
    pub inbox: i64,
    pub uid: i64,
    folder: i64,
    trash: i64,
    app_password: i64,
    passkey: i64,
    identity: i64,
    /// A message of A waiting to be sent ("Annuler l'envoi").
    delayed: i64,
    /// The token of A's export, ready for its one download.
    pub export: String,
    /// The object name of A's weekly event, and the start of its first occurrence.
    pub event: String,
    event_start: i64,
    /// A reminder of A's event that fired (`{reminder}`).
    reminder: i64,
    a_session: String,
    /// The registered OpenID Connect client (an « application académique »).
    pub client: String,
    pub client_secret: String,
    /// A's share: its id and the token of its link.
    pub share_id: i64,
    pub share_token: String,
    /// A's personal contact (its object name).
    pub contact: String,
    /// A post held on a list A moderates (`{held}`).
    pub held: i64,
    /// A post in the archive of `sorties@ac-test.fr`, which A moderates (`{archived}`).
    pub archived: i64,
}

/// The content of A's shared file.
pub const SHARED_A: &[u8] = b"Contenu du fichier partage par Alice";

/// The ENT's registered redirect URI, and the CAS service prefix.
pub const ENT_CALLBACK: &str = "https://ent.ac-test.fr/cb";
pub const CAS_SERVICE: &str = "https://ent.ac-test.fr/";

pub async fn account(store: &store::Store, local: &str, name: &str, password: &str) -> Account {
    store
        .create_account(&store::NewAccount {
            address: model::Address::parse(&format!("{local}@ac-test.fr")).unwrap(),
            login: None,
            display_name: name.into(),
            role: model::Role::Teacher,
            status: model::AccountStatus::Active,
            quota_bytes: None,
            org_unit: None,
            password_hash: hash_password(password),
        })
        .await
        .unwrap()
}

/// The lists service (the console's « Listes »), over a transfer service
/// that never sends (nothing is posted to outside members here).
fn lists_service(
    dir: &std::path::Path,
    store: &store::Store,
    blobs: &blob::BlobStore,
    ms: &Arc<mailstore::Mailstore>,
) -> Arc<lists::Lists> {
    let keys = mta::dkim::DkimKeys::load_or_create(&dir.join("dkim"), "s1", &["ac-test.fr".into()]).unwrap();
    let limits = mta::limits::Limiter::new(
        mta::limits::RoleLimits { messages_per_hour: 1000, recipients_per_hour: 100_000 },
        std::collections::HashMap::new(),
    );
    let mta = mta::Mta::new(ms.clone(), store.clone(), blobs.clone(), mta::OutboundSettings::default(), keys, limits);
    lists::Lists::new(store.clone(), blobs.clone(), mta, lists::Limits::default(), Some("https://ardoise.test".into()))
}

impl Fixture {
    pub async fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let store = store::Store::open(&format!("sqlite://{}", dir.path().join("m.db").display())).await.unwrap();
        store.migrate().await.unwrap();
        store.add_domain(&model::Domain::parse("ac-test.fr").unwrap()).await.unwrap();
        let a = account(&store, "alice.martin", "Alice Martin", PASSWORD_A).await;
        let b = account(&store, "bruno.petit", "Bruno Petit", PASSWORD_B).await;
        let blobs = blob::BlobStore::open(dir.path().join("blobs")).unwrap();
        let ms = mailstore::Mailstore::new(store.clone(), blobs.clone());
        let quarantine = Arc::new(hygiene::quarantine::Quarantine::new(store.clone(), blobs.clone(), ms.clone(), 30));
        let lists = lists_service(dir.path(), &store, &blobs, &ms);
        let held = held_post(&lists, &a).await;
        let archived = archived_post(&lists, &a).await;
        let sso = sso::Sso::open(store.clone(), dir.path(), "https://ardoise.test").unwrap();
        let ent = sso::NewClient {
            name: "ENT de test".into(),
            redirect_uris: vec![ENT_CALLBACK.into()],
            academie_app: true,
            ..Default::default()
        };
        let (client, client_secret) = sso.add_client(ent).await.unwrap();
        sso.add_cas_service(CAS_SERVICE, "ENT de test (CAS)").await.unwrap();
        let filters = filter::Filters::new(store.clone(), ms.clone(), filter::FilterSettings::default());
        let identity = identity::Identity::new(store.clone(), ms.clone(), identity::Settings::default());
        let raw = format!(
            "From: Direction <direction@ac-test.fr>\r\nTo: alice.martin@ac-test.fr\r\nSubject: {SUBJECT_A}\r\n\
             MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n\
             Content-Type: text/plain\r\n\r\nConfidentiel.\r\n--x\r\nContent-Type: application/pdf\r\n\
             Content-Disposition: attachment; filename=pv.pdf\r\n\r\n%PDF-1.4\r\n--x\r\n\
             Content-Type: message/rfc822\r\n\r\nFrom: direction@ac-test.fr\r\nSubject: Note jointe\r\n\
             Content-Type: text/html\r\n\r\n<p>{ATTACHED_A}</p><script>alert(1)</script>\r\n--x--\r\n"
        );
        let delivered = ms.deliver(raw.as_bytes(), &[a.id], unix_now()).await.unwrap();
        let inbox = ms.mailbox_with_use(a.id, SpecialUse::Inbox).await.unwrap().unwrap().id;
        let trash = ms.mailbox_with_use(a.id, SpecialUse::Trash).await.unwrap().unwrap().id;
        let folder = ms.create_mailbox(a.id, "Projets", None).await.unwrap().id;
        let identity_id = ms.save_identity(a.id, None, "Alice", "alice.martin@ac-test.fr", "", true).await.unwrap();
        identity.create_app_password(&a, "téléphone", &["imap"]).await.unwrap();
        let app_password = identity.app_passwords(a.id).await.unwrap()[0].id;
        let new_passkey =
            store::NewPasskey {
                account_id: a.id, credential_id: "QUFB", public_key: "pQ", sign_count: 0, name: "clé"
            };
        let passkey = store.add_passkey(&new_passkey).await.unwrap();
        let delayed = ms.schedule_send(a.id, inbox, delivered[0].uid, unix_now() + 3600).await.unwrap().id;
        let mut cfg = WebConfig::new("ardoise.test".into(), [7u8; 32]);
        cfg.numen_key = Some(identity::lifecycle::NumenKey::from_bytes([9u8; 32]));
        let bound = [
            ("imaps".to_owned(), ([127, 0, 0, 1], 993).into()),
            ("submissions".to_owned(), ([127, 0, 0, 1], 465).into()),
        ];
        cfg.mail_setup = crate::MailSetup::new("mail.ac-test.fr", &bound);
        let groupware = Arc::new(groupware::Groupware::new(store.clone(), groupware::Settings::default()).unwrap());
        let secret_contact = groupware::contacts::Contact {
            name: "Contact secret d'Alice".into(),
            emails: vec!["secret@example.org".into()],
            ..Default::default()
        };
        let contact = groupware.save_contact(a.id, None, secret_contact).await.unwrap();
        let agenda = groupware.collection(a.id, groupware::CollectionKind::Calendar, "agenda").await.unwrap();
        let weekly = groupware::event::EventDraft {
            summary: EVENT_A.into(),
            location: String::new(),
            description: String::new(),
            start: groupware::event::Moment {
                date: groupware::event::Date::new(2026, 9, 7).unwrap(),
                time: Some((17, 0)),
            },
            end: groupware::event::Moment {
                date: groupware::event::Date::new(2026, 9, 7).unwrap(),
                time: Some((18, 0)),
            },
            zone: "UTC".into(),
            recurrence: Some(groupware::event::Recurrence {
                frequency: groupware::event::Frequency::Weekly(vec![0]),
                until: groupware::event::Until::Count(3),
            }),
            alarm: groupware::event::AlarmChoice::Default,
        };
        let event = groupware.create_event(&agenda, &weekly, unix_now()).await.unwrap();
        // One of its reminders fired: the default set again makes the event due at once.
        store.set_collection_reminders(agenda.id, Some(15), false).await.unwrap();
        let due = store.due_alarms(unix_now(), 10).await.unwrap().remove(0);
        let fired = store::NewReminder {
            title: EVENT_A.into(),
            location: String::new(),
            starts_at: 1_788_739_200 + 17 * 3600,
            fire_at: unix_now(),
            mail: false,
        };
        assert!(store.fire_alarm(&due, None, &[fired]).await.unwrap());
        let reminder = store.pending_reminders(a.id, 0).await.unwrap()[0].id;
        // 2026-09-07T17:00:00Z.
        let event_start = 1_788_739_200 + 17 * 3600;
        let exports = export::Exports::new(
            export::Sources { mailstore: ms.clone(), groupware: groupware.clone(), identity: identity.clone() },
            store.clone(),
            export::ExportSettings {
                dir: dir.path().join("exports"),
                max_bytes: None,
                keep: std::time::Duration::from_secs(3600),
                parallel: 1,
            },
        )
        .unwrap();
        // A's export, ready: its link is `{export}`.
        exports.start(&a).await.unwrap();
        let export = loop {
            match exports.status(a.id) {
                export::Status::Ready { token, .. } => break token,
                export::Status::Failed(f) => panic!("A's export failed: {f:?}"),
                _ => tokio::time::sleep(std::time::Duration::from_millis(10)).await,
            }
        };
        // A's share of a small file, behind a link without a password.
        let sharing = Arc::new(
            sharing::Sharing::open(
                store.clone(),
                dir.path().join("partage"),
                sharing::Settings { max_file_size: 1 << 20, quota: 3 << 20, ..sharing::Settings::default() },
            )
            .unwrap(),
        );
        let upload = sharing.create_upload(a.id, SHARED_A.len() as u64, "compte-rendu.txt", None).await.unwrap();
        let piece = futures_util::stream::iter([Ok::<_, std::io::Error>(axum::body::Bytes::from_static(SHARED_A))]);
        sharing.append(a.id, &upload, 0, piece).await.unwrap();
        let share = sharing.create_link(a.id, sharing::NewLink { upload, ..Default::default() }).await.unwrap();
        let app = Arc::new(App {
            ms,
            identity,
            cfg,
            outbox: None,
            sso: Some(Arc::new(sso)),
            filters: Some(filters),
            exports: Some(exports),
            sharing: Some(sharing.clone()),
            groupware: Some(groupware),
            quarantine: Some(quarantine),
            lists: Some(lists),
        });
        let router = crate::router(app.clone());
        let mut fx = Fixture {
            _dir: dir,
            store,
            app,
            router,
            a,
            b,
            inbox,
            uid: delivered[0].uid,
            folder,
            trash,
            app_password,
            passkey,
            identity: identity_id,
            delayed,
            export,
            event,
            event_start,
            reminder,
            a_session: String::new(),
            client: client.id,
            client_secret: client_secret.unwrap(),
            share_id: share.id,
            share_token: share.token,
            contact,
            held,
            archived,
        };
        fx.a_session = fx.new_session(Who::Owner).await.1;
        fx
    }

    /// A fresh full session for `who` (none for nobody): each case gets its
    /// own, so a logout or a password change does not spill over.
    pub async fn session(&self, who: Who) -> Option<Session> {
        (who != Who::Nobody).then_some(())?;
        Some(self.new_session(who).await.0)
    }

    async fn new_session(&self, who: Who) -> (Session, String) {
        let account = if who == Who::Owner { &self.a } else { &self.b };
        self.session_of(account).await
    }

    /// A fresh full session of any account, and its token's hash.
    pub async fn session_of(&self, account: &Account) -> (Session, String) {
        let token = random_token(32);
        let hash = token_hash("session", &token);
        let now = unix_now();
        let s = WebSession {
            token_hash: hash.clone(),
            account_id: account.id,
            stage: STAGE_FULL.into(),
            created_at: now,
            last_seen: now,
            expires_at: now + 3600,
            ip: "127.0.0.1".into(),
            client: "test".into(),
        };
        self.app.identity.create_web_session(&s).await.unwrap();
        (Session { cookie: format!("ardoise_session={token}"), csrf: derive(&self.app, "s", &hash) }, hash)
    }

    /// `{inbox}`, `{uid}`... replaced by A's values.
    pub fn fill(&self, pattern: &str) -> String {
        pattern
            .replace("{inbox}", &self.inbox.to_string())
            .replace("{uid}", &self.uid.to_string())
            .replace("{folder}", &self.folder.to_string())
            .replace("{trash}", &self.trash.to_string())
            .replace("{app}", &self.app_password.to_string())
            .replace("{passkey}", &self.passkey.to_string())
            .replace("{identity}", &self.identity.to_string())
            .replace("{delayed}", &self.delayed.to_string())
            .replace("{export}", &self.export)
            .replace("{session}", &self.a_session)
            .replace("{client}", &self.client)
            .replace("{account}", &self.a.id.to_string())
            .replace("{share}", &self.share_token)
            .replace("{share_id}", &self.share_id.to_string())
            .replace("{contact}", &self.contact)
            .replace("{event}", &self.event)
            .replace("{occurrence}", &self.event_start.to_string())
            .replace("{reminder}", &self.reminder.to_string())
            .replace("{held}", &self.held.to_string())
            .replace("{archived}", &self.archived.to_string())
    }

    /// What B must never see.
    pub fn secrets(&self) -> [&str; 9] {
        [
            SUBJECT_A,
            "Confidentiel.",
            ATTACHED_A,
            "Contact secret",
            EVENT_A,
            HELD_A,
            HELD_BODY_A,
            ARCHIVED_A,
            ARCHIVED_BODY_A,
        ]
    }

    /// One request through the router, from 127.0.0.1; the status and up to 1 MB of body.
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        cookie: Option<&str>,
        body: Option<(String, Vec<u8>)>,
    ) -> (StatusCode, String) {
        let mut req = Request::builder().method(method).uri(path);
        if let Some(c) = cookie {
            req = req.header(header::COOKIE, c);
        }
        let body = match body {
            Some((content_type, bytes)) => {
                req = req.header(header::CONTENT_TYPE, content_type);
                Body::from(bytes)
            }
            None => Body::empty(),
        };
        let mut req = req.body(body).unwrap();
        let peer: SocketAddr = "127.0.0.1:40000".parse().unwrap();
        req.extensions_mut().insert(ConnectInfo(Peer(peer)));
        let mut router = self.router.clone();
        std::future::poll_fn(|cx| Service::<Request<Body>>::poll_ready(&mut router, cx)).await.unwrap();
        let resp = router.call(req).await.unwrap();
        let status = resp.status();
        // The event stream never ends: its head is enough.
        let is_stream = resp.headers().get(header::CONTENT_TYPE).is_some_and(|t| t == "text/event-stream");
        let text = if is_stream {
            String::new()
        } else {
            let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20).await.unwrap_or_default();
            String::from_utf8_lossy(&bytes).into_owned()
        };
        (status, text)
    }

    /// A request built by the caller, from 127.0.0.1; the whole response.
    pub async fn send(&self, mut req: Request<Body>) -> axum::response::Response {
        let peer: SocketAddr = "127.0.0.1:40000".parse().unwrap();
        req.extensions_mut().insert(ConnectInfo(Peer(peer)));
        let mut router = self.router.clone();
        std::future::poll_fn(|cx| Service::<Request<Body>>::poll_ready(&mut router, cx)).await.unwrap();
        router.call(req).await.unwrap()
    }

    /// A full session of A: its cookie.
    pub async fn a_cookie(&self) -> String {
        self.new_session(Who::Owner).await.0.cookie
    }

    /// After every case: A's message, folders, app password, identity and session are all there.
    pub async fn a_still_has_everything(&self) {
        let ms = &self.app.ms;
        assert!(ms.message_by_uid(self.inbox, self.uid).await.unwrap().is_some(), "A's message");
        assert!(ms.mailbox(self.a.id, self.folder).await.unwrap().is_some(), "A's folder");
        assert!(ms.identities(self.a.id).await.unwrap().iter().any(|i| i.id == self.identity), "A's identity");
        let apps = self.app.identity.app_passwords(self.a.id).await.unwrap();
        assert!(apps.iter().any(|p| p.id == self.app_password), "A's app password");
        let passkeys = self.app.identity.passkeys(self.a.id).await.unwrap();
        assert!(passkeys.iter().any(|p| p.id == self.passkey), "A's passkey");
        let sessions = self.app.identity.web_sessions(self.a.id).await.unwrap();
        assert!(sessions.iter().any(|s| s.token_hash == self.a_session), "A's session");
        let gw = self.app.groupware.as_ref().unwrap();
        assert!(gw.contact(self.a.id, &self.contact).await.is_ok(), "A's contact");
        let agenda = gw.collection(self.a.id, groupware::CollectionKind::Calendar, "agenda").await.unwrap();
        let event = gw.get(&agenda, &self.event).await.unwrap();
        assert!(!event.content.contains("EXDATE") && event.content.contains(EVENT_A), "A's event untouched");
        let lists = self.app.lists.as_ref().unwrap();
        assert!(lists.held_for(self.a.id, self.held).await.is_ok(), "A's held post");
    }
}

/// A list `conseil@ac-test.fr` that A moderates (members only may post,
/// B is a member) and a post of an outsider held on it: its id.
async fn held_post(lists: &lists::Lists, a: &Account) -> i64 {
    let address = model::Address::parse("conseil@ac-test.fr").unwrap();
    let new = lists::NewList {
        address: address.clone(),
        name: "Conseil".into(),
        description: String::new(),
        query: None,
        discussion: false,
        tag: None,
    };
    lists.create(new).await.unwrap();
    lists.add_member(&address, &model::Address::parse("bruno.petit@ac-test.fr").unwrap()).await.unwrap();
    lists.set_policy(&address, lists::PostPolicy::Members, &[]).await.unwrap();
    lists.set_moderator(&address, &a.address, true).await.unwrap();
    let post = format!(
        "From: Parent <parent@example.org>\r\nTo: conseil@ac-test.fr\r\nSubject: {HELD_A}\r\n\
         MIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n\
         <p>{HELD_BODY_A}</p><script>alert(1)</script>\r\n"
    );
    let sender = model::Address::parse("parent@example.org").unwrap();
    let out = lists
        .post(mailstore::Bytes::from(post), lists::Poster::Envelope(Some(&sender)), &[address], &[])
        .await
        .unwrap();
    let [(_, lists::Outcome::Held(id))] = out.as_slice() else { panic!("not held: {out:?}") };
    *id
}

/// A discussion group `sorties@ac-test.fr` that A moderates, with no member yet
/// (so no Inbox changes), and a post distributed on it (HTML with scripts):
/// its id in the archive.
async fn archived_post(lists: &lists::Lists, a: &Account) -> i64 {
    let address = model::Address::parse("sorties@ac-test.fr").unwrap();
    let new = lists::NewList {
        address: address.clone(),
        name: "CDI".into(),
        description: String::new(),
        query: None,
        discussion: true,
        tag: None,
    };
    lists.create(new).await.unwrap();
    lists.set_moderator(&address, &a.address, true).await.unwrap();
    let post = format!(
        "From: Documentaliste <doc@example.org>\r\nTo: sorties@ac-test.fr\r\nSubject: {ARCHIVED_A}\r\n\
         Message-ID: <sortie@example.org>\r\nMIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n\
         <p>{ARCHIVED_BODY_A}</p><script>alert(2)</script><img src=x onerror=alert(3)>\r\n"
    );
    let sender = model::Address::parse("doc@example.org").unwrap();
    let out = lists
        .post(mailstore::Bytes::from(post), lists::Poster::Envelope(Some(&sender)), std::slice::from_ref(&address), &[])
        .await
        .unwrap();
    assert!(matches!(out.as_slice(), [(_, lists::Outcome::Distributed { local: 0, .. })]), "{out:?}");
    lists.archive_page(a.id, &address, None, 1).await.unwrap().posts[0].id
}
