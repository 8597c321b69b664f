//! The `onboard` binary as the server tests start it: a process on a free
//! loopback port with its own data folder, spoken to over plain HTTP/1.1.

use std::io::{BufRead, BufReader, Lines, Read, Write};
use std::process::{Child, ChildStdout, Command, Stdio};

pub const BIN: &str = env!("CARGO_BIN_EXE_onboard");

/// The binary with no store configured but what the test gives it.
pub fn onboard() -> Command {
    let mut cmd = Command::new(BIN);
    for var in ["ONBOARD_CONFIG", "ONBOARD_REDIS_URL", "ONBOARD_REDIS_CLUSTER_NODES"] {
        cmd.env_remove(var);
    }
    cmd
}

/// A serving process; killed when dropped, so a failed test leaves none behind.
pub struct Server {
    pub child: Child,
    pub addr: String,
    /// What it printed after the "listening" line. Kept open: the server
    /// prints more, and a closed pipe would stop it.
    pub stdout: Lines<BufReader<ChildStdout>>,
    pub data: tempfile::TempDir,
}

/// An answer: status, head (lower case) and body.
pub struct Answer {
    pub status: u16,
    pub head: String,
    pub body: String,
}

impl Server {
    /// Starts `onboard` with `env` on 127.0.0.1, port 0, in a new data folder,
    /// and waits until it listens.
    pub fn start(env: &[(&str, &str)]) -> Self {
        let data = tempfile::tempdir().unwrap();
        let mut child = onboard()
            .env("ONBOARD_DATA_DIR", data.path())
            .env("ONBOARD_HTTP_ADDR", "127.0.0.1:0")
            .env("ONBOARD_LOG", "warn")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = stdout.next().unwrap().unwrap();
        let addr = first.strip_prefix("onboard listening on http://").expect(&first).to_owned();
        Self { child, addr, stdout, data }
    }

    /// The admin token the store's first start wrote (only that server has one).
    pub fn admin_token(&self) -> String {
        std::fs::read_to_string(self.data.path().join("admin.pat")).unwrap().trim().to_owned()
    }

    /// One HTTP/1.1 request on a connection of its own; `token` goes in as a
    /// bearer token, `headers` as given, `body` as JSON.
    pub fn request(&self, method: &str, path: &str, token: &str, headers: &[(&str, &str)], body: &str) -> Answer {
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n",
            self.addr,
            body.len()
        );
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        let mut conn = std::net::TcpStream::connect(&self.addr).unwrap();
        write!(conn, "{head}\r\n{body}").unwrap();
        let mut resp = String::new();
        conn.read_to_string(&mut resp).unwrap();
        let (head, body) = resp.split_once("\r\n\r\n").expect(&resp);
        let status = head.split(' ').nth(1).unwrap().parse().unwrap();
        Answer { status, head: head.to_ascii_lowercase(), body: body.to_owned() }
    }

    /// Stops it as an operator would (SIGTERM); it must exit cleanly.
    pub fn stop(mut self) {
        let killed = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().unwrap();
        assert!(killed.success());
        let status = self.child.wait().unwrap();
        assert!(status.success(), "{status:?}");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
