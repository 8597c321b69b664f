//! What clients other than the scenario helpers see: the generated client
//! as ZITADEL's published clients use it, gRPC-Web over HTTP/2, browsers'
//! CORS, and the HTTP/JSON application behind the same listener.

use crate::support::{TestServer, new_user, read_answer};
use onboard_grpc::pb::zitadel::management::v1 as mgmt;
use onboard_grpc::pb::zitadel::management::v1::management_service_client::ManagementServiceClient;
use onboard_grpc::pb::zitadel::user::v1 as user_pb;
use poem::http;
use tonic::metadata::MetadataValue;
use tower_layer::Layer;

fn authorized<T>(message: T, token: &str) -> tonic::Request<T> {
    let mut req = tonic::Request::new(message);
    let bearer: MetadataValue<_> = format!("Bearer {token}").parse().unwrap();
    req.metadata_mut().insert("authorization", bearer);
    req
}

#[tokio::test]
async fn the_generated_client_calls_every_method_over_h2c() {
    let app = TestServer::spawn().await;
    let mut client = ManagementServiceClient::new(app.channel());
    let added = client.add_human_user(authorized(new_user("jane"), &app.token)).await.unwrap().into_inner();
    let got = client
        .get_user_by_id(authorized(mgmt::GetUserByIdRequest { id: added.user_id.clone() }, &app.token))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(got.user.unwrap().state, user_pb::UserState::Initial as i32);
    let resend = mgmt::ResendHumanInitializationRequest { user_id: added.user_id.clone(), email: String::new() };
    let resent = client.resend_human_initialization(authorized(resend, &app.token)).await.unwrap().into_inner();
    assert_eq!(resent.details.unwrap().sequence, 3);
    let import = mgmt::ImportHumanUserRequest {
        user_name: "max".into(),
        profile: Some(mgmt::import_human_user_request::Profile {
            first_name: "Max".into(),
            last_name: "Muster".into(),
            ..Default::default()
        }),
        email: Some(mgmt::import_human_user_request::Email {
            email: "max@example.com".into(),
            is_email_verified: false,
        }),
        ..Default::default()
    };
    let imported = client.import_human_user(authorized(import, &app.token)).await.unwrap().into_inner();
    assert_ne!(imported.user_id, added.user_id);

    // The listing methods, each over gRPC with ZITADEL's messages.
    let initial = user_pb::SearchQuery {
        query: Some(user_pb::search_query::Query::StateQuery(user_pb::StateQuery {
            state: user_pb::UserState::Initial as i32,
        })),
    };
    let list = mgmt::ListUsersRequest {
        query: Some(onboard_grpc::pb::zitadel::v1::ListQuery { offset: 0, limit: 10, asc: true }),
        sorting_column: user_pb::UserFieldName::CreationDate as i32,
        queries: vec![initial],
    };
    let listed = client.list_users(authorized(list, &app.token)).await.unwrap().into_inner();
    assert_eq!(listed.details.unwrap().total_result, 2);
    let names: Vec<_> = listed.result.iter().map(|u| u.user_name.as_str()).collect();
    assert_eq!(names, ["jane", "max"]);
    let unique = mgmt::IsUserUniqueRequest { user_name: "JANE".into(), email: String::new() };
    assert!(!client.is_user_unique(authorized(unique, &app.token)).await.unwrap().into_inner().is_unique);
    let global = mgmt::GetUserByLoginNameGlobalRequest { login_name: "max".into() };
    let found = client.get_user_by_login_name_global(authorized(global, &app.token)).await.unwrap().into_inner();
    assert_eq!(found.user.unwrap().id, imported.user_id);
    let remove = mgmt::RemoveUserRequest { id: imported.user_id.clone() };
    let removed = client.remove_user(authorized(remove, &app.token)).await.unwrap().into_inner();
    assert_eq!(removed.details.unwrap().resource_owner, app.org);
    let changes = mgmt::ListUserChangesRequest { user_id: imported.user_id.clone(), query: None };
    let log = client.list_user_changes(authorized(changes, &app.token)).await.unwrap().into_inner().result;
    assert_eq!(log[0].event_type.as_ref().unwrap().key, "EventTypes.user.removed");
    assert_eq!(log.last().unwrap().event_type.as_ref().unwrap().key, "EventTypes.user.human.added");
    let gone = mgmt::RemoveUserRequest { id: imported.user_id };
    let err = client.remove_user(authorized(gone, &app.token)).await.unwrap_err();
    assert_eq!((err.code(), err.message()), (tonic::Code::NotFound, "User could not be found (COMMAND-m9od)"));

    // tonic decodes grpc-message and exposes grpc-status-details-bin.
    let err =
        client.get_user_by_id(authorized(mgmt::GetUserByIdRequest { id: "404".into() }, "nope")).await.unwrap_err();
    assert_eq!(err.code(), tonic::Code::Unauthenticated);
    assert_eq!(err.message(), "Errors.Token.Invalid (AUTH-7fs1e)");
    assert!(!err.details().is_empty());
}

/// A channel that takes any body, as tonic-web's client layer hands on its own.
#[derive(Clone)]
struct AnyBody(tonic::transport::Channel);

impl<B> tower_service::Service<http::Request<B>> for AnyBody
where
    B: http_body::Body<Data = bytes::Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Response = <tonic::transport::Channel as tower_service::Service<http::Request<tonic::body::Body>>>::Response;
    type Error = tonic::transport::Error;
    type Future = tonic::transport::channel::ResponseFuture;

    fn poll_ready(&mut self, cx: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), Self::Error>> {
        tower_service::Service::<http::Request<tonic::body::Body>>::poll_ready(&mut self.0, cx)
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        self.0.call(req.map(tonic::body::Body::new))
    }
}

#[tokio::test]
async fn grpc_web_also_works_over_http2() {
    let app = TestServer::spawn().await;
    let web = tonic_web::GrpcWebClientLayer::new().layer(AnyBody(app.channel()));
    let mut client = ManagementServiceClient::new(web);
    let added = client.add_human_user(authorized(new_user("jane"), &app.token)).await.unwrap().into_inner();
    assert!(!added.user_id.is_empty());
    let err = client
        .resend_human_initialization(authorized(
            mgmt::ResendHumanInitializationRequest { user_id: "404".into(), email: String::new() },
            &app.token,
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::NotFound);
    assert_eq!(err.message(), "User could not be found (COMMAND-2M9df)");
}

#[tokio::test]
async fn browsers_get_cors_for_grpc_web() {
    let app = TestServer::spawn().await;
    let path = "/zitadel.management.v1.ManagementService/GetUserByID";
    let preflight = app
        .http
        .request(reqwest::Method::OPTIONS, app.url(path))
        .header("origin", "https://console.example.com")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "authorization,content-type,x-grpc-web,x-zitadel-orgid")
        .send()
        .await
        .unwrap();
    assert!(preflight.status().is_success(), "{}", preflight.status());
    let header = |name: &str| preflight.headers().get(name).map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    assert_eq!(header("access-control-allow-origin"), "https://console.example.com");
    assert!(header("access-control-allow-methods").contains("POST"));
    for needed in ["authorization", "content-type", "x-grpc-web", "x-zitadel-orgid"] {
        assert!(header("access-control-allow-headers").contains(needed), "{needed}");
    }

    // A call from that page: the page may read the status headers.
    let message = prost::Message::encode_to_vec(&mgmt::GetUserByIdRequest { id: "404".into() });
    let resp = app.grpc_web_request(path, &message, app.admin(), Some("https://console.example.com")).await;
    let allow_origin = resp.headers().get("access-control-allow-origin").cloned();
    let expose = resp.headers().get("access-control-expose-headers").cloned();
    let answer = read_answer(resp).await;
    assert_eq!(allow_origin.unwrap(), "https://console.example.com");
    let expose = expose.unwrap();
    for status_header in ["grpc-status", "grpc-message", "grpc-status-details-bin"] {
        assert!(expose.to_str().unwrap().contains(status_header), "{status_header}");
    }
    answer.failure(answer.status()).assert(5, "QUERY-Dfbg2");
}

#[tokio::test]
async fn other_requests_still_reach_the_http_application() {
    let app = TestServer::spawn().await;
    let health = app.http.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let (status, body) = app.json(reqwest::Method::GET, "/management/v1/users/404", None, app.admin()).await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["details"][0]["id"], "QUERY-Dfbg2");
}

/// gRPC needs HTTP/2; a gRPC request over HTTP/1.1 is refused, not served.
#[tokio::test]
async fn plain_grpc_over_http1_is_refused() {
    let app = TestServer::spawn().await;
    let resp = app
        .http
        .post(app.url("/zitadel.management.v1.ManagementService/GetUserByID"))
        .header("content-type", "application/grpc")
        .body(vec![0, 0, 0, 0, 0])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.version(), reqwest::Version::HTTP_11);
    assert_eq!(resp.status(), 400);
}
