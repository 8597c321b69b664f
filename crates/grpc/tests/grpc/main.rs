//! The gRPC and gRPC-Web side against a real server, one binary: one module
//! per subject, the server and clients they share in `support`.

mod clients;
mod methods;
mod parity;
mod support;
