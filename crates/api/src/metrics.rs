//! Prometheus metrics: requests by route and status with latency histograms,
//! served at `/metrics` together with whatever else the process records
//! through the `metrics` facade (deliveries, Redis errors) and the outbox's
//! depth, read at scrape time.
//!
//! Nothing is recorded until [`install`] ran: without it the middleware
//! passes requests straight through and `/metrics` answers 404, so a server
//! with metrics off pays one atomic load per request.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, OnceLock, RwLock};
use std::time::Instant;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use onboard_domain::ports::OutboxStats;
use poem::http::StatusCode;
use poem::{Endpoint, IntoResponse, PathPattern, Request, Response, handler};

/// Requests served, by `route` (the matched pattern), `method` and `code`.
pub const REQUESTS: &str = "onboard_http_requests_total";
/// Request latency in seconds, by `route` and `method`.
pub const DURATION: &str = "onboard_http_request_duration_seconds";
/// Emails waiting in the outbox, and the age of the oldest one.
pub const OUTBOX_DEPTH: &str = "onboard_outbox_depth";
pub const OUTBOX_OLDEST_AGE: &str = "onboard_outbox_oldest_age_seconds";

/// The last invitation statistics computed for an organization (by the
/// stats endpoint; a scrape computes none): invitations by `org` and
/// `state` (exact), the waiting ones by `org` and the latest email's `delivery`
/// state (exact; every state, 0 for none, so a count that fell to nothing
/// does not linger), and the funnel's `step` counts (exact) and median
/// seconds from the step before (exact for the organization, to its
/// histogram bucket's middle, within 12%).
pub const INVITATIONS: &str = "onboard_invitations";
pub const INVITATION_DELIVERIES: &str = "onboard_invitation_deliveries";
pub const INVITATION_FUNNEL: &str = "onboard_invitation_funnel";
pub const INVITATION_FUNNEL_MEDIAN: &str = "onboard_invitation_funnel_median_seconds";

/// Sets the invitation gauges of `org` to `stats` (nothing when metrics are off).
pub fn record_invitation_stats(org: &str, stats: &onboard_domain::usecases::InvitationStats) {
    if INSTALLED.get().is_none() {
        return;
    }
    for (state, n) in &stats.by_state {
        metrics::gauge!(INVITATIONS, "org" => org.to_owned(), "state" => state.as_str()).set(*n as f64);
    }
    for state in onboard_domain::DeliveryState::ALL {
        let n = stats.by_delivery.iter().find(|(s, _)| *s == state).map_or(0, |(_, n)| *n);
        metrics::gauge!(INVITATION_DELIVERIES, "org" => org.to_owned(), "delivery" => state.as_str()).set(n as f64);
    }
    let steps = [
        ("created", &stats.created),
        ("delivered", &stats.delivered),
        ("opened", &stats.opened),
        ("completed", &stats.finished),
    ];
    for (step, f) in steps {
        metrics::gauge!(INVITATION_FUNNEL, "org" => org.to_owned(), "step" => step).set(f.count as f64);
        if let Some(m) = f.median_from_previous {
            metrics::gauge!(INVITATION_FUNNEL_MEDIAN, "org" => org.to_owned(), "step" => step).set(m.as_secs_f64());
        }
    }
}

/// Latency buckets: fine below 10 ms, where a healthy server answers.
const LATENCY_BUCKETS: &[f64] =
    &[0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];

/// Label for requests no route matched: raw paths would be unbounded.
const UNMATCHED: &str = "unmatched";
/// [`UNMATCHED`] made once: requests that match no route allocate nothing.
static UNMATCHED_ROUTE: LazyLock<Arc<str>> = LazyLock::new(|| Arc::from(UNMATCHED));

struct Installed {
    handle: PrometheusHandle,
    outbox: RwLock<Option<Arc<dyn OutboxStats>>>,
    requests: RwLock<HashMap<RequestLabels, RequestMetrics>>,
}

/// Route pattern (or [`UNMATCHED`]), method, status code.
type RequestLabels = (Arc<str>, &'static str, u16);

/// The recorder's handles for one set of labels, kept because finding them
/// in the recorder builds and hashes a label list twice per request (with
/// it, metrics cost a resend 6 % of its rate at 100k users; now 2–4 %).
#[derive(Clone)]
struct RequestMetrics {
    duration: metrics::Histogram,
    requests: metrics::Counter,
}

static INSTALLED: OnceLock<Installed> = OnceLock::new();

/// Installs the process-wide Prometheus recorder (once; later calls only
/// replace the outbox whose depth is reported, for servers started again in
/// one process). `outbox` is read on every scrape.
pub fn install(outbox: Option<Arc<dyn OutboxStats>>) -> Result<(), String> {
    let mut failed = None;
    let installed = INSTALLED.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full(DURATION.to_owned()), LATENCY_BUCKETS)
            .map(PrometheusBuilder::build_recorder);
        let handle = match recorder {
            Ok(recorder) => {
                let handle = recorder.handle();
                if let Err(e) = metrics::set_global_recorder(recorder) {
                    failed = Some(format!("metrics recorder: {e}"));
                }
                handle
            }
            Err(e) => {
                failed = Some(format!("metrics buckets: {e}"));
                PrometheusBuilder::new().build_recorder().handle()
            }
        };
        // Histogram samples wait in the recorder until an upkeep folds them
        // in; without one they would pile up between scrapes (or forever,
        // when nobody scrapes).
        let upkeep = handle.clone();
        let _ = std::thread::Builder::new().name("metrics-upkeep".into()).spawn(move || {
            loop {
                std::thread::sleep(std::time::Duration::from_secs(5));
                upkeep.run_upkeep();
            }
        });
        Installed { handle, outbox: RwLock::new(None), requests: RwLock::new(HashMap::new()) }
    });
    if let Some(e) = failed {
        return Err(e);
    }
    *installed.outbox.write().unwrap_or_else(|e| e.into_inner()) = outbox;
    Ok(())
}

/// Middleware: counts every request and times it, labelled with the route
/// pattern the router matched (never the raw path, which holds ids).
pub async fn track<E: Endpoint>(next: E, req: Request) -> poem::Result<Response> {
    let Some(installed) = INSTALLED.get() else {
        return next.call(req).await.map(IntoResponse::into_response);
    };
    let method = method_label(req.method());
    let started = Instant::now();
    let result = next.call(req).await.map(IntoResponse::into_response);
    let elapsed = started.elapsed().as_secs_f64();
    let (status, pattern) = match &result {
        Ok(resp) => (resp.status(), resp.data::<PathPattern>()),
        Err(e) => (e.status(), e.data::<PathPattern>()),
    };
    // The route pattern is shared text: a count of routes, never raw paths.
    let route: Arc<str> = pattern.map_or_else(|| UNMATCHED_ROUTE.clone(), |p| p.0.clone());
    let metrics = installed.request_metrics((route, method, status.as_u16()));
    metrics.duration.record(elapsed);
    metrics.requests.increment(1);
    result
}

impl Installed {
    fn request_metrics(&self, labels: RequestLabels) -> RequestMetrics {
        if let Some(found) = self.requests.read().unwrap_or_else(|e| e.into_inner()).get(&labels) {
            return found.clone();
        }
        let (route, method, code) = labels.clone();
        let route = metrics::SharedString::from(route);
        let made = RequestMetrics {
            duration: metrics::histogram!(DURATION, "route" => route.clone(), "method" => method),
            requests: metrics::counter!(REQUESTS, "route" => route, "method" => method, "code" => code_label(code)),
        };
        self.requests.write().unwrap_or_else(|e| e.into_inner()).entry(labels).or_insert(made).clone()
    }
}

fn method_label(method: &poem::http::Method) -> &'static str {
    match *method {
        poem::http::Method::GET => "GET",
        poem::http::Method::POST => "POST",
        poem::http::Method::PUT => "PUT",
        poem::http::Method::DELETE => "DELETE",
        poem::http::Method::HEAD => "HEAD",
        poem::http::Method::OPTIONS => "OPTIONS",
        poem::http::Method::PATCH => "PATCH",
        _ => "OTHER",
    }
}

fn code_label(code: u16) -> metrics::SharedString {
    const COMMON: [(u16, &str); 13] = [
        (200, "200"),
        (303, "303"),
        (400, "400"),
        (401, "401"),
        (403, "403"),
        (404, "404"),
        (405, "405"),
        (409, "409"),
        (413, "413"),
        (429, "429"),
        (500, "500"),
        (503, "503"),
        (504, "504"),
    ];
    match COMMON.iter().find(|(c, _)| *c == code) {
        Some((_, text)) => metrics::SharedString::const_str(text),
        None => code.to_string().into(),
    }
}

#[handler]
pub async fn serve() -> Response {
    let Some(installed) = INSTALLED.get() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let outbox = installed.outbox.read().unwrap_or_else(|e| e.into_inner()).clone();
    if let Some(outbox) = outbox {
        // A store that cannot answer keeps the last figures; its errors are
        // counted where they happen.
        if let Ok(depth) = outbox.depth().await {
            metrics::gauge!(OUTBOX_DEPTH).set(depth.entries as f64);
            metrics::gauge!(OUTBOX_OLDEST_AGE).set(depth.oldest_age.map_or(0.0, |a| a.as_secs_f64()));
        }
    }
    // Folds recorded histogram samples into their buckets before rendering.
    installed.handle.run_upkeep();
    installed.handle.render().with_content_type("text/plain; version=0.0.4; charset=utf-8").into_response()
}
