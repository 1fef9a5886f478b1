//! Passwords in `ardoise admin` and in the server: the helpdesk reset
//! (`account reset-password`), the expiry reminders (`password-reminders`,
//! and the daily task every server runs), and the settings of the identity
//! service from the configuration (password policy and maximum age,
//! credential cache, the TOTP key).

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use identity::credentials::{PasswordPolicy, TotpKey};
use identity::lifecycle::Action;
use identity::{Identity, Settings};
use tokio::sync::watch;
use tokio::task::JoinSet;

use super::Ctx;

/// The settings of the identity service: the password policy and maximum
/// age and the credential cache of `[web]`, and the key of the TOTP seeds
/// (`<data_dir>/totp.key`, created on first use). Every protocol's logins
/// follow them, whether or not the web is served.
pub(crate) fn identity_settings(cfg: &config::Config) -> anyhow::Result<Settings> {
    let w = &cfg.web;
    Ok(Settings {
        policy: PasswordPolicy {
            min_length: w.password_min_length as usize,
            min_classes: w.password_min_classes as usize,
            min_score: w.password_min_strength as u8,
            history: w.password_history as usize,
            max_age_days: max_age(cfg),
        },
        cache_ttl: Duration::from_secs(w.credential_cache_secs),
        totp_key: TotpKey::load_or_create(&cfg.server.data_dir).context("clé des secrets TOTP (totp.key)")?,
        openid_configuration: Some(format!("{}/.well-known/openid-configuration", web_url(cfg))),
        ..Settings::default()
    })
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
    identity: Arc<Identity>,
    tasks: &mut JoinSet<()>,
    shutdown: &watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let n = identity.encrypt_clear_seeds().await?;
    if n > 0 {
        tracing::info!(seeds = n, "TOTP seeds encrypted at rest");
    }
    if max_age(cfg).is_some() {
        tasks.spawn(reminders_daily(identity, thresholds(cfg), web_url(cfg), shutdown.clone()));
    }
    Ok(())
}

async fn reminders_daily(
    identity: Arc<Identity>,
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
        match identity.send_reminders(&thresholds, &web_url, now).await {
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
    identity: &Identity,
    at: Option<i64>,
) -> anyhow::Result<()> {
    ctx.check(Action::Govern, None)?;
    if max_age(cfg).is_none() {
        println!("aucune durée de validité des mots de passe ([web] password_max_age_days = 0) : rien à envoyer");
        println!("(no password lifetime configured: nothing to send)");
        return Ok(());
    };
    let now = at.unwrap_or_else(|| time::OffsetDateTime::now_utc().unix_timestamp());
    let r = identity.send_reminders(&thresholds(cfg), &web_url(cfg), now).await?;
    println!(
        "{} compte(s) examiné(s), {} rappel(s), {} avis d'expiration / {} account(s), {} reminder(s), {} expiry notice(s)",
        r.candidates, r.reminders, r.expired, r.candidates, r.reminders, r.expired
    );
    Ok(())
}

/// `ardoise admin account reset-password ADDRESS`: a new provisional
/// password, printed once; the audit log records the reset, never the
/// password.
pub(crate) async fn reset(ctx: &Ctx<'_>, identity: &Identity, address: &str) -> anyhow::Result<()> {
    let a = ctx.find(address).await?;
    let password = identity.admin_reset_password(&ctx.admin, a.id).await?;
    println!("mot de passe provisoire de {} : {password}", a.address);
    println!(
        "À communiquer à l'utilisateur, qui devra le changer à sa prochaine connexion sur la messagerie web.\n\
         (Give it to the user: they must change it at their next webmail login. It is shown only once.)"
    );
    Ok(())
}
