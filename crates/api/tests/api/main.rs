//! The HTTP application as the server wires it, one binary: one module per
//! subject.
//!
//! `metrics` installs the process-wide Prometheus recorder, having checked
//! that `/metrics` is absent before, and counts the `/healthz` requests it
//! makes: it must stay the only test in this binary that installs a recorder
//! or requests `/healthz`.

mod admin_routes;
mod metrics;
mod openapi_drift;
mod webhook_routes;
