//! Connections to the relay, kept open between emails.
//!
//! lettre speaks SMTP on them; the connections themselves are made here so
//! that they carry `TCP_NODELAY`. Without it, the body of every email and
//! the `.` that ends it leave as two writes, the second waits for the
//! relay to acknowledge the first, and the relay delays that
//! acknowledgement (it has nothing to answer until the `.` arrives): about
//! 40 ms lost per email on Linux, whatever the network. `smtps://` is the
//! exception: its TLS is set up by lettre's own connect.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::transport::smtp::response::Response;
use onboard_domain::ports::MailError;

use crate::settings::Security;

/// A connection idle this long is closed rather than reused: relays drop
/// idle sessions after a few minutes, and a dead one costs a failed send.
const MAX_IDLE: Duration = Duration::from_secs(30);

/// How to open a connection.
pub(crate) struct Connector {
    pub host: String,
    pub port: u16,
    pub security: Security,
    /// For STARTTLS and implicit TLS.
    pub tls: Option<TlsParameters>,
    pub credentials: Option<Credentials>,
    pub timeout: Duration,
    pub hello: ClientId,
}

/// Why a send failed, before it is read as a delivery rule.
fn failure(e: lettre::transport::smtp::Error) -> MailError {
    if e.is_permanent() {
        MailError::Permanent(e.to_string())
    } else {
        // 4xx replies, timeouts, refused or dropped connections, TLS trouble:
        // the relay may take the email later.
        MailError::Transient(e.to_string())
    }
}

impl Connector {
    async fn open(&self) -> Result<AsyncSmtpConnection, MailError> {
        let mut conn = if self.security == Security::Implicit {
            AsyncSmtpConnection::connect_tokio1(
                (self.host.as_str(), self.port),
                Some(self.timeout),
                &self.hello,
                self.tls.clone(),
                None,
            )
            .await
            .map_err(failure)?
        } else {
            let tcp = tokio::net::TcpStream::connect((self.host.as_str(), self.port))
                .await
                .map_err(|e| MailError::Transient(format!("connect to {}:{}: {e}", self.host, self.port)))?;
            tcp.set_nodelay(true).map_err(|e| MailError::Transient(format!("TCP_NODELAY: {e}")))?;
            AsyncSmtpConnection::connect_with_transport(Box::new(tcp), &self.hello).await.map_err(failure)?
        };
        match (self.security, &self.tls) {
            (Security::StartTlsRequired, Some(tls)) => {
                conn.starttls(tls.clone(), &self.hello).await.map_err(failure)?
            }
            (Security::StartTlsOpportunistic, Some(tls)) if conn.can_starttls() => {
                conn.starttls(tls.clone(), &self.hello).await.map_err(failure)?;
            }
            _ => {}
        }
        if let Some(credentials) = &self.credentials {
            conn.auth(&[Mechanism::Plain, Mechanism::Login], credentials).await.map_err(failure)?;
        }
        Ok(conn)
    }
}

struct Idle {
    conn: AsyncSmtpConnection,
    since: Instant,
}

/// Up to `size` idle connections, taken newest first.
pub(crate) struct Pool {
    connector: Connector,
    idle: Mutex<Vec<Idle>>,
    size: usize,
}

impl Pool {
    pub fn new(connector: Connector, size: usize) -> Self {
        Self { connector, idle: Mutex::new(Vec::new()), size }
    }

    fn take_idle(&self) -> Option<AsyncSmtpConnection> {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        while let Some(entry) = idle.pop() {
            if entry.since.elapsed() < MAX_IDLE && !entry.conn.has_broken() {
                return Some(entry.conn);
            }
        }
        None
    }

    fn give_back(&self, conn: AsyncSmtpConnection) {
        if conn.has_broken() {
            return;
        }
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        if idle.len() < self.size {
            idle.push(Idle { conn, since: Instant::now() });
        }
    }

    /// One transaction: on an idle connection if there is one (and, should
    /// that connection turn out dead before the relay said anything about
    /// the email, once more on a fresh one), else on a fresh connection.
    pub async fn send(&self, envelope: &Envelope, email: &[u8]) -> Result<Response, MailError> {
        let timeout = self.connector.timeout;
        let bounded = |what: &'static str| move |_| MailError::Transient(format!("{what} timed out after {timeout:?}"));
        if let Some(mut conn) = self.take_idle() {
            match tokio::time::timeout(timeout, conn.send(envelope, email)).await {
                Ok(Ok(reply)) => {
                    self.give_back(conn);
                    return Ok(reply);
                }
                // The relay answered: that is its word on this email.
                Ok(Err(e)) if e.is_response() => return Err(failure(e)),
                // The connection had gone away: try a fresh one.
                Ok(Err(_)) | Err(_) => {}
            }
        }
        let mut conn = tokio::time::timeout(timeout, self.connector.open()).await.map_err(bounded("connecting"))??;
        let reply = tokio::time::timeout(timeout, conn.send(envelope, email))
            .await
            .map_err(bounded("sending"))?
            .map_err(failure)?;
        self.give_back(conn);
        Ok(reply)
    }
}
