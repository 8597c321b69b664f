//! The verifier's tests, one binary: one module per subject, the fixtures
//! they share in `support`.

mod refresh;
mod support;
mod url;
mod verify;
