//! Governance commands of `ardoise admin`: organisational units, role
//! grants and the audit log.

use std::process::ExitCode;

use anyhow::Context;
use clap::Subcommand;
use identity::lifecycle::{Action, AdminRole, audit};

use super::{Ctx, find};

#[derive(Subcommand)]
pub enum GrantCommand {
    /// Donne un rôle (admin-national, admin-academie, admin-dsden, referent, assistance, auditeur) sur une unité
    /// (UAI, numéro ou nom exact) et tout ce qu'elle contient.
    Add {
        address: String,
        role: AdminRole,
        #[arg(long)]
        unit: String,
    },
    Remove {
        address: String,
        role: AdminRole,
        #[arg(long)]
        unit: String,
    },
    List {
        address: String,
    },
}

#[derive(Subcommand)]
pub enum UnitCommand {
    /// Ajoute une unité (academie, dsden, etablissement, service) sous --parent (UAI, numéro ou nom).
    Add {
        name: String,
        #[arg(long)]
        kind: String,
        #[arg(long)]
        parent: Option<String>,
        #[arg(long)]
        uai: Option<String>,
    },
    List,
}

#[derive(Subcommand)]
pub enum AuditCommand {
    /// Affiche le journal / print the log.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Vérifie la chaîne : toute ligne modifiée ou supprimée est signalée / verify the chain.
    Verify,
}

pub(crate) async fn unit(ctx: &Ctx<'_>, command: UnitCommand) -> anyhow::Result<()> {
    let store = ctx.store;
    match command {
        UnitCommand::Add { name, kind, parent, uai } => {
            let kind = model::OrgUnitKind::parse(&kind).with_context(|| {
                format!("type d'unité inconnu « {kind} » (academie, dsden, etablissement, service)")
            })?;
            let parent = match parent {
                Some(p) => Some(find_unit(store, &p).await?),
                None => None,
            };
            ctx.check(Action::Govern, parent)?;
            let uai = uai.map(|u| model::Uai::parse(&u)).transpose()?;
            let id = store.create_org_unit(&store::NewOrgUnit { parent, kind, name: name.clone(), uai }).await?;
            ctx.audit("unit.add", &name, &format!("unité {id}")).await?;
            println!("unité {id} : {name}");
        }
        UnitCommand::List => {
            for u in store.list_org_units().await? {
                let uai = u.uai.as_ref().map_or("", |u| u.as_str());
                let parent = u.parent.map(|p| p.to_string()).unwrap_or_default();
                println!("{:>4} {parent:<6} {:<14} {uai:<9} {}", u.id, u.kind.as_str(), u.name);
            }
        }
    }
    Ok(())
}

pub(crate) async fn audit(ctx: &Ctx<'_>, command: AuditCommand) -> anyhow::Result<ExitCode> {
    ctx.check(Action::ReadAudit, None)?;
    let rows = ctx.store.audit_log().await?;
    match command {
        AuditCommand::List { json } => {
            for r in &rows {
                if json {
                    println!(
                        "{}",
                        serde_json::json!({"id": r.id, "at": r.at, "actor": r.actor, "scope": r.scope,
                            "action": r.action, "target": r.target, "detail": r.detail, "hash": r.hash})
                    );
                } else {
                    println!("{:>6} {} {:<28} {:<20} {} {}", r.id, r.at, r.actor, r.action, r.target, r.detail);
                }
            }
        }
        AuditCommand::Verify => {
            let broken = audit::verify(&rows);
            for b in &broken {
                println!("ligne {} : {} / audit row {} does not verify", b.id, b.reason, b.id);
            }
            if !broken.is_empty() {
                println!("journal d'audit ALTÉRÉ : {} ligne(s) / audit log TAMPERED", broken.len());
                return Ok(ExitCode::from(3));
            }
            println!("journal d'audit intègre : {} ligne(s) / audit log verified", rows.len());
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) async fn grant(ctx: &Ctx<'_>, command: GrantCommand) -> anyhow::Result<()> {
    match command {
        GrantCommand::Add { address, role, unit } => {
            let acc = find(ctx.store, &address).await?;
            let unit_id = find_unit(ctx.store, &unit).await?;
            ctx.check(Action::Govern, Some(unit_id))?;
            ctx.store.grant_role(acc.id, role.as_str(), unit_id).await?;
            ctx.audit("grant.add", &address, &format!("{role} sur l'unité {unit_id}")).await?;
            println!("{address} : rôle {role} sur l'unité {unit_id}");
        }
        GrantCommand::Remove { address, role, unit } => {
            let acc = find(ctx.store, &address).await?;
            let unit_id = find_unit(ctx.store, &unit).await?;
            ctx.check(Action::Govern, Some(unit_id))?;
            if ctx.store.revoke_role(acc.id, role.as_str(), unit_id).await? {
                ctx.audit("grant.remove", &address, &format!("{role} sur l'unité {unit_id}")).await?;
            }
            println!("{address} : rôle {role} retiré de l'unité {unit_id}");
        }
        GrantCommand::List { address } => {
            let acc = find(ctx.store, &address).await?;
            for g in ctx.store.role_grants(acc.id).await? {
                println!("{} {}", g.role, g.org_unit);
            }
        }
    }
    Ok(())
}

/// An organisational unit by UAI, id or exact name.
async fn find_unit(store: &store::Store, text: &str) -> anyhow::Result<model::OrgUnitId> {
    let units = store.list_org_units().await?;
    units
        .iter()
        .find(|u| {
            u.uai.as_ref().is_some_and(|uai| uai.as_str().eq_ignore_ascii_case(text))
                || u.id.to_string() == text
                || u.name == text
        })
        .map(|u| u.id)
        .with_context(|| format!("unité inconnue : {text}"))
}
