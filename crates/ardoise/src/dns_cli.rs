//! `ardoise dns`: every DNS record a served domain needs, ready to paste into
//! a zone file: MX, SPF, DKIM, DMARC, the autoconfiguration names and the SRV
//! records of RFC 6186 / RFC 8314 that mail clients look up, and RFC 6764's
//! for CalDAV/CardDAV clients.

use std::process::ExitCode;

use crate::queue_cli::quoted_txt;
use crate::{outbound, serve};

/// The records of one domain, as zone file lines.
pub fn records(domain: &str, host: &str, dkim: Option<(&str, &str)>) -> Vec<String> {
    let mut out = vec![
        format!("; {domain}"),
        format!("{domain}.\tIN MX\t10 {host}."),
        format!("{domain}.\tIN TXT\t\"v=spf1 mx -all\""),
    ];
    if let Some((selector, txt)) = dkim {
        out.push(format!("{selector}._domainkey.{domain}.\tIN TXT\t{}", quoted_txt(txt)));
    }
    out.extend([
        format!("_dmarc.{domain}.\tIN TXT\t\"v=DMARC1; p=quarantine; rua=mailto:postmaster@{domain}\""),
        format!("autoconfig.{domain}.\tIN CNAME\t{host}."),
        format!("autodiscover.{domain}.\tIN CNAME\t{host}."),
        format!("_submission._tcp.{domain}.\tIN SRV\t0 1 587 {host}."),
        format!("_submissions._tcp.{domain}.\tIN SRV\t0 1 465 {host}."),
        format!("_imap._tcp.{domain}.\tIN SRV\t0 1 143 {host}."),
        format!("_imaps._tcp.{domain}.\tIN SRV\t0 1 993 {host}."),
        format!("_autodiscover._tcp.{domain}.\tIN SRV\t0 1 443 {host}."),
        // RFC 6764: calendars and contacts over HTTPS, under /dav/.
        format!("_caldavs._tcp.{domain}.\tIN SRV\t0 1 443 {host}."),
        format!("_caldavs._tcp.{domain}.\tIN TXT\t\"path=/dav/\""),
        format!("_carddavs._tcp.{domain}.\tIN SRV\t0 1 443 {host}."),
        format!("_carddavs._tcp.{domain}.\tIN TXT\t\"path=/dav/\""),
    ]);
    out
}

pub async fn run(cfg: &config::Config) -> anyhow::Result<ExitCode> {
    let opened = serve::open(cfg).await?;
    let keys = outbound::dkim_keys(cfg, &opened.store).await?;
    let host = cfg.server.hostname.trim_end_matches('.');
    println!("; Enregistrements DNS à publier / DNS records to publish ({host})");
    println!(
        "; {host} doit avoir des enregistrements A/AAAA et un PTR correspondant / needs A/AAAA and a matching PTR"
    );
    for domain in keys.domains() {
        println!();
        let txt = keys.txt_record(&domain);
        for line in records(&domain, host, txt.as_deref().map(|t| (keys.selector(), t))) {
            println!("{line}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_record_a_domain_needs() {
        let lines = super::records("ac-demo.fr", "mail.ac-demo.fr", Some(("ardoise", "v=DKIM1; k=rsa; p=AB")));
        let text = lines.join("\n");
        for needle in [
            "ac-demo.fr.\tIN MX\t10 mail.ac-demo.fr.",
            "\"v=spf1 mx -all\"",
            "_caldavs._tcp.ac-demo.fr.\tIN SRV\t0 1 443 mail.ac-demo.fr.",
            "_carddavs._tcp.ac-demo.fr.\tIN TXT\t\"path=/dav/\"",
            "ardoise._domainkey.ac-demo.fr.\tIN TXT\t\"v=DKIM1; k=rsa; p=AB\"",
            "_dmarc.ac-demo.fr.",
            "autoconfig.ac-demo.fr.\tIN CNAME",
            "_submission._tcp.ac-demo.fr.\tIN SRV\t0 1 587",
            "_submissions._tcp.ac-demo.fr.\tIN SRV\t0 1 465",
            "_imaps._tcp.ac-demo.fr.\tIN SRV\t0 1 993",
        ] {
            assert!(text.contains(needle), "missing {needle} in\n{text}");
        }
        let long = "x".repeat(300);
        assert_eq!(crate::queue_cli::quoted_txt(&long).matches('"').count(), 4, "split in 255-byte strings");
    }
}
