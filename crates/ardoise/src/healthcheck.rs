//! `ardoise healthcheck`: asks the running server's `/healthz` on its first
//! plain web listener (`[web] listen`), or else on its metrics listener
//! (`[metrics] listen`, which `ardoise quickstart` sets), a wildcard address
//! asked on the loopback, and exits 0 only on `200`. The container's
//! HEALTHCHECK runs it, so the image needs no shell nor curl.

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;

/// Connecting, sending and reading each take at most this long.
const PATIENCE: Duration = Duration::from_secs(5);

pub fn run(cfg: &config::Config) -> anyhow::Result<ExitCode> {
    let listen =
        cfg.web.listen.first().or(cfg.metrics.listen.first()).context(
            "ni [web] listen ni [metrics] listen : rien à interroger / no plain web or metrics listener to ask",
        )?;
    let addr = asked_at(*listen);
    match status(addr) {
        Ok(200) => {
            println!("http://{addr}/healthz : ok");
            Ok(ExitCode::SUCCESS)
        }
        Ok(code) => {
            eprintln!("http://{addr}/healthz : statut {code} / status {code}");
            Ok(ExitCode::FAILURE)
        }
        Err(e) => {
            eprintln!("http://{addr}/healthz : {e:#}");
            Ok(ExitCode::FAILURE)
        }
    }
}

/// Where a listener bound to `listen` is reached from this host.
fn asked_at(listen: SocketAddr) -> SocketAddr {
    let ip = match listen.ip() {
        IpAddr::V4(v4) if v4.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(v6) if v6.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    SocketAddr::new(ip, listen.port())
}

/// The status code of `GET /healthz`.
fn status(addr: SocketAddr) -> anyhow::Result<u16> {
    let mut stream = TcpStream::connect_timeout(&addr, PATIENCE).context("connexion / connect")?;
    stream.set_read_timeout(Some(PATIENCE))?;
    stream.set_write_timeout(Some(PATIENCE))?;
    stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")?;
    // The status line is all we need: "HTTP/1.1 200 OK".
    let mut head = [0u8; 64];
    let mut len = 0;
    while len < head.len() && !head[..len].contains(&b'\n') {
        match stream.read(&mut head[len..])? {
            0 => break,
            n => len += n,
        }
    }
    let line = String::from_utf8_lossy(&head[..len]);
    line.strip_prefix("HTTP/1.")
        .and_then(|rest| rest.get(2..5))
        .and_then(|code| code.parse().ok())
        .with_context(|| format!("réponse illisible / unreadable answer: {line:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wildcard_listener_is_asked_on_the_loopback() {
        assert_eq!(asked_at("0.0.0.0:8080".parse().unwrap()), "127.0.0.1:8080".parse().unwrap());
        assert_eq!(asked_at("[::]:8080".parse().unwrap()), "[::1]:8080".parse().unwrap());
        assert_eq!(asked_at("10.0.0.2:80".parse().unwrap()), "10.0.0.2:80".parse().unwrap());
    }

    #[test]
    fn the_status_line_is_read() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let answer = std::thread::spawn(move || {
            for reply in
                [&b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n"[..], b"HTTP/1.1 503 Busy\r\n\r\n", b"SSH-2.0\r\n"]
            {
                let (mut s, _) = listener.accept().unwrap();
                let mut buf = [0u8; 512];
                let n = s.read(&mut buf).unwrap();
                assert!(buf[..n].starts_with(b"GET /healthz HTTP/1.1\r\n"));
                s.write_all(reply).unwrap();
            }
        });
        assert_eq!(status(addr).unwrap(), 200);
        assert_eq!(status(addr).unwrap(), 503);
        assert!(status(addr).is_err());
        answer.join().unwrap();
    }
}
