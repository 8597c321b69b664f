//! onboard's gRPC and gRPC-Web inbound adapter: the Management API methods
//! onboard serves, under ZITADEL's service and message names, on the same
//! listener as the HTTP/JSON application.
//!
//! It is a second inbound adapter over the same use cases: requests become
//! the same commands (through [`onboard_api::wire`]), errors the same
//! [`onboard_api::errors::ApiError`]s, answers the same wire shapes.

mod body;
mod convert;
mod cors;
mod errors;
pub mod pb;
mod routing;
mod service;
#[cfg(feature = "testing")]
pub mod testing;

pub use routing::{GrpcEndpoint, is_grpc, with_grpc};
pub use service::Management;

/// The path prefix of every method of the service.
pub const SERVICE_PATH: &str = "/zitadel.management.v1.ManagementService/";
