//! Webmail preferences, trusted senders and the announcement banner.

use store::{ReadingPrefs, WebPrefs};

use crate::fixtures::*;
use crate::harness::Ctx;

pub async fn web_prefs_trusted_senders_and_banner(ctx: Ctx) {
    let store = &ctx.store;
    let claire = account(store, "claire.martin").await;
    let paul = store.create_account(&new_account("paul.durand")).await.unwrap();

    // Preferences: defaults, then saved and replaced, one row per account.
    assert_eq!(store.web_prefs(claire.id).await.unwrap(), None);
    let dark = WebPrefs { density: "compacte".into(), lang: "en".into(), theme: "sombre".into(), undo_send: Some(20) };
    store.set_web_prefs(claire.id, &dark).await.unwrap();
    assert_eq!(store.web_prefs(claire.id).await.unwrap(), Some(dark.clone()));
    assert_eq!(store.web_prefs(paul.id).await.unwrap(), None, "another account is untouched");
    let light = WebPrefs { theme: "clair".into(), ..dark.clone() };
    store.set_web_prefs(claire.id, &light).await.unwrap();
    assert_eq!(ctx.reopen().await.web_prefs(claire.id).await.unwrap(), Some(light.clone()));
    assert!(store.set_web_prefs(claire.id, &WebPrefs { lang: "x".repeat(40), ..light.clone() }).await.is_err());
    assert!(store.set_web_prefs(claire.id, &WebPrefs { undo_send: Some(-1), ..light.clone() }).await.is_err());
    assert!(store.set_web_prefs(claire.id, &WebPrefs { undo_send: Some(601), ..light.clone() }).await.is_err());
    let default_delay = WebPrefs { undo_send: None, ..light };
    store.set_web_prefs(claire.id, &default_delay).await.unwrap();
    assert_eq!(store.web_prefs(claire.id).await.unwrap(), Some(default_delay), "back to the installation's");

    // Reading preferences: saved apart, neither form overwriting the other.
    assert_eq!(store.reading_prefs(paul.id).await.unwrap(), ReadingPrefs::default());
    let reunion = ReadingPrefs {
        time_zone: Some("Indian/Reunion".into()),
        reading_pane: Some("droite".into()),
        notify: Some("prioritaires".into()),
    };
    store.set_reading_prefs(paul.id, &reunion).await.unwrap();
    assert_eq!(store.web_prefs(paul.id).await.unwrap(), Some(WebPrefs::default()), "a row with the defaults");
    let paul_dark = WebPrefs { theme: "sombre".into(), ..WebPrefs::default() };
    store.set_web_prefs(paul.id, &paul_dark).await.unwrap();
    assert_eq!(ctx.reopen().await.reading_prefs(paul.id).await.unwrap(), reunion, "kept by the display form");
    let utc = ReadingPrefs { time_zone: Some("UTC".into()), ..ReadingPrefs::default() };
    store.set_reading_prefs(paul.id, &utc).await.unwrap();
    assert_eq!(store.reading_prefs(paul.id).await.unwrap(), utc);
    assert_eq!(store.web_prefs(paul.id).await.unwrap(), Some(paul_dark), "kept by the reading form");
    assert!(store.set_reading_prefs(paul.id, &ReadingPrefs { notify: Some(String::new()), ..utc }).await.is_err());

    // Trusted senders: case-insensitive, idempotent, per account.
    store.add_trusted_sender(claire.id, "Lettre@Musee.example").await.unwrap();
    store.add_trusted_sender(claire.id, "lettre@musee.example").await.unwrap();
    store.add_trusted_sender(claire.id, "info@cnil.example").await.unwrap();
    assert_eq!(store.trusted_senders(claire.id).await.unwrap(), ["info@cnil.example", "lettre@musee.example"]);
    assert!(store.is_trusted_sender(claire.id, "LETTRE@musee.example").await.unwrap());
    assert!(!store.is_trusted_sender(paul.id, "lettre@musee.example").await.unwrap());
    assert!(store.remove_trusted_sender(claire.id, "lettre@musee.example").await.unwrap());
    assert!(!store.remove_trusted_sender(claire.id, "lettre@musee.example").await.unwrap());
    assert!(!store.is_trusted_sender(claire.id, "lettre@musee.example").await.unwrap());
    assert!(store.add_trusted_sender(claire.id, "  ").await.is_err());

    // The banner (the older commands over notices): none, set, replaced, over after its date, cleared.
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    assert_eq!(store.banner(now).await.unwrap(), None);
    store.set_banner("Maintenance samedi de 8 h à 10 h", Some(now + 2_000)).await.unwrap();
    let b = store.banner(now + 1_999).await.unwrap().unwrap();
    assert_eq!((b.text.as_str(), b.until), ("Maintenance samedi de 8 h à 10 h", Some(now + 2_000)));
    assert_eq!(store.banner(now + 2_000).await.unwrap(), None, "over at its end");
    assert_eq!(store.banner(now - 100).await.unwrap(), None, "not before it was set");
    store.set_banner("Nouvelle annonce", None).await.unwrap();
    assert_eq!(store.banner(i64::MAX).await.unwrap().unwrap().text, "Nouvelle annonce");
    assert_eq!(store.notices_at(now + 10).await.unwrap().len(), 1, "the new banner ended the old one");
    assert!(store.set_banner("", None).await.is_err());
    assert!(store.set_banner(&"é".repeat(501), None).await.is_err());
    assert!(store.clear_banner().await.unwrap());
    assert!(!store.clear_banner().await.unwrap());
    assert_eq!(store.banner(now + 10).await.unwrap(), None);
}

/// Maintenance notices: scheduled windows, severity order, both languages,
/// refused when empty, multi-line or ending before they start.
pub async fn notices_show_in_their_window(ctx: Ctx) {
    use store::{NewNotice, Severity};
    let store = &ctx.store;
    let notice = |fr: &'static str, severity, starts_at, ends_at| NewNotice {
        text_fr: fr,
        text_en: "",
        severity,
        starts_at,
        ends_at,
    };
    let info = store.add_notice(&notice("Nouvelle charte", Severity::Info, 1_000, None)).await.unwrap();
    let maintenance = NewNotice {
        text_en: "Mail unavailable Saturday 8-10 am",
        ..notice("Messagerie indisponible samedi de 8 h à 10 h", Severity::Maintenance, 5_000, Some(9_000))
    };
    let m = store.add_notice(&maintenance).await.unwrap();
    assert_eq!(store.notices_at(999).await.unwrap(), []);
    let ids = |v: Vec<store::Notice>| v.iter().map(|n| n.id).collect::<Vec<_>>();
    assert_eq!(ids(store.notices_at(1_000).await.unwrap()), [info]);
    let both = store.notices_at(5_000).await.unwrap();
    assert_eq!(ids(both.clone()), [m, info], "the most severe first");
    assert_eq!(both[0].text("en"), "Mail unavailable Saturday 8-10 am");
    assert_eq!(both[0].text("fr"), "Messagerie indisponible samedi de 8 h à 10 h");
    assert_eq!(both[1].text("en"), "Nouvelle charte", "French when no English was given");
    assert_eq!(ids(store.notices_at(9_000).await.unwrap()), [info], "over at its end");
    assert_eq!(ids(store.notices_pending(6_000).await.unwrap()), [info, m]);
    assert!(store.add_notice(&notice("", Severity::Info, 0, None)).await.is_err());
    assert!(store.add_notice(&notice("deux\nlignes", Severity::Info, 0, None)).await.is_err());
    assert!(store.add_notice(&notice("à l'envers", Severity::Info, 10, Some(10))).await.is_err());
    assert!(store.remove_notice(m).await.unwrap());
    assert!(!store.remove_notice(m).await.unwrap());
    assert_eq!(ids(ctx.reopen().await.notices_at(5_000).await.unwrap()), [info]);
}

/// "Annuler l'envoi": the cancel and the sender race for each waiting
/// message and exactly one wins; waiting messages survive a restart; a
/// claim left by a dead sender is claimed again once stale.
pub async fn delayed_sends_are_claimed_or_cancelled_once(ctx: Ctx) {
    let store = &ctx.store;
    let claire = account(store, "claire.martin").await;
    let paul = store.create_account(&new_account("paul.durand")).await.unwrap();
    let t = 1_800_000_000;
    let first = store.schedule_send(claire.id, 7, 1, t + 10).await.unwrap();
    let second = store.schedule_send(claire.id, 7, 2, t + 20).await.unwrap();
    assert_eq!(store.next_send_at().await.unwrap(), Some(t + 10));
    assert_eq!(store.delayed_send(claire.id, first.id).await.unwrap(), Some(first.clone()));
    assert_eq!(store.delayed_send(paul.id, first.id).await.unwrap(), None, "another account's");
    assert_eq!(store.cancel_send(paul.id, first.id).await.unwrap(), None, "another account cannot cancel");
    assert_eq!(store.pending_sends(claire.id, 10).await.unwrap(), [first.clone(), second.clone()], "soonest first");
    assert_eq!(store.pending_sends(claire.id, 1).await.unwrap(), std::slice::from_ref(&first));
    assert!(store.pending_sends(paul.id, 10).await.unwrap().is_empty(), "another account's");

    // Not due yet: nothing claimed. Due: claimed once, then no longer cancellable.
    assert!(store.claim_due_sends(t + 9, t - 300).await.unwrap().is_empty());
    let store = ctx.reopen().await;
    assert_eq!(store.claim_due_sends(t + 10, t - 290).await.unwrap(), std::slice::from_ref(&first));
    assert!(store.claim_due_sends(t + 11, t - 289).await.unwrap().is_empty(), "claimed once");
    assert_eq!(store.cancel_send(claire.id, first.id).await.unwrap(), None, "too late to cancel");
    assert_eq!(store.delayed_send(claire.id, first.id).await.unwrap(), None, "no longer waiting");
    assert_eq!(
        store.pending_sends(claire.id, 10).await.unwrap(),
        std::slice::from_ref(&second),
        "claimed: not waiting"
    );

    // Cancelled first: the sender never gets it.
    assert_eq!(store.cancel_send(claire.id, second.id).await.unwrap(), Some(second.clone()));
    assert_eq!(store.cancel_send(claire.id, second.id).await.unwrap(), None, "cancelled once");
    assert!(store.claim_due_sends(t + 100, t - 200).await.unwrap().is_empty());
    assert_eq!(store.next_send_at().await.unwrap(), None);

    // The first claim's sender died: claimed again once stale, then finished.
    assert_eq!(store.claim_due_sends(t + 400, t + 11).await.unwrap(), std::slice::from_ref(&first));
    store.finish_send(first.id).await.unwrap();
    assert!(store.claim_due_sends(t + 10_000, t + 9_000).await.unwrap().is_empty());

    // Many claimers at once: each message goes to one of them.
    for uid in 10..30 {
        store.schedule_send(claire.id, 7, uid, t).await.unwrap();
    }
    let claims = (0..4).map(|_| {
        let s = store.clone();
        tokio::spawn(async move { s.claim_due_sends(t + 1, t - 300).await.unwrap() })
    });
    let mut got: Vec<i64> = Vec::new();
    for c in claims {
        got.extend(c.await.unwrap().into_iter().map(|d| d.uid));
    }
    got.sort_unstable();
    assert_eq!(got, (10..30).collect::<Vec<_>>());
}
