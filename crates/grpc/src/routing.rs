//! Puts gRPC and gRPC-Web in front of the HTTP application on one listener.

use std::convert::Infallible;
use std::future::poll_fn;

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use onboard_contract::MAX_MESSAGE_BYTES;
use onboard_domain::usecases::UserService;
use poem::http::header;
use poem::{Endpoint, IntoResponse, Request, Response};
use tonic_web::{GrpcWebLayer, GrpcWebService};
use tower_layer::Layer;
use tower_service::Service;

use crate::SERVICE_PATH;
use crate::body::SyncBody;
use crate::cors;
use crate::pb::zitadel::management::v1::management_service_server::ManagementServiceServer;
use crate::service::Management;

/// `users` over gRPC (HTTP/2), gRPC-Web (HTTP/1.1 and HTTP/2) and, for every
/// other request, `http`.
///
/// Requests whose content type starts with `application/grpc` are gRPC or
/// gRPC-Web; so are browsers' CORS preflights for the service's paths.
pub fn with_grpc<E: Endpoint + 'static>(users: UserService, http: E) -> impl Endpoint<Output = Response> {
    GrpcOrHttp { grpc: GrpcEndpoint::new(users), http }
}

/// Whether `req` is a gRPC or gRPC-Web call.
pub fn is_grpc(req: &Request) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.trim_start().to_ascii_lowercase().starts_with("application/grpc"))
}

struct GrpcOrHttp<E> {
    grpc: GrpcEndpoint,
    http: E,
}

impl<E: Endpoint> Endpoint for GrpcOrHttp<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Response> {
        if cors::is_preflight(&req, SERVICE_PATH) {
            return Ok(cors::preflight(&req));
        }
        if is_grpc(&req) {
            return self.grpc.call(req).await;
        }
        self.http.call(req).await.map(IntoResponse::into_response)
    }
}

/// A request as poem hands it to tower services.
type HttpRequest = poem::http::Request<BoxBody<Bytes, std::io::Error>>;

type Inner = GrpcWebService<ManagementServiceServer<Management>>;

/// The gRPC service as a poem endpoint: gRPC-Web is translated to gRPC (and
/// back) by tonic-web, plain gRPC passes through.
#[derive(Clone)]
pub struct GrpcEndpoint {
    service: Inner,
}

impl std::fmt::Debug for GrpcEndpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GrpcEndpoint").finish_non_exhaustive()
    }
}

impl GrpcEndpoint {
    pub fn new(users: UserService) -> Self {
        // The same cap as the HTTP side's body limit: larger messages are
        // refused before they are decoded (with the HTTP side's error, see
        // `errors::align_message_too_large`).
        let server = ManagementServiceServer::new(Management::new(users)).max_decoding_message_size(MAX_MESSAGE_BYTES);
        Self { service: GrpcWebLayer::new().layer(server) }
    }
}

impl Endpoint for GrpcEndpoint {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Response> {
        let origin = req.headers().get(header::ORIGIN).cloned();
        let req: HttpRequest = req.into();
        let mut service = self.service.clone();
        poll_fn(|cx| Service::<HttpRequest>::poll_ready(&mut service, cx))
            .await
            .unwrap_or_else(|never: Infallible| match never {});
        let resp = service.call(req).await.unwrap_or_else(|never: Infallible| match never {});
        let (mut parts, body) = resp.into_parts();
        crate::errors::align_message_too_large(&mut parts.headers);
        let mut resp: Response = poem::http::Response::from_parts(parts, SyncBody::new(body)).into();
        if let Some(origin) = origin {
            cors::allow(origin, &mut resp);
        }
        Ok(resp)
    }
}
