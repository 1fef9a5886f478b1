//! Delegation in the webmail (issue 22) through the router: the
//! authorization matrix over the routes of a folder and its messages for
//! the owner, a delegate with read-only rights on one folder, a delegate
//! with read-write rights on the whole mailbox, a member of a functional
//! mailbox, and an outsider (404, as for a folder that does not exist); a
//! forged POST of what the page does not offer is refused by the domain;
//! Réglages → « Délégations » gives, refuses bad addresses, and revokes.

use axum::http::{Method, StatusCode};
use identity::Account;
use mailstore::DeliveryTarget;
use model::{Flag, Rights, SendRights, SpecialUse};

use super::fixture::{Fixture, SUBJECT_A, Session, Who, account};
use super::table::Form;

const PROJET: &str = "Sortie au musée : liste des élèves";
const SECRETARIAT: &str = "Demande de certificat de scolarité";

struct World {
    fx: Fixture,
    /// Read-only on A's « Projets » only.
    reader: Account,
    /// Read-write on all of A's folders.
    writer: Account,
    /// The functional mailbox, and its member (read-write, on behalf).
    secretariat: Account,
    member: Account,
    /// A's « Projets » and its message; the secretariat's Inbox and its message.
    folder: i64,
    folder_uid: i64,
    sec_inbox: i64,
    sec_uid: i64,
}

async fn world() -> World {
    let fx = Fixture::new().await;
    let ms = fx.app.ms.clone();
    let reader = account(&fx.store, "lea.roux", "Léa Roux", "Lecture-Seule-Verte-31").await;
    let writer = account(&fx.store, "marc.blanc", "Marc Blanc", "Ecriture-Pleine-Rouge-32").await;
    let secretariat = account(&fx.store, "secretariat.0541234a", "Secrétariat", "Fonction-Boite-Bleue-33").await;
    let member = account(&fx.store, "paul.durand", "Paul Durand", "Membre-Equipe-Jaune-34").await;
    let folder = fx.app.ms.mailbox_named(fx.a.id, "Projets").await.unwrap().unwrap();
    let raw = format!("From: c@ac-test.fr\r\nSubject: {PROJET}\r\n\r\nListe jointe.\r\n");
    let target = DeliveryTarget { account: fx.a.id, mailbox: Some(folder.id), flags: 0, keywords: Vec::new() };
    let folder_uid = ms.deliver_to(raw.as_bytes(), &[target], 1_700_000_000).await.unwrap()[0].uid;
    let raw = format!("From: parent@example.org\r\nSubject: {SECRETARIAT}\r\n\r\nBonjour.\r\n");
    let sec_uid = ms.deliver(raw.as_bytes(), &[secretariat.id], 1_700_000_000).await.unwrap()[0].uid;
    let sec_inbox = ms.mailbox_with_use(secretariat.id, SpecialUse::Inbox).await.unwrap().unwrap().id;
    ms.set_folder_rights(fx.a.id, &folder, &reader.address, Rights::READER).await.unwrap();
    ms.set_account_rights(fx.a.id, writer.id, Rights::READ_WRITE, SendRights::default()).await.unwrap();
    let send = SendRights { send_as: false, on_behalf: true };
    ms.set_account_rights(secretariat.id, member.id, Rights::READ_WRITE, send).await.unwrap();
    World { fx, reader, writer, secretariat, member, folder: folder.id, folder_uid, sec_inbox, sec_uid }
}

impl World {
    async fn session(&self, who: &Account) -> Session {
        self.fx.session_of(who).await.0
    }

    async fn get(&self, s: &Session, path: &str) -> (StatusCode, String) {
        self.fx.request(Method::GET, path, Some(&s.cookie), None).await
    }

    async fn post(&self, s: &Session, path: &str, fields: &str) -> (StatusCode, String) {
        self.fx.request(Method::POST, path, Some(&s.cookie), Some(Form::url(&s.csrf, fields))).await
    }

    async fn flags(&self, mailbox: i64, uid: i64) -> Option<i64> {
        self.fx.app.ms.message_by_uid(mailbox, uid).await.unwrap().map(|r| r.flags)
    }
}

#[tokio::test]
async fn each_viewer_gets_what_their_rights_give() {
    let w = world().await;
    let (fx, inbox, uid) = (&w.fx, w.fx.inbox, w.fx.uid);
    let owner = fx.session(Who::Owner).await.unwrap();
    let outsider = fx.session(Who::Other).await.unwrap();
    let reader = w.session(&w.reader).await;
    let writer = w.session(&w.writer).await;
    let folder = format!("/courrier/{}", w.folder);
    let message = format!("{folder}/{}", w.folder_uid);
    let inbox_message = format!("/courrier/{inbox}/{uid}");
    // (viewer, path, status): folder lists, reading pages, downloads.
    let matrix: Vec<(&Session, String, StatusCode)> = vec![
        (&owner, folder.clone(), StatusCode::OK),
        (&reader, folder.clone(), StatusCode::OK),
        (&writer, folder.clone(), StatusCode::OK),
        (&outsider, folder.clone(), StatusCode::NOT_FOUND),
        (&reader, format!("/courrier/{inbox}"), StatusCode::NOT_FOUND),
        (&writer, format!("/courrier/{inbox}"), StatusCode::OK),
        (&reader, message.clone(), StatusCode::OK),
        (&outsider, message.clone(), StatusCode::NOT_FOUND),
        (&reader, format!("{message}/source"), StatusCode::OK),
        (&outsider, format!("{message}/source"), StatusCode::NOT_FOUND),
        (&reader, inbox_message.clone(), StatusCode::NOT_FOUND),
        (&reader, format!("{inbox_message}/pj/0"), StatusCode::NOT_FOUND),
        (&writer, format!("{inbox_message}/pj/0"), StatusCode::OK),
        // Folder administration stays the owner's.
        (&writer, format!("/courrier/{inbox}/vider"), StatusCode::NOT_FOUND),
        (&writer, format!("{folder}/renommer"), StatusCode::NOT_FOUND),
    ];
    for (who, path, want) in &matrix {
        let (status, page) = w.get(who, path).await;
        assert_eq!(status, *want, "{path}");
        if *want == StatusCode::NOT_FOUND {
            assert!(!page.contains(PROJET) && !page.contains(SUBJECT_A), "{path} leaked: {page}");
        }
    }
    // The reader's page says whose mailbox and offers no deletion nor flag.
    let (_, page) = w.get(&reader, &message).await;
    assert!(page.contains(PROJET) && !page.contains("id=\"supprimer\"") && !page.contains("id=\"suivre\""), "{page}");
    // Nor what belongs to the owner alone: their filter rules, junk training.
    assert!(!page.contains("id=\"creer-filtre\"") && !page.contains("id=\"indesirable\""), "{page}");
    let (_, list) = w.get(&reader, &folder).await;
    assert!(list.contains("alice.martin@ac-test.fr") && list.contains("lecture seule"), "{list}");
    assert!(!list.contains("id=\"lot-supprimer\"") && !list.contains("id=\"partager-dossier\""), "{list}");
    // The sidebar of the reader shows A's shared folder, not A's Inbox.
    let (_, own) = w.get(&reader, "/courrier").await;
    assert!(own.contains(&format!("href=\"/courrier/{}\"", w.folder)), "{own}");
    assert!(!own.contains(&format!("href=\"/courrier/{inbox}\"")), "{own}");
    // Reading with `s` marks read, for everyone (RFC 4314).
    assert_ne!(w.flags(w.folder, w.folder_uid).await.unwrap() & Flag::Seen.bit(), 0);
}

#[tokio::test]
async fn forged_posts_are_refused_by_the_domain() {
    let w = world().await;
    let fx = &w.fx;
    let reader = w.session(&w.reader).await;
    let writer = w.session(&w.writer).await;
    let outsider = fx.session(Who::Other).await.unwrap();
    let message = format!("/courrier/{}/{}", w.folder, w.folder_uid);
    let lot = format!("/courrier/{}/lot", w.folder);
    // Read-only: no delete, no flag, no move, on one message or a selection.
    for fields in ["action=supprimer", "action=suivre", "action=non-lu"] {
        let (status, page) = w.post(&reader, &message, fields).await;
        let want = if fields == "action=non-lu" { StatusCode::SEE_OTHER } else { StatusCode::FORBIDDEN };
        assert_eq!(status, want, "{fields}");
        if want == StatusCode::FORBIDDEN {
            assert!(page.contains("Vos droits sur cette boîte partagée ne permettent pas cette action"), "{page}");
        }
    }
    // A folder of A's the reader was not given is no target: 404.
    let (status, _) = w.post(&reader, &message, &format!("action=deplacer&dossier={}", fx.inbox)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = w.post(&reader, &lot, &format!("action=supprimer&uid={}", w.folder_uid)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // The outsider learns nothing: 404 as for a folder that does not exist.
    let (status, _) = w.post(&outsider, &message, "action=supprimer").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = w.post(&outsider, &lot, &format!("action=supprimer&uid={}", w.folder_uid)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let flags = w.flags(w.folder, w.folder_uid).await.expect("still there");
    assert_eq!(flags & Flag::Flagged.bit(), 0);
    // Read-write: flags, then a deletion into A's Corbeille, journaled.
    let (status, _) = w.post(&writer, &message, "action=suivre").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_ne!(w.flags(w.folder, w.folder_uid).await.unwrap() & Flag::Flagged.bit(), 0);
    // A move to the writer's own folder is not a target: 404.
    let own_inbox = fx.app.ms.mailbox_with_use(w.writer.id, SpecialUse::Inbox).await.unwrap().unwrap().id;
    let (status, _) = w.post(&writer, &message, &format!("action=deplacer&dossier={own_inbox}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = w.post(&writer, &message, "action=supprimer").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(w.flags(w.folder, w.folder_uid).await.is_none(), "moved away");
    let trash = fx.app.ms.mailbox_with_use(fx.a.id, SpecialUse::Trash).await.unwrap().unwrap();
    assert_eq!(fx.app.ms.messages(trash.id).await.unwrap().len(), 1, "in A's Corbeille");
    let journal = fx.app.ms.delegation_journal(fx.a.id).await.unwrap();
    let lines: Vec<(String, &str, &str)> =
        journal.iter().map(|e| (e.actor_address.clone(), e.action.as_str(), e.detail.as_str())).collect();
    let (reader, writer) = (w.reader.address.to_string(), w.writer.address.to_string());
    // Newest first; what the domain refused left no line.
    assert_eq!(
        lines,
        [
            (writer.clone(), "deplacement", "Projets -> Corbeille UID 1"),
            (writer, "marquage", "Projets +\\Flagged UID 1"),
            (reader, "marquage", "Projets -\\Seen UID 1"),
        ],
        "{journal:?}"
    );
}

#[tokio::test]
async fn a_member_reads_the_functional_mailbox_and_may_write_from_it() {
    let w = world().await;
    let member = w.session(&w.member).await;
    let outsider = w.fx.session(Who::Other).await.unwrap();
    let (status, own) = w.get(&member, "/courrier").await;
    assert_eq!(status, StatusCode::OK);
    assert!(own.contains("Boîte partagée : secretariat.0541234a"), "{own}");
    assert!(own.contains(&format!("href=\"/courrier/{}\"", w.sec_inbox)), "{own}");
    let (status, list) = w.get(&member, &format!("/courrier/{}", w.sec_inbox)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(list.contains(SECRETARIAT) && list.contains("id=\"lot-supprimer\""), "{list}");
    let (status, _) = w.get(&outsider, &format!("/courrier/{}", w.sec_inbox)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // A reply from the shared Inbox is written « de la part de » it.
    let reply = format!("/courrier/ecrire?dossier={}&uid={}", w.sec_inbox, w.sec_uid);
    let (status, page) = w.get(&member, &reply).await;
    assert_eq!(status, StatusCode::OK);
    let choice = format!("value=\"pour:{}\" data-signature=\"\" selected", w.secretariat.address);
    assert!(page.contains(&choice), "{page}");
    // Nobody else is offered the address.
    let (_, page) = w.get(&outsider, "/courrier/ecrire").await;
    assert!(!page.contains(&w.secretariat.address.to_string()), "{page}");
}

#[tokio::test]
async fn delegations_are_given_refused_and_revoked() {
    let w = world().await;
    let fx = &w.fx;
    let owner = fx.session(Who::Owner).await.unwrap();
    let outsider = fx.session(Who::Other).await.unwrap();
    let page = "/courrier/reglages/delegations";
    let (status, html) = w.get(&owner, &format!("{page}?dossier={}", w.folder)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Partager le dossier « Projets »") && html.contains("lea.roux@ac-test.fr"), "{html}");
    assert!(html.contains("marc.blanc@ac-test.fr") && html.contains("toute ma boîte"), "{html}");
    let student = fx
        .store
        .create_account(&store::NewAccount {
            address: model::Address::parse("eleve.test@ac-test.fr").unwrap(),
            login: None,
            display_name: "Élève".into(),
            role: model::Role::Student,
            status: model::AccountStatus::Active,
            quota_bytes: None,
            org_unit: None,
            password_hash: None,
        })
        .await
        .unwrap();
    let student = student.address.to_string();
    // (Apostrophes are escaped in the page: the checks avoid them.)
    for (address, said) in [
        ("pas une adresse", "pas valide"),
        ("alice.martin@ac-test.fr", "votre propre adresse"),
        ("quelqu.un@example.org", "académie : on ne délègue qu"),
        ("personne@ac-test.fr", "Aucun compte actif"),
        (student.as_str(), "un élève : la délégation se fait entre personnels"),
    ] {
        let fields = format!("action=donner&adresse={}&portee={}&droits=lecture", address.replace(' ', "+"), w.folder);
        let (status, html) = w.post(&owner, page, &fields).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{address}");
        assert!(html.contains(said), "{address}: {html}");
    }
    // Sending rights are for the whole mailbox.
    let fields = format!("action=donner&adresse=bruno.petit@ac-test.fr&portee={}&droits=lecture&comme=1", w.folder);
    let (status, html) = w.post(&owner, page, &fields).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("sur toute la boîte, pas sur un dossier"), "{html}");
    // B (the outsider until now) gets « Projets » read-only, sees it, then loses it.
    let fields = format!("action=donner&adresse=bruno.petit@ac-test.fr&portee={}&droits=lecture", w.folder);
    let (status, _) = w.post(&owner, page, &fields).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, list) = w.get(&outsider, &format!("/courrier/{}", w.folder)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(list.contains(PROJET), "{list}");
    let (_, html) = w.get(&outsider, page).await;
    assert!(html.contains("alice.martin@ac-test.fr") && html.contains("Projets"), "{html}");
    // B cannot revoke A's grants nor give on A's folder.
    let fields = format!("action=retirer&compte={}&portee={}", fx.b.id, w.folder);
    let (status, _) = w.post(&outsider, page, &fields).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = w.post(&owner, page, &fields).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _) = w.get(&outsider, &format!("/courrier/{}", w.folder)).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "revoked");
    // The whole-mailbox grant of the writer is revoked the same way.
    let (status, _) = w.post(&owner, page, &format!("action=retirer&compte={}&portee=", w.writer.id)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(fx.app.ms.grants_held(w.writer.id).await.unwrap().is_empty());
}
