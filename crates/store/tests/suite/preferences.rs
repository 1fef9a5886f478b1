//! Webmail preferences, trusted senders and the announcement banner.

use store::WebPrefs;

use crate::fixtures::*;
use crate::harness::Ctx;

pub async fn web_prefs_trusted_senders_and_banner(ctx: Ctx) {
    let store = &ctx.store;
    let claire = account(store, "claire.martin").await;
    let paul = store.create_account(&new_account("paul.durand")).await.unwrap();

    // Preferences: defaults, then saved and replaced, one row per account.
    assert_eq!(store.web_prefs(claire.id).await.unwrap(), None);
    let dark = WebPrefs { density: "compacte".into(), lang: "en".into(), theme: "sombre".into() };
    store.set_web_prefs(claire.id, &dark).await.unwrap();
    assert_eq!(store.web_prefs(claire.id).await.unwrap(), Some(dark.clone()));
    assert_eq!(store.web_prefs(paul.id).await.unwrap(), None, "another account is untouched");
    let light = WebPrefs { theme: "clair".into(), ..dark.clone() };
    store.set_web_prefs(claire.id, &light).await.unwrap();
    assert_eq!(ctx.reopen().await.web_prefs(claire.id).await.unwrap(), Some(light.clone()));
    assert!(store.set_web_prefs(claire.id, &WebPrefs { lang: "x".repeat(40), ..light }).await.is_err());

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

    // The banner: none, set, replaced, over after its date, cleared.
    assert_eq!(store.banner(1_000).await.unwrap(), None);
    store.set_banner("Maintenance samedi de 8 h à 10 h", Some(2_000)).await.unwrap();
    let b = store.banner(1_999).await.unwrap().unwrap();
    assert_eq!((b.text.as_str(), b.until), ("Maintenance samedi de 8 h à 10 h", Some(2_000)));
    assert_eq!(store.banner(2_000).await.unwrap(), None, "over at its end");
    store.set_banner("Nouvelle annonce", None).await.unwrap();
    assert_eq!(store.banner(i64::MAX).await.unwrap().unwrap().text, "Nouvelle annonce");
    assert!(store.set_banner("", None).await.is_err());
    assert!(store.set_banner(&"é".repeat(501), None).await.is_err());
    assert!(store.clear_banner().await.unwrap());
    assert!(!store.clear_banner().await.unwrap());
    assert_eq!(store.banner(0).await.unwrap(), None);
}
