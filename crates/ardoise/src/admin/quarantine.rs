//! `ardoise admin quarantine`: the messages the MX refused (a virus, a
//! score over `[hygiene] reject_threshold`) and kept `quarantine_days` days
//! (issue 20). Reading one is reading mail: only the académie's governance
//! (operators, académie administrators) may, and every look, release and
//! deletion goes to the audit log.

use std::io::Write;

use anyhow::bail;
use clap::Subcommand;
use identity::lifecycle::Action;

use super::Ctx;

#[derive(Subcommand)]
pub enum QuarantineCommand {
    /// Les messages en quarantaine, du plus récent au plus ancien / quarantined messages, newest first.
    List {
        #[arg(long, default_value_t = 100)]
        limit: i64,
        #[arg(long)]
        json: bool,
    },
    /// Écrit le message brut sur la sortie standard / writes the raw message to standard output.
    Show { id: i64 },
    /// Remet le message dans la boîte de réception de ses destinataires / delivers it to its recipients' Inbox.
    Release { id: i64 },
    /// Supprime le message / deletes it.
    Delete { id: i64 },
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

pub async fn run(
    ctx: &Ctx<'_>,
    quarantine: &hygiene::quarantine::Quarantine,
    command: QuarantineCommand,
) -> anyhow::Result<()> {
    ctx.check(Action::Govern, None)?;
    match command {
        QuarantineCommand::List { limit, json } => {
            let rows = quarantine.list(limit.clamp(1, 10_000)).await?;
            if json {
                let out: Vec<serde_json::Value> = rows
                    .iter()
                    .map(|q| {
                        serde_json::json!({
                            "id": q.id, "reason": q.reason, "detail": q.detail, "from": q.mail_from,
                            "recipients": q.recipients.iter().map(|(_, a)| a.clone()).collect::<Vec<_>>(),
                            "subject": q.subject, "size": q.size, "received_at": q.received_at,
                            "expires_at": q.expires_at,
                        })
                    })
                    .collect();
                println!("{}", serde_json::Value::Array(out));
            } else if rows.is_empty() {
                println!("quarantaine vide / quarantine empty");
            } else {
                for q in &rows {
                    let to: Vec<&str> = q.recipients.iter().map(|(_, a)| a.as_str()).collect();
                    println!(
                        "{}\t{}\t{}\t<{}> -> {}\t{}",
                        q.id,
                        q.reason,
                        q.detail,
                        q.mail_from,
                        to.join(", "),
                        q.subject
                    );
                }
            }
            ctx.audit("quarantine.list", "", &format!("{} message(s)", rows.len())).await?;
        }
        QuarantineCommand::Show { id } => {
            let Some((q, bytes)) = quarantine.get(id).await? else {
                bail!("aucun message {id} en quarantaine / no quarantined message {id}");
            };
            ctx.audit("quarantine.show", &id.to_string(), &q.reason).await?;
            std::io::stdout().write_all(&bytes)?;
        }
        QuarantineCommand::Release { id } => {
            let Some(q) = quarantine.release(id, now()).await? else {
                bail!("aucun message {id} en quarantaine / no quarantined message {id}");
            };
            let to: Vec<&str> = q.recipients.iter().map(|(_, a)| a.as_str()).collect();
            ctx.audit("quarantine.release", &id.to_string(), &to.join(",")).await?;
            println!("message {id} remis à / released to {}", to.join(", "));
        }
        QuarantineCommand::Delete { id } => {
            if !quarantine.delete(id).await? {
                bail!("aucun message {id} en quarantaine / no quarantined message {id}");
            }
            ctx.audit("quarantine.delete", &id.to_string(), "").await?;
            println!("message {id} supprimé / deleted");
        }
    }
    Ok(())
}
