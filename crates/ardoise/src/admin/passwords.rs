//! Passwords in `ardoise admin` and in the server: the helpdesk reset
//! (`account reset-password`), the expiry reminders (`password-reminders`,
//! and the daily task every server runs), and the identity settings the
//! server applies at start (credential cache, maximum age, the TOTP key).

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use identity::credentials::{self, TotpKey, cache, expiry};
use identity::lifecycle::Action;
use mailstore::Mailstore;
use tokio::sync::watch;
use tokio::task::JoinSet;

use super::{Ctx, find};

/// Applies the identity settings of the configuration to this process
/// (every login reads them) and returns the key of the TOTP seeds
/// (`<data_dir>/totp.key`, created on first use).
pub(crate) fn configure(cfg: &config::Config) -> anyhow::Result<TotpKey> {
    cache::set_ttl(Duration::from_secs(cfg.web.credential_cache_secs));
    expiry::set_max_age_days(max_age(cfg));
    TotpKey::load_or_create(&cfg.server.data_dir).context("clé des secrets TOTP (totp.key)")
}

fn max_age(cfg: &config::Config) -> Option<u32> {
    u32::try_from(cfg.web.password_max_age_days).ok().filter(|d| *d > 0)
}

fn thresholds(cfg: &config::Config) -> Vec<u32> {
    cfg.web.password_reminder_days.iter().filter_map(|d| u32::try_from(*d).ok()).collect()
}

/// Where users reach the web, for links in mails.
fn web_url(cfg: &config::Config) -> String {
    if cfg.web.public_url.is_empty() {
        format!("https://{}", cfg.server.hostname)
    } else {
        cfg.web.public_url.trim_end_matches('/').to_owned()
    }
}

/// At server start: encrypts the TOTP seeds earlier versions kept clear,
/// then spawns the daily expiry reminders.
pub(crate) async fn start(
    cfg: &config::Config,
    mailstore: Arc<Mailstore>,
    key: &TotpKey,
    tasks: &mut JoinSet<()>,
    shutdown: &watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let n = credentials::at_rest::encrypt_clear_seeds(mailstore.store(), key).await?;
    if n > 0 {
        tracing::info!(seeds = n, "TOTP seeds encrypted at rest");
    }
    if let Some(days) = max_age(cfg) {
        tasks.spawn(reminders_daily(mailstore, days, thresholds(cfg), web_url(cfg), shutdown.clone()));
    }
    Ok(())
}

async fn reminders_daily(
    mailstore: Arc<Mailstore>,
    max_age_days: u32,
    thresholds: Vec<u32>,
    web_url: String,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut every_day = tokio::time::interval(Duration::from_secs(24 * 3600));
    loop {
        tokio::select! {
            _ = every_day.tick() => {}
            _ = shutdown.wait_for(|s| *s) => return,
        }
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        match credentials::send_reminders(&mailstore, max_age_days, &thresholds, &web_url, now).await {
            Ok(r) if r.reminders + r.expired > 0 => {
                tracing::info!(reminders = r.reminders, expired = r.expired, "password expiry reminders sent")
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "password expiry reminders failed"),
        }
    }
}

/// `ardoise admin password-reminders`: one run of the daily task, now (or
/// at `--at`, a Unix time, for tests).
pub(crate) async fn reminders(
    cfg: &config::Config,
    ctx: &Ctx<'_>,
    ms: &Mailstore,
    at: Option<i64>,
) -> anyhow::Result<()> {
    ctx.check(Action::Govern, None)?;
    let Some(days) = max_age(cfg) else {
        println!("aucune durée de validité des mots de passe ([web] password_max_age_days = 0) : rien à envoyer");
        println!("(no password lifetime configured: nothing to send)");
        return Ok(());
    };
    let now = at.unwrap_or_else(|| time::OffsetDateTime::now_utc().unix_timestamp());
    let r = credentials::send_reminders(ms, days, &thresholds(cfg), &web_url(cfg), now).await?;
    println!(
        "{} compte(s) examiné(s), {} rappel(s), {} avis d'expiration / {} account(s), {} reminder(s), {} expiry notice(s)",
        r.candidates, r.reminders, r.expired, r.candidates, r.reminders, r.expired
    );
    Ok(())
}

/// `ardoise admin account reset-password ADDRESS`: a new provisional
/// password, printed once; the audit log records the reset, never the
/// password.
pub(crate) async fn reset(ctx: &Ctx<'_>, ms: &Mailstore, address: &str) -> anyhow::Result<()> {
    let a = find(ctx.store, address).await?;
    ctx.check(Action::ResetCredentials, a.org_unit)?;
    if a.role == model::Role::Student {
        anyhow::bail!("refusé : {address} est un compte élève, sans accès à la messagerie / student account");
    }
    let password = match credentials::helpdesk_reset(ms, &a).await {
        Ok(p) => p,
        Err(credentials::Error::Store(store::Error::NotFound(_))) => {
            anyhow::bail!("refusé : le compte {address} est {} / account is {}", a.status, a.status)
        }
        Err(e) => return Err(e.into()),
    };
    ctx.audit("account.reset-password", &a.address.to_string(), "mot de passe provisoire").await?;
    println!("mot de passe provisoire de {} : {password}", a.address);
    println!(
        "À communiquer à l'utilisateur, qui devra le changer à sa prochaine connexion sur la messagerie web.\n\
         (Give it to the user: they must change it at their next webmail login. It is shown only once.)"
    );
    Ok(())
}
