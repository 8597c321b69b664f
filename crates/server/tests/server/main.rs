//! The `onboard` binary as an operator runs it, one test binary: one module
//! per subject, the process harness they share in `support`. Every server
//! is a process of its own on port 0 with its own data folder and Redis, so
//! the tests share nothing but the machine.

mod admin_cli;
mod binary;
mod processes;
mod support;
