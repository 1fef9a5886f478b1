//! An S3-compatible server for the tests: `s3s-fs` (the s3s project's server
//! over a folder, installed by scripts/test-setup.sh into
//! `~/.cache/ardoise-tools/bin`), one per test, on a free port, with an access
//! key, stopped when the test ends. When it is not installed the test is
//! skipped with a message, unless `CI=true`, where it fails.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const ACCESS_KEY: &str = "ardoise-test";
pub const SECRET_KEY: &str = "secret-de-test-ne-pas-journaliser";

/// A running server with one bucket; killed on drop.
pub struct S3Server {
    child: Child,
    pub port: u16,
    pub bucket: String,
    /// The folder it serves: `<root>/<bucket>/<key>` is an object.
    pub root: tempfile::TempDir,
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The server's program: `ARDOISE_S3S_FS`, else the test tools' folder, else `PATH`.
fn program() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("ARDOISE_S3S_FS") {
        return Some(PathBuf::from(path));
    }
    let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_default();
    let cached = home.join(".cache/ardoise-tools/bin/s3s-fs");
    if cached.is_file() {
        return Some(cached);
    }
    std::env::var_os("PATH")?.to_str()?.split(':').map(|d| Path::new(d).join("s3s-fs")).find(|p| p.is_file())
}

impl S3Server {
    /// Starts a server with the bucket `ardoise`; `None` (after a message)
    /// when `s3s-fs` is not installed outside CI.
    pub fn start() -> Option<S3Server> {
        let Some(program) = program() else {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("s3s-fs is required in CI: run scripts/test-setup.sh (or set ARDOISE_S3S_FS)");
            }
            eprintln!("SKIPPED: s3s-fs not installed (scripts/test-setup.sh installs it); S3 tests not run");
            return None;
        };
        let root = tempfile::tempdir().expect("temporary folder");
        let bucket = "ardoise".to_owned();
        std::fs::create_dir(root.path().join(&bucket)).expect("bucket folder");
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new(&program)
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .args(["--access-key", ACCESS_KEY, "--secret-key", SECRET_KEY])
            .arg(root.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", program.display()));
        let server = S3Server { child, port, bucket, root };
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "s3s-fs did not listen on {port} within 10 s");
            std::thread::sleep(Duration::from_millis(20));
        }
        Some(server)
    }

    /// The `[blob] url` of its bucket.
    pub fn url(&self) -> String {
        format!("s3://{}?endpoint=http://127.0.0.1:{}", self.bucket, self.port)
    }

    /// Where it keeps an object of the store (key `objects/<name>`).
    pub fn object_file(&self, name: &str) -> PathBuf {
        self.root.path().join(&self.bucket).join("objects").join(name)
    }

    pub fn remote(&self) -> blob::Remote {
        let mut remote = blob::Remote::parse(&self.url()).expect("test URL");
        remote.credentials =
            Some(blob::Credentials { access_key_id: ACCESS_KEY.into(), secret_access_key: SECRET_KEY.into() });
        remote
    }
}
