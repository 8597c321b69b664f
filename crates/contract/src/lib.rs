//! onboard's wire contract: one description of every message and method it
//! serves, for every protocol.
//!
//! - [`pb`]: ZITADEL's messages, generated from its `.proto` files (under
//!   `proto/`), with their descriptors.
//! - [`json`]: their JSON form, by protojson's rules.
//! - [`fault`]: the one table from domain errors to gRPC codes, ZITADEL's
//!   error ids and texts, HTTP statuses and Connect codes.
//! - [`call`] and [`serve`]: what a call carries besides its message
//!   (credentials, organization, idempotency key) and how a method is
//!   served with it.
//! - [`management`]: the methods of ZITADEL's Management API v1, each from
//!   request message to use case and back.
//! - [`user_v2`]: the invitation methods of ZITADEL's `zitadel.user.v2.UserService`.
//!
//! The protocol adapters (HTTP/JSON in `onboard-api`, gRPC and gRPC-Web in
//! `onboard-grpc`) only move bytes: they read a message and a [`Call`], call
//! the method here, and write its answer or [`Fault`].

pub mod call;
pub mod fault;
pub mod json;
pub mod management;
pub mod pb;
pub mod serve;
pub mod user_v2;

pub use call::{Call, Credentials};

/// Largest request message (or HTTP body) accepted, on every protocol.
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;
pub use fault::{Code, Fault};
pub use serve::{Answer, Method};
