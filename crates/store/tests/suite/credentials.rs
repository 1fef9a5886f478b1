//! Credentials (schema version 5): password change and history, TOTP steps,
//! recovery codes, app passwords, the login journal and its failure counts,
//! web sessions and reset tokens; the helpdesk reset and the password expiry
//! reminders (version 7).

use model::AccountStatus;
use store::{NewJournalEntry, WebSession};

use crate::fixtures::*;
use crate::harness::Ctx;

pub async fn password_change_keeps_history_and_activates(ctx: Ctx) {
    let s = ctx.store;
    s.add_domain(&domain()).await.unwrap();
    let mut new = new_account("jean.martin");
    new.status = AccountStatus::Provisional;
    new.password_hash = Some("h0".into());
    let a = s.create_account(&new).await.unwrap();
    for (i, h) in ["h1", "h2", "h3", "h4"].iter().enumerate() {
        s.change_password(a.id, h, 2, i == 0).await.unwrap();
    }
    let a = s.account(a.id).await.unwrap().unwrap();
    assert_eq!(a.password_hash.as_deref(), Some("h4"));
    assert_eq!(a.status, AccountStatus::Active);
    assert_eq!(s.password_history(a.id).await.unwrap(), vec!["h3".to_owned(), "h2".to_owned()]);
    assert!(s.credential_state(a.id).await.unwrap().password_changed_at.is_some());
    // A suspended account is not reactivated by a password change.
    s.set_account_status(a.id, AccountStatus::Suspended).await.unwrap();
    s.change_password(a.id, "h5", 2, true).await.unwrap();
    assert_eq!(s.account(a.id).await.unwrap().unwrap().status, AccountStatus::Suspended);
    // Nor reset by the helpdesk (schema 7).
    assert!(s.set_provisional_password(a.id, "p1").await.is_err());

    // A helpdesk reset: provisional again, the previous hash in the history,
    // the web sessions ended.
    let b = account(&s, "paul").await;
    s.change_password(b.id, "b1", 5, false).await.unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let session = WebSession {
        token_hash: "tok-b".into(),
        account_id: b.id,
        stage: "full".into(),
        created_at: now,
        last_seen: now,
        expires_at: now + 3600,
        ip: "127.0.0.1".into(),
        client: "test".into(),
    };
    s.create_web_session(&session).await.unwrap();
    s.set_provisional_password(b.id, "b2").await.unwrap();
    let b = s.account(b.id).await.unwrap().unwrap();
    assert_eq!((b.status, b.password_hash.as_deref()), (AccountStatus::Provisional, Some("b2")));
    assert_eq!(s.password_history(b.id).await.unwrap()[0], "b1");
    assert!(s.web_sessions(b.id).await.unwrap().is_empty());
}

pub async fn password_reminders_are_claimed_once(ctx: Ctx) {
    let s = ctx.store;
    let a = account(&s, "claire").await;
    s.set_password_hash(a.id, "h").await.unwrap();
    account(&s, "sans.motdepasse").await;
    let mut student = new_account("eleve");
    student.role = model::Role::Student;
    student.password_hash = Some("h".into());
    s.create_account(&student).await.unwrap();
    let set_at = s.account(a.id).await.unwrap().unwrap().created_at;
    // Only active staff with a password set early enough.
    let found = s.passwords_set_before(set_at + 10).await.unwrap();
    assert_eq!(found.iter().map(|(acc, at)| (acc.id, *at)).collect::<Vec<_>>(), vec![(a.id, set_at)]);
    assert!(s.passwords_set_before(set_at - 10).await.unwrap().is_empty());
    assert!(s.claim_password_reminder(a.id, set_at, 14).await.unwrap());
    assert!(!s.claim_password_reminder(a.id, set_at, 14).await.unwrap(), "once");
    assert!(s.claim_password_reminder(a.id, set_at, 3).await.unwrap());
    assert!(s.claim_password_reminder(a.id, set_at + 1, 14).await.unwrap(), "a new password, a new cycle");
    assert_eq!(s.password_reminders_sent(a.id, set_at).await.unwrap(), vec![3, 14]);
    // A change moves the time the password was set.
    s.change_password(a.id, "h2", 2, false).await.unwrap();
    let changed = s.credential_state(a.id).await.unwrap().password_changed_at.unwrap();
    assert_eq!(s.passwords_set_before(changed).await.unwrap()[0].1, changed);
}

pub async fn totp_steps_are_claimed_once(ctx: Ctx) {
    let s = ctx.store;
    let a = account(&s, "claire").await;
    assert!(s.enable_totp(a.id).await.is_err(), "no seed yet");
    s.set_totp_pending(a.id, "JBSWY3DPEHPK3PXP").await.unwrap();
    let st = s.credential_state(a.id).await.unwrap();
    assert_eq!(st.totp_secret.as_deref(), Some("JBSWY3DPEHPK3PXP"));
    assert!(st.totp_enabled_at.is_none());
    s.enable_totp(a.id).await.unwrap();
    assert!(s.claim_totp_step(a.id, 100).await.unwrap());
    assert!(!s.claim_totp_step(a.id, 100).await.unwrap(), "replay");
    assert!(!s.claim_totp_step(a.id, 99).await.unwrap(), "older step");
    assert!(s.claim_totp_step(a.id, 101).await.unwrap());
    s.replace_recovery_codes(a.id, &["r1".into(), "r2".into()]).await.unwrap();
    assert!(s.use_recovery_code(a.id, "r1").await.unwrap());
    assert!(!s.use_recovery_code(a.id, "r1").await.unwrap(), "single use");
    assert_eq!(s.recovery_codes_left(a.id).await.unwrap(), 1);
    // The stored value is replaced only when it is still the one read.
    assert_eq!(s.totp_secrets().await.unwrap(), vec![(a.id, "JBSWY3DPEHPK3PXP".to_owned())]);
    assert!(!s.replace_totp_secret(a.id, "OTHER", "x1:00").await.unwrap());
    assert!(s.replace_totp_secret(a.id, "JBSWY3DPEHPK3PXP", "x1:00").await.unwrap());
    assert_eq!(s.credential_state(a.id).await.unwrap().totp_secret.as_deref(), Some("x1:00"));
    s.disable_totp(a.id).await.unwrap();
    let st = s.credential_state(a.id).await.unwrap();
    assert!(st.totp_secret.is_none() && st.totp_enabled_at.is_none());
    assert_eq!(s.recovery_codes_left(a.id).await.unwrap(), 0);
}

pub async fn app_passwords_are_scoped_and_revocable(ctx: Ctx) {
    let s = ctx.store;
    let a = account(&s, "claire").await;
    let b = account(&s, "paul").await;
    let id = s.create_app_password(a.id, "Thunderbird", &["imap", "smtp"], "hash-a").await.unwrap();
    let used = s.use_app_password(a.id, "hash-a").await.unwrap().unwrap();
    assert_eq!(used.scopes, vec!["imap".to_owned(), "smtp".to_owned()]);
    assert!(s.use_app_password(b.id, "hash-a").await.unwrap().is_none(), "another account's token");
    assert!(s.app_passwords(a.id).await.unwrap()[0].last_used_at.is_some());
    assert!(!s.revoke_app_password(b.id, id).await.unwrap(), "not paul's to revoke");
    assert!(s.revoke_app_password(a.id, id).await.unwrap());
    assert!(s.use_app_password(a.id, "hash-a").await.unwrap().is_none());
    assert!(s.app_passwords(a.id).await.unwrap().is_empty());
}

fn attempt(account: Option<i64>, ip: &str, result: &str) -> NewJournalEntry {
    NewJournalEntry {
        account_id: account,
        login: "x".into(),
        protocol: "imap".into(),
        ip: ip.into(),
        client: String::new(),
        result: result.into(),
        device: None,
    }
}

pub async fn journal_counts_failures_since_the_last_success(ctx: Ctx) {
    let s = ctx.store;
    let a = account(&s, "claire").await;
    for r in ["bad", "bad", "ok", "bad", "throttled", "provisional"] {
        s.record_login(&attempt(Some(a.id), "10.0.0.1", r)).await.unwrap();
    }
    s.record_login(&attempt(None, "10.0.0.1", "bad")).await.unwrap();
    s.record_login(&attempt(Some(a.id), "10.0.0.2", "bad")).await.unwrap();
    let (n, last) = s.recent_failures(Some(a.id), "10.0.0.1", 0).await.unwrap();
    assert_eq!(n, 1, "bad after the success (a throttled answer is no new failure)");
    assert!(last.is_some());
    assert_eq!(s.recent_failures(None, "10.0.0.1", 0).await.unwrap().0, 2);
    assert_eq!(s.recent_failures(Some(a.id), "10.0.0.3", 0).await.unwrap(), (0, None));
    // Only the window counts.
    assert_eq!(s.recent_failures(Some(a.id), "10.0.0.1", i64::MAX).await.unwrap(), (0, None));
    assert_eq!(s.recent_failures(None, "10.0.0.1", i64::MAX).await.unwrap(), (0, None));
    assert!(s.is_known_device(a.id, "10.0.0.1").await.unwrap());
    assert!(!s.is_known_device(a.id, "10.0.0.2").await.unwrap());
    assert!(s.has_logged_in(a.id).await.unwrap());
    let journal = s.login_journal(a.id, 3).await.unwrap();
    assert_eq!(journal.len(), 3);
    assert_eq!(journal[0].ip, "10.0.0.2", "newest first");
    assert_eq!(s.purge_login_journal(i64::MAX).await.unwrap(), 8);
    assert!(s.login_journal(a.id, 10).await.unwrap().is_empty());
}

pub async fn web_sessions_and_reset_tokens(ctx: Ctx) {
    let s = ctx.store;
    let a = account(&s, "claire").await;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let session = |hash: &str, expires_at: i64| WebSession {
        token_hash: hash.into(),
        account_id: a.id,
        stage: "full".into(),
        created_at: now,
        last_seen: now,
        expires_at,
        ip: "127.0.0.1".into(),
        client: "test".into(),
    };
    s.create_web_session(&session("s1", now + 3600)).await.unwrap();
    s.create_web_session(&session("s2", now + 3600)).await.unwrap();
    s.create_web_session(&session("old", now - 1)).await.unwrap();
    assert!(s.web_session("old").await.unwrap().is_none(), "expired");
    assert_eq!(s.web_sessions(a.id).await.unwrap().len(), 2);
    s.set_web_session_stage("s1", "totp").await.unwrap();
    assert_eq!(s.web_session("s1").await.unwrap().unwrap().stage, "totp");
    assert_eq!(s.delete_web_sessions(a.id, Some("s1")).await.unwrap(), 2);
    assert!(s.web_session("s2").await.unwrap().is_none());
    assert!(s.delete_web_session(a.id, "s1").await.unwrap());

    s.create_reset_token(a.id, "t1", now + 1800).await.unwrap();
    s.create_reset_token(a.id, "t2", now - 1).await.unwrap();
    assert_eq!(s.reset_token("t1", false).await.unwrap(), Some(a.id));
    assert_eq!(s.reset_token("t1", true).await.unwrap(), Some(a.id));
    assert_eq!(s.reset_token("t1", true).await.unwrap(), None, "single use");
    assert_eq!(s.reset_token("t2", true).await.unwrap(), None, "expired");
    assert_eq!(s.reset_tokens_since(a.id, now - 10).await.unwrap(), 2);
}

/// Issue 25, items 5 and 11: failures are counted per account from a
/// device, per account from anywhere, and per unknown identifier alike.
pub async fn journal_counts_failures_per_device_account_and_identifier(ctx: Ctx) {
    use store::{FailureScope, Guessed};
    let s = ctx.store;
    let a = account(&s, "claire").await;
    let with_device = |ip: &str, result: &str, device: Option<&str>| NewJournalEntry {
        device: device.map(str::to_owned),
        ..attempt(Some(a.id), ip, result)
    };
    // Guesses from many addresses, one from the owner's device.
    for i in 0..6 {
        s.record_login(&with_device(&format!("198.51.100.{i}"), "bad", None)).await.unwrap();
    }
    s.record_login(&with_device("192.0.2.1", "bad", Some("dev1"))).await.unwrap();
    s.record_login(&with_device("192.0.2.1", "throttled", Some("dev1"))).await.unwrap();
    let n = |scope| {
        let s = s.clone();
        async move { s.failures(scope, 0).await.unwrap().0 }
    };
    assert_eq!(n(FailureScope::Guessed(Guessed::Account(a.id))).await, 7);
    assert_eq!(n(FailureScope::FromDevice(a.id, "dev1")).await, 1);
    assert_eq!(n(FailureScope::FromDevice(a.id, "dev2")).await, 0);
    assert_eq!(n(FailureScope::FromAddress(Guessed::Account(a.id), "198.51.100.3")).await, 1);
    // The device's success starts its count again, not the account's.
    s.record_login(&with_device("192.0.2.1", "ok", Some("dev1"))).await.unwrap();
    assert_eq!(n(FailureScope::FromDevice(a.id, "dev1")).await, 0);
    assert_eq!(n(FailureScope::Guessed(Guessed::Account(a.id))).await, 0, "a success ends the account's count");
    // An identifier that names no account: counted by its text.
    for ip in ["203.0.113.1", "203.0.113.2", "203.0.113.2"] {
        let e = NewJournalEntry { login: "personne@ac-test.fr".into(), ..attempt(None, ip, "bad") };
        s.record_login(&e).await.unwrap();
    }
    assert_eq!(n(FailureScope::Guessed(Guessed::Login("personne@ac-test.fr"))).await, 3);
    assert_eq!(n(FailureScope::FromAddress(Guessed::Login("personne@ac-test.fr"), "203.0.113.2")).await, 2);
    assert_eq!(n(FailureScope::Guessed(Guessed::Login("autre@ac-test.fr"))).await, 0);
    assert_eq!(n(FailureScope::Address("203.0.113.2")).await, 2);
    // Issue 24: a helpdesk unlock ends the account's counts in every scope of
    // the account, but not the guessing address's own count.
    for _ in 0..3 {
        s.record_login(&with_device("198.51.100.9", "bad", None)).await.unwrap();
    }
    assert_eq!(n(FailureScope::FromAddress(Guessed::Account(a.id), "198.51.100.9")).await, 3);
    assert_eq!(n(FailureScope::Guessed(Guessed::Account(a.id))).await, 3);
    assert_eq!(s.last_unlock(a.id).await.unwrap(), 0);
    s.record_login(&NewJournalEntry { protocol: "admin".into(), ..attempt(Some(a.id), "", store::UNLOCK) })
        .await
        .unwrap();
    assert!(s.last_unlock(a.id).await.unwrap() > 0);
    assert_eq!(n(FailureScope::FromAddress(Guessed::Account(a.id), "198.51.100.9")).await, 0);
    assert_eq!(n(FailureScope::Guessed(Guessed::Account(a.id))).await, 0);
    assert_eq!(n(FailureScope::FromDevice(a.id, "dev1")).await, 0);
    assert_eq!(n(FailureScope::Address("198.51.100.9")).await, 3, "the guesser's address still slows down");
    assert!(!s.is_known_device(a.id, "").await.unwrap(), "an unlock is no login");
}

/// Issue 25, item 3: credential changes are numbered with status changes,
/// for the watcher of every process.
pub async fn credential_changes_are_numbered_for_the_watcher(ctx: Ctx) {
    use model::Revocation;
    let s = ctx.store;
    let a = account(&s, "claire").await;
    let start = s.status_sequence().await.unwrap();
    let id = s.create_app_password(a.id, "Téléphone", &["imap"], "hash-a").await.unwrap();
    s.create_app_password(a.id, "Tablette", &["imap"], "hash-b").await.unwrap();
    assert!(s.revoke_app_password(a.id, id).await.unwrap());
    assert!(!s.revoke_app_password(a.id, id).await.unwrap(), "once");
    s.change_password(a.id, "$argon2id$new", 3, false).await.unwrap();
    assert_eq!(s.revoke_app_passwords(a.id).await.unwrap(), 1);
    let rows = s.revocations_after(start).await.unwrap();
    let what: Vec<Revocation> = rows.iter().map(|r| r.1).collect();
    assert_eq!(what, [Revocation::AppPassword(id), Revocation::Password, Revocation::AppPasswords]);
    assert!(rows.iter().all(|r| r.0 == a.id));
    assert!(rows.windows(2).all(|w| w[0].2 < w[1].2), "numbered in order");
    assert_eq!(s.status_sequence().await.unwrap(), rows[2].2, "one counter for statuses and credentials");
    assert!(s.revocations_after(rows[2].2).await.unwrap().is_empty());
    assert!(s.app_passwords(a.id).await.unwrap().is_empty());
}
