//! A real SMTP server for tests: aiosmtpd (pinned in `testing/requirements.txt`,
//! installed into a virtual environment under `target/sdk/smtp` on first
//! use) running `testing/smtp_server.py` on a free loopback port, with
//! STARTTLS (a certificate made for the test) and AUTH when asked for.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

const HOW_TO_INSTALL: &str = "the SMTP tests need Python 3 with venv and pip \
     (Debian: apt-get install -y python3 python3-venv python3-pip; or run bash .ci/run, which installs it)";

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn venv_dir() -> PathBuf {
    let workspace = crate_dir().join("../..");
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| workspace.join("target"), PathBuf::from).join("sdk/smtp")
}

fn python() -> PathBuf {
    venv_dir().join("bin/python")
}

/// Creates the virtual environment and installs the pinned packages, unless
/// it holds exactly them already.
fn ensure_venv() {
    static READY: Mutex<bool> = Mutex::new(false);
    let mut ready = READY.lock().unwrap_or_else(|p| p.into_inner());
    if *ready {
        return;
    }
    let requirements = crate_dir().join("testing/requirements.txt");
    let wanted = std::fs::read(&requirements).expect("testing/requirements.txt");
    let stamp = venv_dir().join("installed-requirements.txt");
    if std::fs::read(&stamp).ok().as_deref() != Some(wanted.as_slice()) || !python().exists() {
        let run = |cmd: &mut Command, what: &str| match cmd.output() {
            Ok(out) if out.status.success() => {}
            Ok(out) => panic!("{what} failed: {}\n{HOW_TO_INSTALL}", String::from_utf8_lossy(&out.stderr)),
            Err(e) => panic!("{what} could not run: {e}; {HOW_TO_INSTALL}"),
        };
        run(Command::new("python3").args(["-m", "venv"]).arg(venv_dir()), "python3 -m venv");
        run(
            Command::new(venv_dir().join("bin/pip"))
                .args(["install", "--quiet", "--disable-pip-version-check", "-r"])
                .arg(&requirements),
            "pip install",
        );
        std::fs::write(&stamp, &wanted).expect("write the stamp");
    }
    *ready = true;
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port()
}

/// What a test server should insist on.
#[derive(Debug, Clone, Default)]
pub struct SmtpOptions {
    /// Offer STARTTLS with a certificate for 127.0.0.1, and require it.
    pub starttls: bool,
    /// Require AUTH with this user and password.
    pub auth: Option<(String, String)>,
}

/// One message the server took.
#[derive(Debug, Clone)]
pub struct Received {
    pub from: String,
    pub to: Vec<String>,
    /// The user name the client authenticated as.
    pub auth: Option<String>,
    /// Whether the session was encrypted.
    pub tls: bool,
    pub raw: Vec<u8>,
}

/// A running server; stopped when dropped.
#[derive(Debug)]
pub struct SmtpServer {
    pub port: u16,
    options: SmtpOptions,
    dir: tempfile::TempDir,
    certs: Option<TestCerts>,
    child: Option<Child>,
}

/// A certificate authority and a server certificate it signed, for 127.0.0.1.
#[derive(Debug)]
struct TestCerts {
    ca_pem: String,
    cert_path: PathBuf,
    key_path: PathBuf,
}

fn make_certs(dir: &Path) -> TestCerts {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair, SanType};
    let ca_key = KeyPair::generate().expect("a CA key");
    let mut ca = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_cert = ca.self_signed(&ca_key).expect("the CA certificate");
    let key = KeyPair::generate().expect("a server key");
    let mut params = CertificateParams::new(vec!["localhost".to_owned()]).expect("server params");
    params.subject_alt_names.push(SanType::IpAddress(std::net::Ipv4Addr::LOCALHOST.into()));
    let cert = params.signed_by(&key, &ca_cert, &ca_key).expect("the server certificate");
    let (cert_path, key_path) = (dir.join("server.pem"), dir.join("server.key"));
    std::fs::write(&cert_path, cert.pem()).expect("write the certificate");
    std::fs::write(&key_path, key.serialize_pem()).expect("write the key");
    TestCerts { ca_pem: ca_cert.pem(), cert_path, key_path }
}

impl SmtpServer {
    pub fn start(options: SmtpOptions) -> Self {
        ensure_venv();
        let dir = tempfile::tempdir().expect("a folder for received mail");
        let certs = options.starttls.then(|| make_certs(dir.path()));
        let mut server = Self { port: free_port(), options, dir, certs, child: None };
        server.spawn();
        server
    }

    fn spawn(&mut self) {
        let mut cmd = Command::new(python());
        cmd.arg(crate_dir().join("testing/smtp_server.py"))
            .arg("--port")
            .arg(self.port.to_string())
            .arg("--dir")
            .arg(self.dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        if let Some(c) = &self.certs {
            cmd.arg("--tls-cert").arg(&c.cert_path).arg("--tls-key").arg(&c.key_path);
        }
        if let Some((user, password)) = &self.options.auth {
            cmd.arg("--auth").arg(format!("{user}:{password}"));
        }
        let mut child = cmd.spawn().unwrap_or_else(|e| panic!("the SMTP test server: {e}; {HOW_TO_INSTALL}"));
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("piped")).read_line(&mut line).expect("the server's first line");
        assert!(line.starts_with("READY"), "the SMTP test server did not start: {line:?}");
        self.child = Some(child);
    }

    /// `smtp://127.0.0.1:<port>` with the STARTTLS mode and user (not the
    /// password) the server wants.
    pub fn url(&self) -> String {
        let user = self.options.auth.as_ref().map(|(u, _)| format!("{u}@")).unwrap_or_default();
        let tls = if self.options.starttls { "required" } else { "none" };
        format!("smtp://{user}127.0.0.1:{}?tls={tls}", self.port)
    }

    /// The certificate authority that signed the server's certificate, when
    /// it offers STARTTLS.
    pub fn ca_pem(&self) -> Option<&str> {
        self.certs.as_ref().map(|c| c.ca_pem.as_str())
    }

    /// Stops the server (its port stays this server's for `resume`).
    pub fn pause(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port, keeping what it received.
    pub fn resume(&mut self) {
        if self.child.is_none() {
            self.spawn();
        }
    }

    /// Everything received so far, in order.
    pub fn received(&self) -> Vec<Received> {
        let log = std::fs::read_to_string(self.dir.path().join("log.jsonl")).unwrap_or_default();
        log.lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .map(|v| Received {
                from: v["from"].as_str().unwrap_or_default().to_owned(),
                to: v["to"].as_array().into_iter().flatten().filter_map(|t| t.as_str().map(str::to_owned)).collect(),
                auth: v["auth"].as_str().map(str::to_owned),
                tls: v["tls"].as_bool().unwrap_or_default(),
                raw: std::fs::read(self.dir.path().join(v["file"].as_str().unwrap_or_default())).unwrap_or_default(),
            })
            .collect()
    }

    /// Waits until `count` messages arrived (or `timeout` passed) and returns them.
    pub async fn wait_for(&self, count: usize, timeout: Duration) -> Vec<Received> {
        let deadline = Instant::now() + timeout;
        loop {
            let got = self.received();
            if got.len() >= count || Instant::now() > deadline {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.pause();
    }
}
