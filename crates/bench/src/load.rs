//! The load generator: a fixed number of HTTP/1.1 keep-alive connections on
//! loopback, each sending its next request as soon as the last answer is
//! read (closed loop), for a warm-up and then a fixed measured duration.
//! Latencies go into one HDR histogram per connection, merged at the end.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use hdrhistogram::Histogram;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// What every request of a run looks like; `path` is called with a running
/// number, so runs can walk through many users.
#[derive(Clone)]
pub struct Target {
    pub method: hyper::Method,
    pub path: Arc<dyn Fn(usize) -> String + Send + Sync>,
    pub bearer: Option<String>,
    pub body: Option<Bytes>,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target").field("method", &self.method).finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Shape {
    pub connections: usize,
    pub warmup: Duration,
    pub duration: Duration,
}

/// One measured run.
#[derive(Debug)]
pub struct Outcome {
    /// Answers with a 2xx status within the measured window.
    pub ok: u64,
    /// Other answers and transport errors within the measured window.
    pub errors: u64,
    /// The measured window, from the end of the warm-up to the last answer.
    pub elapsed: Duration,
    /// Latency of the measured answers (ok or not), in microseconds.
    pub latency_us: Histogram<u64>,
}

impl Outcome {
    pub fn rps(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64()
    }
}

fn histogram() -> Histogram<u64> {
    // 1 µs to 60 s at 3 significant digits.
    Histogram::new_with_bounds(1, 60_000_000, 3).expect("valid histogram bounds")
}

/// Drives `target` on `addr` as `shape` says. `counter` hands out the
/// running numbers; share one across runs to keep walking through users.
pub async fn run(addr: SocketAddr, target: Target, shape: Shape, counter: Arc<AtomicUsize>) -> Outcome {
    let start = Instant::now();
    let measure_from = start + shape.warmup;
    let end = measure_from + shape.duration;
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..shape.connections {
        let target = target.clone();
        let counter = counter.clone();
        tasks.spawn(async move { connection(addr, target, measure_from, end, counter).await });
    }
    let mut merged = histogram();
    let (mut ok, mut errors, mut last) = (0, 0, measure_from);
    while let Some(done) = tasks.join_next().await {
        let (h, o, e, l) = done.expect("load connection task");
        merged.add(&h).expect("histograms of the same bounds");
        ok += o;
        errors += e;
        last = last.max(l);
    }
    Outcome { ok, errors, elapsed: last.saturating_duration_since(measure_from), latency_us: merged }
}

async fn connection(
    addr: SocketAddr,
    target: Target,
    measure_from: Instant,
    end: Instant,
    counter: Arc<AtomicUsize>,
) -> (Histogram<u64>, u64, u64, Instant) {
    let mut h = histogram();
    let (mut ok, mut errors, mut last) = (0u64, 0u64, measure_from);
    let host = addr.to_string();
    let mut sender = None;
    while Instant::now() < end {
        if sender.is_none() {
            match open(addr).await {
                Ok(s) => sender = Some(s),
                Err(_) => {
                    if Instant::now() >= measure_from {
                        errors += 1;
                    }
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            }
        }
        let Some(s) = sender.as_mut() else { continue };
        let n = counter.fetch_add(1, Ordering::Relaxed);
        let mut req = Request::builder().method(target.method.clone()).uri((target.path)(n)).header("host", &host);
        if let Some(token) = &target.bearer {
            req = req.header("authorization", format!("Bearer {token}"));
        }
        if target.body.is_some() {
            req = req.header("content-type", "application/json");
        }
        let req = req.body(Full::new(target.body.clone().unwrap_or_default())).expect("a valid request");
        let sent = Instant::now();
        let answered = match s.send_request(req).await {
            Ok(resp) => {
                let status = resp.status();
                resp.into_body().collect().await.ok().map(|_| status.is_success())
            }
            Err(_) => None,
        };
        let done = Instant::now();
        if answered.is_none() {
            sender = None;
        }
        if sent >= measure_from {
            h.saturating_record(done.duration_since(sent).as_micros().max(1) as u64);
            last = done;
            match answered {
                Some(true) => ok += 1,
                _ => errors += 1,
            }
        }
    }
    (h, ok, errors, last)
}

type Sender = hyper::client::conn::http1::SendRequest<Full<Bytes>>;

pub(crate) async fn open(addr: SocketAddr) -> Result<Sender, Box<dyn std::error::Error + Send + Sync>> {
    let stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(conn);
    Ok(sender)
}

/// One request on a fresh connection; for set-up and scraping, not for load.
pub async fn once(
    addr: SocketAddr,
    method: hyper::Method,
    path: &str,
    bearer: Option<&str>,
    body: Option<String>,
) -> Result<(u16, Bytes), String> {
    let mut sender = open(addr).await.map_err(|e| e.to_string())?;
    let mut req = Request::builder().method(method).uri(path).header("host", addr.to_string());
    if let Some(token) = bearer {
        req = req.header("authorization", format!("Bearer {token}"));
    }
    if body.is_some() {
        req = req.header("content-type", "application/json");
    }
    let req = req.body(Full::new(Bytes::from(body.unwrap_or_default()))).map_err(|e| e.to_string())?;
    let resp = sender.send_request(req).await.map_err(|e| e.to_string())?;
    let status = resp.status().as_u16();
    let body = resp.into_body().collect().await.map_err(|e| e.to_string())?.to_bytes();
    Ok((status, body))
}
