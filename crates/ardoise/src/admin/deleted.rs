//! `ardoise admin message deleted`: the helpdesk lists an account's deleted
//! messages and puts them back (issue 20), and `ardoise admin housekeeping
//! run` runs the server's periodic housekeeping now.
//!
//! The helpdesk may restore but never read mail (`Action::RestoreMail`): the
//! list shows when a message was deleted, from which folder, its date, size
//! and sender address, never its subject or content. That is enough to find
//! « le message de l'inspection supprimé mardi » with the owner on the
//! phone, and the owner sees the subjects themself on the webmail's « Messages
//! supprimés récemment » page. A subject can carry what the helpdesk must
//! not see (a pupil's name, a health matter). Every list and restore is
//! written to the audit log.

use anyhow::bail;
use clap::Subcommand;
use identity::lifecycle::Action;

use super::{Ctx, find};

#[derive(Subcommand)]
pub enum DeletedCommand {
    /// Liste les messages supprimés encore restaurables (sans objet ni contenu)
    /// / list restorable deleted messages (no subject, no content).
    List {
        address: String,
        #[arg(long)]
        json: bool,
    },
    /// Restaure des messages supprimés (dans leur dossier d'origine, sinon la boîte de réception)
    /// / restore deleted messages (to their folder, else the Inbox).
    Restore {
        address: String,
        /// Identifiants donnés par `list` / ids shown by `list`.
        ids: Vec<i64>,
        /// Tous les messages supprimés depuis cette date, AAAA-MM-JJ (UTC) / all deleted since this day.
        #[arg(long, value_name = "AAAA-MM-JJ")]
        since: Option<String>,
    },
}

#[derive(Subcommand)]
pub enum HousekeepingCommand {
    /// Lance le ménage maintenant : purge des supprimés, Corbeille et Indésirables, archivage,
    /// alertes de quota / run housekeeping now.
    Run {
        /// Heure de référence (secondes Unix), pour les tests ; défaut : maintenant
        /// / reference time (unix seconds), for tests; default: now.
        #[arg(long)]
        at: Option<i64>,
    },
}

/// Rows read per page of the list.
const PAGE: i64 = 1_000;

pub(crate) async fn run(ctx: &Ctx<'_>, ms: &mailstore::Mailstore, command: DeletedCommand) -> anyhow::Result<()> {
    match command {
        DeletedCommand::List { address, json } => {
            let acc = find(ctx.store, &address).await?;
            ctx.check(Action::RestoreMail, acc.org_unit)?;
            let all = every_deleted(ms, acc.id).await?;
            ctx.audit("message.deleted.list", &address, &format!("{} message(s)", all.len())).await?;
            if json {
                let rows: Vec<serde_json::Value> = all
                    .iter()
                    .map(|d| {
                        serde_json::json!({
                            "id": d.id, "deleted_at": d.deleted_at, "cause": d.cause.as_str(),
                            "mailbox": d.mailbox_name, "internal_date": d.internal_date, "size": d.size,
                            "from": d.from_addr,
                        })
                    })
                    .collect();
                println!("{}", serde_json::Value::Array(rows));
            } else if all.is_empty() {
                println!("aucun message supprimé restaurable / no restorable deleted message");
            } else {
                println!(
                    "{:>8}  {:<16}  {:<16}  {:<20} {:>9}  expéditeur",
                    "id", "supprimé", "daté", "dossier", "octets"
                );
                for d in &all {
                    println!(
                        "{:>8}  {:<16}  {:<16}  {:<20} {:>9}  {}",
                        d.id,
                        minute(d.deleted_at),
                        minute(d.internal_date),
                        d.mailbox_name,
                        d.size,
                        d.from_addr
                    );
                }
            }
        }
        DeletedCommand::Restore { address, ids, since } => {
            let acc = find(ctx.store, &address).await?;
            ctx.check(Action::RestoreMail, acc.org_unit)?;
            let mut ids = ids;
            if let Some(day) = since.as_deref() {
                let from = identity::lifecycle::format::unix_day(day)
                    .ok_or_else(|| anyhow::anyhow!("date invalide {day:?} : attendu AAAA-MM-JJ"))?;
                ids.extend(every_deleted(ms, acc.id).await?.iter().filter(|d| d.deleted_at >= from).map(|d| d.id));
            }
            if ids.is_empty() {
                bail!("rien à restaurer : donnez des identifiants (voir `list`) ou --since / nothing to restore");
            }
            let back = ms.restore_deleted(acc.id, &ids).await?;
            let detail = format!("{} message(s) restauré(s) sur {} demandé(s)", back.len(), ids.len());
            ctx.audit("message.deleted.restore", &address, &detail).await?;
            println!("{detail}");
            if back.len() < ids.len() {
                println!("(les autres ne sont plus restaurables ou ne sont pas à ce compte / the others are gone)");
            }
        }
    }
    Ok(())
}

pub(crate) async fn housekeeping(
    ctx: &Ctx<'_>,
    cfg: &config::Config,
    ms: &mailstore::Mailstore,
    command: HousekeepingCommand,
) -> anyhow::Result<()> {
    let HousekeepingCommand::Run { at } = command;
    ctx.check(Action::Govern, None)?;
    let now = at.unwrap_or_else(|| time::OffsetDateTime::now_utc().unix_timestamp());
    let report = ms.housekeeping(&crate::serve::housekeeping_settings(cfg), now).await;
    println!(
        "purgés {} · corbeille {} · indésirables {} · archivés {} · alertes de quota {}",
        report.purged, report.trash_expired, report.junk_expired, report.archived, report.quota_warnings
    );
    let mut failed = report.failed;
    if let Some(bayes) = crate::learning::classifier(&cfg.hygiene, ctx.store) {
        match crate::learning::prune(&cfg.hygiene, &bayes, now).await {
            Ok(n) => println!("classifieur anti-spam : {n} mots rares oubliés / rare tokens forgotten"),
            Err(e) => {
                tracing::warn!(error = %e, "spam classifier pruning failed");
                failed.push("bayes");
            }
        }
    }
    if !failed.is_empty() {
        bail!("étapes en échec / failed steps: {}", failed.join(", "));
    }
    Ok(())
}

async fn every_deleted(ms: &mailstore::Mailstore, account: i64) -> anyhow::Result<Vec<mailstore::DeletedMessage>> {
    let mut all = Vec::new();
    let mut before = None;
    loop {
        let page = ms.deleted_messages(account, before, PAGE).await?;
        let done = (page.len() as i64) < PAGE;
        before = page.last().map(|d| d.id);
        all.extend(page);
        if done {
            return Ok(all);
        }
    }
}

/// `AAAA-MM-JJ HH:MM` (UTC).
fn minute(unix: i64) -> String {
    match time::OffsetDateTime::from_unix_timestamp(unix) {
        Ok(t) => format!("{:04}-{:02}-{:02} {:02}:{:02}", t.year(), u8::from(t.month()), t.day(), t.hour(), t.minute()),
        Err(_) => unix.to_string(),
    }
}
