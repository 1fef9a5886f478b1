//! Wiring of the web service: its settings from the configuration, its
//! listeners (`http` plain, `https` with rustls), the webmail's sending
//! through the submission pipeline ([`MtaOutbox`]), and the daily purge of
//! the connection journal (kept 90 days). Logins and credentials go through
//! the identity service the binary built once ([`Wiring::identity`]).
//! CalDAV/CardDAV ([`dav_router`]) are served on the same listeners, their
//! routes merged with the web's but outside its layers.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use identity::Identity;
use mailstore::Mailstore;
use tokio::sync::watch;
use tokio::task::JoinSet;

/// Where users reach the web (`[web] public_url`, else `https://<hostname>`),
/// without a final slash: the base of every absolute link the platform writes.
pub fn public_url(cfg: &config::Config) -> String {
    match cfg.web.public_url.trim_end_matches('/') {
        "" => format!("https://{}", cfg.server.hostname),
        url => url.to_owned(),
    }
}

/// The base of the `List-Archive` field of lists that archive: the web's
/// public address, or `None` when no web listener is configured (nobody
/// could read the archive there).
pub fn list_archive_base(cfg: &config::Config) -> Option<String> {
    (!cfg.web.listen.is_empty() || !cfg.web.listen_tls.is_empty()).then(|| public_url(cfg))
}

/// The web settings of a configuration (the key lives in the data folder).
pub fn web_config(cfg: &config::Config) -> anyhow::Result<web::WebConfig> {
    let key_path = cfg.server.data_dir.join("web.key");
    let secret = web::load_or_create_secret(&key_path).with_context(|| format!("clé web {}", key_path.display()))?;
    let w = &cfg.web;
    let mut out = web::WebConfig::new(cfg.server.hostname.clone(), secret);
    let numen_key = identity::lifecycle::NumenKey::load_or_create(&cfg.server.data_dir).context("clé des NUMEN")?;
    out.numen_key = Some(numen_key);
    out.public_url = public_url(cfg);
    out.require_2fa_for_admins = w.require_2fa_for_admins;
    out.require_2fa_for_all = w.require_2fa_for_all;
    out.session_ttl = Duration::from_secs(w.session_ttl_secs);
    out.session_max_age = Duration::from_secs(w.session_max_age_secs);
    out.undo_send = Duration::from_secs(w.undo_send_delay_secs);
    out.undelete_days = cfg.mail.undelete_days;
    out.archive_days = cfg.mail.archive_days;
    out.security_address = Some(cfg.hygiene.security_address.as_str())
        .filter(|a| !a.is_empty())
        .map(model::Address::parse)
        .transpose()
        .map_err(|e| anyhow::anyhow!("[hygiene] security_address : {e}"))?;
    out.upstream_only = cfg.upstream.only;
    out.console = web::ConsoleSettings {
        default_quota: cfg.quota.default_bytes.map(|b| b as i64),
        max_message_bytes: cfg.smtp.max_message_size,
        junk_threshold: cfg.hygiene.junk_threshold,
        reject_threshold: cfg.hygiene.reject_threshold,
        share_default_secs: cfg.sharing.default_expiry_secs,
        share_max_secs: cfg.sharing.max_expiry_secs,
        forwarding: match cfg.forwarding.policy {
            config::ForwardingPolicy::Internal => "internal",
            config::ForwardingPolicy::Domains => "domains",
            config::ForwardingPolicy::Anywhere => "anywhere",
        }
        .to_owned(),
        forwarding_domains: cfg.forwarding.domains.iter().map(ToString::to_string).collect(),
        ..web::ConsoleSettings::default()
    };
    out.limits = connection_limits(w, crate::serve::descriptor_limit());
    out.clock = web::Clock::new(&w.time_zone).map_err(|e| anyhow::anyhow!("[web] time_zone : {e}"))?;
    out.proxies =
        web::TrustedProxies::parse(&w.trusted_proxies).map_err(|e| anyhow::anyhow!("[web] trusted_proxies : {e}"))?;
    Ok(out)
}

/// The configured connection caps, lowered to fit the descriptor limit: a
/// web listener takes at most a quarter of the descriptors, and one address
/// at most half of a listener's share, so held connections can never starve
/// the other services (or the other clients) of descriptors.
fn connection_limits(w: &config::Web, nofile: u64) -> web::Limits {
    let share = usize::try_from(nofile / 4).unwrap_or(usize::MAX).max(16);
    let max_connections = usize::try_from(w.max_connections).unwrap_or(usize::MAX).min(share);
    let per_ip = usize::try_from(w.max_connections_per_ip).unwrap_or(usize::MAX).min((max_connections / 2).max(1));
    web::Limits { max_connections, max_connections_per_ip: per_ip, ..web::Limits::default() }
}

/// The webmail's sending: the same submission as SMTP (sender checks,
/// hourly limits, DKIM, local delivery and queue). Refusals become the
/// webmail's here and nowhere else.
pub struct MtaOutbox(pub Arc<mta::Mta>, pub Arc<lists::Lists>);

impl web::Outbox for MtaOutbox {
    fn send<'a>(
        &'a self,
        account: &'a store::Account,
        recipients: &'a [model::Address],
        message: Vec<u8>,
    ) -> web::SendFuture<'a> {
        Box::pin(async move {
            use mta::SubmitError;
            use web::SendRefusal;
            let submission = mta::Submission { account, mail_from: Some(&account.address), recipients, message };
            crate::outbound::submit_with_lists(&self.0, &self.1, submission).await.map_err(|e| match e {
                SubmitError::ForgedSender(who) => SendRefusal::ForgedSender(who),
                SubmitError::LimitExceeded(mta::limits::Exceeded::Messages(n)) => {
                    SendRefusal::RateLimited(format!("{n} messages / h"))
                }
                SubmitError::LimitExceeded(mta::limits::Exceeded::Recipients(n)) => {
                    SendRefusal::RateLimited(format!("{n} destinataires / h"))
                }
                SubmitError::Failed(model::Transience::Temporary, _) => SendRefusal::Temporary,
                SubmitError::Failed(model::Transience::Permanent, why) => match why.strip_prefix("no such user: ") {
                    Some(who) => SendRefusal::UnknownRecipient(who.to_owned()),
                    None => SendRefusal::Permanent(why),
                },
            })
        })
    }
}

/// Scheduling's mails (invitations, cancellations, replies: iMIP) leave
/// as the account's own, through the same submission as the webmail's
/// (sender checks, hourly limits, DKIM, local delivery and queue).
pub struct MtaPostman(pub Arc<mta::Mta>, pub store::Store);

impl groupware::scheduling::Postman for MtaPostman {
    fn send<'a>(
        &'a self,
        from: &'a groupware::scheduling::Principal,
        recipients: &'a [model::Address],
        message: Vec<u8>,
    ) -> groupware::scheduling::PostFuture<'a> {
        Box::pin(async move {
            let account = self.1.account(from.id).await.map_err(|e| e.to_string())?.ok_or("compte inconnu")?;
            let submission =
                mta::Submission { account: &account, mail_from: Some(&account.address), recipients, message };
            self.0.submit(submission).await.map_err(|e| e.to_string())
        })
    }
}

/// What the web is wired to: the mail domain, the identity service, the
/// MTA (for the webmail's sending), and the store the groupware service
/// (DAV) is given its handle of.
pub struct Wiring {
    pub mailstore: Arc<Mailstore>,
    pub identity: Arc<Identity>,
    pub mta: Arc<mta::Mta>,
    pub lists: Arc<lists::Lists>,
    pub store: store::Store,
    /// The ACME keeper's HTTP-01 answers, when `[acme]` is on.
    pub challenges: Option<Arc<acme::Challenges>>,
    /// Its TLS-ALPN-01 answers, when that method is allowed: presented by
    /// the HTTPS listeners.
    pub alpn: Option<Arc<net::AlpnChallenges>>,
    /// The MX's quarantine (the console's « Quarantaine »).
    pub quarantine: Arc<hygiene::quarantine::Quarantine>,
}

/// The groupware settings of a configuration: the web's time zone reads
/// floating times and all-day events; `[web] dav_max_object_size` caps a PUT.
pub(crate) fn groupware_settings(cfg: &config::Config) -> groupware::Settings {
    groupware::Settings {
        time_zone: cfg.web.time_zone.clone(),
        max_object_bytes: usize::try_from(cfg.web.dav_max_object_size).unwrap_or(usize::MAX),
        ..groupware::Settings::default()
    }
}

/// Where and how the webmail's exports are built (`[export]`).
fn export_settings(cfg: &config::Config) -> export::ExportSettings {
    export::ExportSettings {
        dir: cfg.server.data_dir.join("exports"),
        max_bytes: cfg.export.max_bytes,
        keep: Duration::from_secs(cfg.export.keep_secs),
        parallel: 2,
    }
}

/// The DAV routes, each request told its client's address (behind the
/// trusted proxies, as the web reads it) for the login's slow-down and journal.
pub fn dav_router(dav: Arc<dav::Dav>, proxies: web::TrustedProxies, tls: bool) -> axum::Router {
    dav::router(dav).layer(axum::middleware::map_request_with_state((proxies, tls), client_address))
}

async fn client_address(
    axum::extract::State((proxies, tls)): axum::extract::State<(web::TrustedProxies, bool)>,
    mut req: axum::extract::Request,
) -> axum::extract::Request {
    let peer = req.extensions().get::<axum::extract::ConnectInfo<web::Peer>>().map(|c| c.0.0.ip());
    if let Some(peer) = peer {
        let origin = proxies.origin(peer, tls, req.headers());
        req.extensions_mut().insert(dav::ClientAddr(origin.ip));
    }
    req
}

/// Binds the web listeners and spawns them with the journal purge.
pub async fn start(
    cfg: &config::Config,
    wiring: Wiring,
    acceptor: tokio_rustls::TlsAcceptor,
    bound: &mut Vec<(String, SocketAddr)>,
    tasks: &mut JoinSet<()>,
    shutdown: &watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let Wiring { mailstore, identity, mta, lists, store, challenges, alpn, quarantine } = wiring;
    // The HTTPS listeners answer TLS-ALPN-01 as well; every other port keeps the shared configuration.
    let web_acceptor = match alpn {
        Some(alpn) => tokio_rustls::TlsAcceptor::from(net::with_tls_alpn(acceptor.config(), alpn)),
        None => acceptor,
    };
    let acme = |router: axum::Router| match &challenges {
        Some(c) => router.merge(crate::certificates::challenge_router(c.clone())),
        None => router,
    };
    let mut web_cfg = web_config(cfg)?;
    let sso = Arc::new(
        sso::Sso::open(store.clone(), &cfg.server.data_dir, &web_cfg.public_url)
            .context("fournisseur d'identité (clés dans <data_dir>/oidc)")?,
    );
    let groupware = groupware::Groupware::new(store.clone(), groupware_settings(cfg))
        .map_err(|e| anyhow::anyhow!("[web] time_zone : {e}"))?;
    groupware.set_postman(Arc::new(MtaPostman(mta.clone(), store.clone())));
    let groupware = Arc::new(groupware);
    let dav = Arc::new(dav::Dav::new(groupware.clone(), identity.clone()));
    let exports = export::Exports::new(
        export::Sources { mailstore: mailstore.clone(), groupware: groupware.clone(), identity: identity.clone() },
        store.clone(),
        export_settings(cfg),
    )
    .context("exports (dossier <data_dir>/exports)")?;
    tasks.spawn(exports.clone().sweep_until(shutdown.clone()));
    let sharing = Arc::new(
        sharing::Sharing::open(store.clone(), cfg.server.data_dir.join("partage"), sharing_settings(cfg)?)
            .context("partage de fichiers (dossier <data_dir>/partage)")?,
    );
    tasks.spawn(sharing_housekeeping_periodically(
        sharing.clone(),
        Duration::from_secs(cfg.mail.housekeeping_interval_secs),
        shutdown.clone(),
    ));
    // Mail clients are told the ports actually bound (IMAP and submission start first).
    let mail_host = if cfg.web.mail_host.is_empty() { &cfg.server.hostname } else { &cfg.web.mail_host };
    web_cfg.mail_setup = web::MailSetup::new(mail_host, bound);
    let filters = mta.filters().cloned();
    let outbox: Arc<dyn web::Outbox> = Arc::new(MtaOutbox(mta, lists.clone()));
    for addr in &cfg.web.listen {
        let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| format!("écoute HTTP sur {addr}"))?;
        bound.push(("http".to_owned(), listener.local_addr()?));
        let app = Arc::new(web::App {
            ms: mailstore.clone(),
            identity: identity.clone(),
            cfg: web_cfg.clone(),
            outbox: Some(outbox.clone()),
            sso: Some(sso.clone()),
            filters: filters.clone(),
            exports: Some(exports.clone()),
            sharing: Some(sharing.clone()),
            groupware: Some(groupware.clone()),
            quarantine: Some(quarantine.clone()),
            lists: Some(lists.clone()),
        });
        let extra = acme(dav_router(dav.clone(), web_cfg.proxies.clone(), false));
        tasks.spawn(web::serve_with(listener, app, extra, shutdown.clone()));
    }
    for addr in &cfg.web.listen_tls {
        let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| format!("écoute HTTPS sur {addr}"))?;
        bound.push(("https".to_owned(), listener.local_addr()?));
        let app = Arc::new(web::App {
            ms: mailstore.clone(),
            identity: identity.clone(),
            cfg: web::WebConfig { tls: true, ..web_cfg.clone() },
            outbox: Some(outbox.clone()),
            sso: Some(sso.clone()),
            filters: filters.clone(),
            exports: Some(exports.clone()),
            sharing: Some(sharing.clone()),
            groupware: Some(groupware.clone()),
            quarantine: Some(quarantine.clone()),
            lists: Some(lists.clone()),
        });
        let extra = acme(dav_router(dav.clone(), web_cfg.proxies.clone(), true));
        tasks.spawn(web::serve_tls_with(listener, web_acceptor.clone(), app, extra, shutdown.clone()));
    }
    // One sender of the delayed webmail messages per process: it sends at
    // start what came due while the server was down.
    let sender_app = Arc::new(web::App {
        ms: mailstore.clone(),
        identity: identity.clone(),
        cfg: web_cfg.clone(),
        outbox: Some(outbox.clone()),
        sso: Some(sso.clone()),
        filters,
        exports: None,
        sharing: None,
        groupware: None,
        quarantine: None,
        lists: None,
    });
    tasks.spawn(web::send_delayed(sender_app, shutdown.clone()));
    crate::admin::passwords::start(cfg, identity.clone(), tasks, shutdown).await?;
    tasks.spawn(purge_journal_daily(identity, shutdown.clone()));
    tasks.spawn(purge_sso_hourly(sso, shutdown.clone()));
    Ok(())
}

/// `[sharing]` as the sharing domain's settings (an owner's expiry never
/// exceeds the maximum, whatever the file says), with `[hygiene] clamd`
/// when it is configured: the MX's clamd client, configured alike (address,
/// timeout, `clamd_max_size`), with connections of its own so that a long
/// file scan never holds one the MX is waiting for.
pub fn sharing_settings(cfg: &config::Config) -> anyhow::Result<sharing::Settings> {
    let max_expiry = Duration::from_secs(cfg.sharing.max_expiry_secs);
    Ok(sharing::Settings {
        max_file_size: cfg.sharing.max_file_size,
        quota: cfg.sharing.quota,
        default_expiry: Duration::from_secs(cfg.sharing.default_expiry_secs).min(max_expiry),
        max_expiry,
        antivirus: crate::screen::settings(&cfg.hygiene)?.clamd,
    })
}

/// Deletes expired and revoked shares and abandoned uploads, a minute after
/// start and then at the mail housekeeping's interval (`[mail]
/// housekeeping_interval`), like `serve::housekeeping_periodically`.
async fn sharing_housekeeping_periodically(
    sharing: Arc<sharing::Sharing>,
    every: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut wait = Duration::from_secs(60).min(every);
    loop {
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = shutdown.changed() => return,
        }
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        if let Err(e) = sharing.housekeeping(now).await {
            tracing::warn!(error = %e, "sharing housekeeping failed");
        }
        wait = every;
    }
}

async fn purge_journal_daily(identity: Arc<Identity>, mut shutdown: watch::Receiver<bool>) {
    loop {
        match identity.purge_journal().await {
            Ok(n) if n > 0 => tracing::info!(deleted = n, "connection journal purged"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "connection journal purge failed"),
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(24 * 3600)) => {}
            _ = shutdown.wait_for(|s| *s) => return,
        }
    }
}

/// Deletes the provider's expired codes, tokens and tickets every hour.
async fn purge_sso_hourly(sso: Arc<sso::Sso>, mut shutdown: watch::Receiver<bool>) {
    loop {
        if let Err(e) = sso.purge().await {
            tracing::warn!(error = %e, "single sign-on purge failed");
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(3600)) => {}
            _ = shutdown.wait_for(|s| *s) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn connection_caps_fit_the_descriptor_limit() {
        let w = config::Config::default().web;
        let roomy = super::connection_limits(&w, 1 << 20);
        assert_eq!((roomy.max_connections, roomy.max_connections_per_ip), (4096, 256));
        let tight = super::connection_limits(&w, 256);
        assert_eq!((tight.max_connections, tight.max_connections_per_ip), (64, 32));
    }
}
