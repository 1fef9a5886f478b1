//! What `backup restore --account` brings back besides mail: the folder
//! subscriptions, the Sieve scripts (and which one was active), the address
//! books and calendars. Everything is added next to the live data and never
//! over it, so a rerun finds it all « déjà présent »:
//! - a subscription missing from the live account is added;
//! - a script missing by name is stored (through the filter domain, so it is
//!   compiled and checked against the forwarding policy); one of the same name
//!   and the same text is already there; one of the same name and another text
//!   is stored as « <nom> (restauré) », the live one untouched. The snapshot's
//!   active script becomes active only when the live account has none active;
//! - collections are found by name (made when missing) and their objects put
//!   with `If-None-Match: *`: an object of the same name or the same UID is
//!   already there.

use model::AccountId;

use crate::serve::Opened;

/// Counts of one kind of item.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct Count {
    pub restored: u64,
    pub already: u64,
    pub failed: u64,
}

impl std::fmt::Display for Count {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} restauré(s), {} déjà présent(s), {} en échec", self.restored, self.already, self.failed)
    }
}

/// Suffix of a restored script whose name is taken by another text.
const RESTORED_SUFFIX: &str = " (restauré)";

pub(super) struct AccountData {
    pub subscriptions: Count,
    pub scripts: Count,
    pub objects: Count,
}

impl AccountData {
    pub fn failed(&self) -> u64 {
        self.subscriptions.failed + self.scripts.failed + self.objects.failed
    }
}

/// Restores `source`'s subscriptions, scripts and collections read from
/// `snap` into the live account `target`.
pub(super) async fn restore(
    cfg: &config::Config,
    snap: &store::Store,
    source: AccountId,
    live: &Opened,
    target: AccountId,
) -> anyhow::Result<AccountData> {
    let subscriptions = subscriptions(snap, source, live, target).await?;
    let scripts = scripts(cfg, snap, source, live, target).await?;
    let objects = collections(cfg, snap, source, live, target).await?;
    Ok(AccountData { subscriptions, scripts, objects })
}

async fn subscriptions(
    snap: &store::Store,
    source: AccountId,
    live: &Opened,
    target: AccountId,
) -> anyhow::Result<Count> {
    let mut count = Count::default();
    let have = live.mailstore.subscriptions(target).await?;
    for name in snap.subscriptions(source).await? {
        if have.contains(&name) {
            count.already += 1;
            continue;
        }
        match live.mailstore.add_subscription(target, &name).await {
            Ok(()) => count.restored += 1,
            Err(e) => {
                eprintln!("abonnement « {name} » : {e}");
                count.failed += 1;
            }
        }
    }
    Ok(count)
}

async fn scripts(
    cfg: &config::Config,
    snap: &store::Store,
    source: AccountId,
    live: &Opened,
    target: AccountId,
) -> anyhow::Result<Count> {
    let filters = crate::serve::filters(cfg, live);
    let mut count = Count::default();
    let mut active_restored = None;
    let saved = snap.sieve_scripts(source).await?;
    for script in &saved {
        let Some(text) = snap.sieve_script(source, &script.name).await?.map(|s| s.source) else { continue };
        let name = match filters.get(target, &script.name).await? {
            None => script.name.clone(),
            Some(live_text) if live_text == text => {
                count.already += 1;
                if script.active {
                    active_restored = Some(script.name.clone());
                }
                continue;
            }
            Some(_) => {
                let other = format!("{}{RESTORED_SUFFIX}", script.name);
                match filters.get(target, &other).await? {
                    Some(t) if t == text => {
                        count.already += 1;
                        if script.active {
                            active_restored = Some(other);
                        }
                        continue;
                    }
                    _ => other,
                }
            }
        };
        match filters.put(target, &name, &text).await? {
            filter::scripts::Put::Stored => {
                count.restored += 1;
                println!("script Sieve « {} » restauré sous « {name} »", script.name);
                if script.active {
                    active_restored = Some(name);
                }
            }
            refused => {
                eprintln!("script Sieve « {} » : refusé ({})", script.name, describe(&refused));
                count.failed += 1;
            }
        }
    }
    if let Some(name) = active_restored {
        let live_active = filters.list(target).await?.into_iter().find(|s| s.active).map(|s| s.name);
        match live_active {
            None => {
                filters.activate(target, Some(&name)).await?;
                println!("script Sieve « {name} » activé (il l'était dans la sauvegarde)");
            }
            Some(active) if active == name => {}
            Some(active) => println!(
                "script Sieve actif laissé tel quel : « {active} » (la sauvegarde avait « {name} », restauré inactif)"
            ),
        }
    }
    Ok(count)
}

fn describe(put: &filter::scripts::Put) -> String {
    match put {
        filter::scripts::Put::Stored => "enregistré".into(),
        filter::scripts::Put::Invalid(e) => format!("ligne {} : {}", e.line, e.message),
        filter::scripts::Put::TooBig => "trop long".into(),
        filter::scripts::Put::TooMany => "nombre maximal de scripts atteint".into(),
        filter::scripts::Put::Forbidden(why) => why.clone(),
    }
}

async fn collections(
    cfg: &config::Config,
    snap: &store::Store,
    source: AccountId,
    live: &Opened,
    target: AccountId,
) -> anyhow::Result<Count> {
    let gw = groupware::Groupware::new(live.store.clone(), crate::http::groupware_settings(cfg))?;
    let mut count = Count::default();
    let existing = gw.collections(target).await?;
    for c in snap.collections(source).await? {
        let live_c = match existing.iter().find(|l| l.kind == c.kind && l.segment == c.segment) {
            Some(l) => l.clone(),
            None => {
                let props = groupware::NewProps {
                    display_name: Some(c.display_name.clone()),
                    colour: (!c.colour.is_empty()).then(|| c.colour.clone()),
                    description: (!c.description.is_empty()).then(|| c.description.clone()),
                    components: c.components.split(',').filter(|s| !s.is_empty()).map(str::to_owned).collect(),
                };
                match gw.create_collection(target, c.kind, &c.segment, &props).await {
                    Ok(made) => made,
                    Err(e) => {
                        eprintln!("collection « {} » : {e}", c.segment);
                        count.failed += 1;
                        continue;
                    }
                }
            }
        };
        let names: Vec<String> = snap.collection_tags(c.id).await?.into_iter().map(|t| t.name).collect();
        for o in snap.collection_objects_named(c.id, &names).await? {
            match gw.put(&live_c, &o.name, &o.content, groupware::Precondition::Absent).await {
                Ok(_) => count.restored += 1,
                Err(groupware::Error::PreconditionFailed | groupware::Error::UidConflict(_)) => count.already += 1,
                Err(e) => {
                    eprintln!("« {} » / {} : {e}", c.segment, o.name);
                    count.failed += 1;
                }
            }
        }
    }
    Ok(count)
}
