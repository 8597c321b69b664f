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

use crate::body::SyncBody;
use crate::connect::{self, V2_PATH};
use crate::pb::zitadel::management::v1::management_service_server::ManagementServiceServer;
use crate::pb::zitadel::user::v2::user_service_server::UserServiceServer;
use crate::service::Management;
use crate::service_v2::UsersV2;
use crate::{SERVICE_PATH, cors};

/// `users` over gRPC (HTTP/2), gRPC-Web (HTTP/1.1 and HTTP/2), Connect (the
/// v2 service's unary calls) and, for every other request, `http`.
///
/// Requests whose content type starts with `application/grpc` are gRPC or
/// gRPC-Web; so are browsers' CORS preflights for the services' paths. A
/// POST of JSON or binary protobuf to a v2 method's path is Connect.
pub fn with_grpc<E: Endpoint + 'static>(users: UserService, http: E) -> impl Endpoint<Output = Response> {
    GrpcOrHttp { grpc: GrpcEndpoint::new(users.clone()), users, http }
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
    users: UserService,
    http: E,
}

impl<E: Endpoint> Endpoint for GrpcOrHttp<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Response> {
        if cors::is_preflight(&req, SERVICE_PATH) || cors::is_preflight(&req, V2_PATH) {
            return Ok(cors::preflight(&req));
        }
        if is_grpc(&req) {
            return self.grpc.call(req).await;
        }
        if connect::is_connect(&req) {
            let origin = req.headers().get(header::ORIGIN).cloned();
            let mut resp = connect::serve(&self.users, req).await;
            if let Some(origin) = origin {
                cors::allow(origin, &mut resp);
            }
            return Ok(resp);
        }
        self.http.call(req).await.map(IntoResponse::into_response)
    }
}

/// A request as poem hands it to tower services.
type HttpRequest = poem::http::Request<BoxBody<Bytes, std::io::Error>>;

type Inner = GrpcWebService<ManagementServiceServer<Management>>;
type InnerV2 = GrpcWebService<UserServiceServer<UsersV2>>;

/// The gRPC service as a poem endpoint: gRPC-Web is translated to gRPC (and
/// back) by tonic-web, plain gRPC passes through.
#[derive(Clone)]
pub struct GrpcEndpoint {
    service: Inner,
    v2: InnerV2,
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
        let server =
            ManagementServiceServer::new(Management::new(users.clone())).max_decoding_message_size(MAX_MESSAGE_BYTES);
        let v2 = UserServiceServer::new(UsersV2::new(users)).max_decoding_message_size(MAX_MESSAGE_BYTES);
        Self { service: GrpcWebLayer::new().layer(server), v2: GrpcWebLayer::new().layer(v2) }
    }
}

impl Endpoint for GrpcEndpoint {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Response> {
        let origin = req.headers().get(header::ORIGIN).cloned();
        let v2 = req.uri().path().starts_with(V2_PATH);
        let req: HttpRequest = req.into();
        let resp = if v2 { call(self.v2.clone(), req).await } else { call(self.service.clone(), req).await };
        let (mut parts, body) = resp.into_parts();
        crate::errors::align_message_too_large(&mut parts.headers);
        let mut resp: Response = poem::http::Response::from_parts(parts, SyncBody::new(body)).into();
        if let Some(origin) = origin {
            cors::allow(origin, &mut resp);
        }
        Ok(resp)
    }
}

/// Calls a tower service that never fails.
async fn call<S>(mut service: S, req: HttpRequest) -> S::Response
where
    S: Service<HttpRequest, Error = Infallible>,
{
    poll_fn(|cx| service.poll_ready(cx)).await.unwrap_or_else(|never: Infallible| match never {});
    service.call(req).await.unwrap_or_else(|never: Infallible| match never {})
}
