//! Sieve scripts: put, replace, list, one active at most, delete and rename
//! rules, the count quota, and the batch look-up of the scripts a delivery
//! runs.

use store::{DeliveryScript, PutScript, ScriptChange};

use crate::fixtures::*;
use crate::harness::Ctx;

pub async fn sieve_scripts_keep_one_active(ctx: Ctx) {
    let store = &ctx.store;
    let claire = account(store, "claire.martin").await;
    let paul = store.create_account(&new_account("paul.durand")).await.unwrap();
    assert!(store.sieve_scripts(claire.id).await.unwrap().is_empty());

    let rule = "require \"fileinto\";\r\nfileinto \"Réunions\";\r\n";
    assert_eq!(store.put_sieve_script(claire.id, "réunions", rule, 3).await.unwrap(), PutScript::Created);
    assert_eq!(store.put_sieve_script(claire.id, "autre", "keep;", 3).await.unwrap(), PutScript::Created);
    assert_eq!(store.put_sieve_script(claire.id, "trois", "keep;", 3).await.unwrap(), PutScript::Created);
    assert_eq!(store.put_sieve_script(claire.id, "quatre", "keep;", 3).await.unwrap(), PutScript::TooMany);
    assert_eq!(store.put_sieve_script(claire.id, "trois", "discard;", 3).await.unwrap(), PutScript::Replaced);
    assert!(store.sieve_script(claire.id, "quatre").await.unwrap().is_none(), "refused means not written");

    let got = store.sieve_script(claire.id, "réunions").await.unwrap().unwrap();
    assert_eq!(got.source, rule);
    assert_eq!(got.script.size, rule.len() as i64);
    assert!(!got.script.active);
    let names: Vec<String> = store.sieve_scripts(claire.id).await.unwrap().into_iter().map(|s| s.name).collect();
    assert_eq!(names, ["autre", "réunions", "trois"]);
    assert!(store.sieve_scripts(paul.id).await.unwrap().is_empty(), "scripts are per account");
    assert!(store.sieve_script(paul.id, "réunions").await.unwrap().is_none());

    // One active at most; activating another moves the mark.
    assert_eq!(store.activate_sieve_script(claire.id, Some("nope")).await.unwrap(), ScriptChange::NotFound);
    assert_eq!(store.activate_sieve_script(claire.id, Some("réunions")).await.unwrap(), ScriptChange::Done);
    assert_eq!(store.activate_sieve_script(claire.id, Some("autre")).await.unwrap(), ScriptChange::Done);
    let active: Vec<String> =
        store.sieve_scripts(claire.id).await.unwrap().into_iter().filter(|s| s.active).map(|s| s.name).collect();
    assert_eq!(active, ["autre"]);

    // The active one cannot be deleted; renaming keeps it active.
    assert_eq!(store.delete_sieve_script(claire.id, "autre").await.unwrap(), ScriptChange::Active);
    assert_eq!(store.delete_sieve_script(claire.id, "nope").await.unwrap(), ScriptChange::NotFound);
    assert_eq!(store.rename_sieve_script(claire.id, "autre", "trois").await.unwrap(), ScriptChange::Exists);
    assert_eq!(store.rename_sieve_script(claire.id, "nope", "x").await.unwrap(), ScriptChange::NotFound);
    assert_eq!(store.rename_sieve_script(claire.id, "autre", "principal").await.unwrap(), ScriptChange::Done);
    let principal = store.sieve_script(claire.id, "principal").await.unwrap().unwrap();
    assert!(principal.script.active);

    // Replacing a script raises its revision, which stale caches compare.
    let before = principal.script.revision;
    store.put_sieve_script(claire.id, "principal", "stop;", 3).await.unwrap();
    let after = store.sieve_script(claire.id, "principal").await.unwrap().unwrap();
    assert!(after.script.revision > before && after.script.active);

    let many: Vec<i64> = (0..1_200).map(|i| claire.id + 10_000 + i).chain([paul.id, claire.id]).collect();
    let delivery = |s: &str, revision: i64, active: bool| DeliveryScript {
        account: claire.id,
        name: s.to_string(),
        revision,
        active,
    };
    let principal = |active| delivery("principal", after.script.revision, active);
    let mut found = store.delivery_sieve_scripts_among(&many, "aucun").await.unwrap();
    assert_eq!(found, [principal(true)]);
    // The script named as well comes with the active one, active or not.
    let trois = store.sieve_script(claire.id, "trois").await.unwrap().unwrap().script.revision;
    found = store.delivery_sieve_scripts_among(&many, "trois").await.unwrap();
    found.sort_by(|a, b| a.name.cmp(&b.name));
    assert_eq!(found, [principal(true), delivery("trois", trois, false)]);
    found = store.delivery_sieve_scripts_among(&many, "principal").await.unwrap();
    assert_eq!(found, [principal(true)], "one row for a script both active and named");

    // Deactivated, it can be deleted.
    assert_eq!(store.activate_sieve_script(claire.id, None).await.unwrap(), ScriptChange::Done);
    assert!(store.delivery_sieve_scripts_among(&many, "aucun").await.unwrap().is_empty());
    assert_eq!(store.delete_sieve_script(claire.id, "principal").await.unwrap(), ScriptChange::Done);
    assert_eq!(store.sieve_scripts(claire.id).await.unwrap().len(), 2);
}
