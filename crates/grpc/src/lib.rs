//! onboard's gRPC, gRPC-Web and Connect inbound adapter: the Management API
//! methods and the v2 UserService's invitation methods onboard serves, under
//! ZITADEL's service and message names, on the same listener as the
//! HTTP/JSON application (Connect for the v2 service only).
//!
//! It only moves bytes: each method reads its message and call (from the
//! metadata) and hands them to the wire contract (`onboard_contract`),
//! which runs the method and says what to answer, as it does for the
//! HTTP/JSON side.

mod body;
pub mod connect;
mod cors;
mod errors;
pub mod pb;
mod routing;
mod service;
mod service_v2;
#[cfg(feature = "testing")]
pub mod testing;

pub use routing::{GrpcEndpoint, is_grpc, with_grpc};
pub use service::Management;
pub use service_v2::UsersV2;

/// The path prefix of every method of the service.
pub const SERVICE_PATH: &str = "/zitadel.management.v1.ManagementService/";
