//! onboard's HTTP/JSON inbound adapter: the Management API routes, the
//! administration routes, the init page, health probes and the OpenAPI
//! document with its Swagger UI.

mod admin;
mod call;
pub mod dev_mailbox;
pub mod errors;
mod health;
mod limits;
mod management;
pub mod metrics;
pub mod page;
mod proto_json;
mod scalars;
mod schema;
mod user_v2;
pub mod webhook;
pub mod wire;

use onboard_domain::usecases::{Administration, UserService};
use poem::http::StatusCode;
use poem::{Endpoint, EndpointExt, IntoResponse, Route, get, handler};
use poem_openapi::OpenApiService;

pub use admin::{
    AdminApi, BrandingApi, BrandingView, CompletionApi, DeliveryView, WebhookView, WebhookWithSecretView, WebhooksApi,
};
pub use limits::MAX_BODY_BYTES;
pub use management::ManagementApi;
pub use user_v2::UserV2Api;

/// The APIs of the main document: ZITADEL's v1 methods and onboard's own.
/// One list, so the document and the routes cannot disagree.
type MainApis = (ManagementApi, AdminApi, BrandingApi, CompletionApi, WebhooksApi);

fn main_apis() -> MainApis {
    (ManagementApi, AdminApi, BrandingApi, CompletionApi, WebhooksApi)
}

/// The OpenAPI service; its document is the same whatever the deployment.
pub fn openapi_service() -> OpenApiService<MainApis, ()> {
    OpenApiService::new(main_apis(), "onboard Management API", env!("CARGO_PKG_VERSION"))
        .description(
            "The user-initialization methods of ZITADEL's Management API v1, served by onboard, and onboard's own \
         administration of organizations, their branding, completion URL and webhook endpoints, service accounts and tokens (/admin/v1, IAM_OWNER only). \
         Every error answer has the shape {code, message, details}.",
    )
}

/// The OpenAPI document in YAML, as served at `/openapi.yaml` and checked in
/// at `openapi/openapi.yaml`.
pub fn openapi_yaml() -> String {
    openapi_service().spec_yaml()
}

/// The v2 User Service's document: its own, as ZITADEL publishes one per service.
pub fn openapi_v2_service() -> OpenApiService<UserV2Api, ()> {
    OpenApiService::new(UserV2Api, "onboard User Service v2", env!("CARGO_PKG_VERSION")).description(
        "The invitation methods of ZITADEL's zitadel.user.v2.UserService, served by onboard on the same \
         users as the Management API v1 (an invite code is the init code). Every error answer has the shape \
         {code, message, details}. The same methods answer over gRPC, gRPC-Web and Connect at \
         /zitadel.user.v2.UserService/<Method>.",
    )
}

/// The v2 document in YAML, as served at `/openapi/user_service_v2.yaml` and
/// checked in at `openapi/user_service_v2.yaml`.
pub fn openapi_v2_yaml() -> String {
    openapi_v2_service().spec_yaml()
}

/// Where the v2 document is served.
pub const OPENAPI_V2_PATH: &str = "/openapi/user_service_v2.yaml";

#[handler]
fn spec(data: poem::web::Data<&SpecYaml>) -> impl IntoResponse {
    data.0.0.clone().with_content_type("application/yaml; charset=utf-8").with_status(StatusCode::OK)
}

#[handler]
fn spec_v2(data: poem::web::Data<&SpecYamlV2>) -> impl IntoResponse {
    data.0.0.clone().with_content_type("application/yaml; charset=utf-8").with_status(StatusCode::OK)
}

#[derive(Clone)]
struct SpecYaml(String);

#[derive(Clone)]
struct SpecYamlV2(String);

/// The whole HTTP application over `users`, without the SendGrid webhook.
pub fn app(users: UserService) -> impl Endpoint {
    app_with_webhook(users, None)
}

/// The whole HTTP application without administration; `webhook` serves
/// `POST /webhooks/sendgrid` (without it, that route answers 404).
pub fn app_with_webhook(users: UserService, webhook: Option<webhook::SendGridWebhook>) -> impl Endpoint {
    app_with(users, webhook, None)
}

/// The whole HTTP application; `webhook` serves `POST /webhooks/sendgrid` and
/// `admin` the routes under `/admin/v1` (without either, its routes answer 404).
pub fn app_with(
    users: UserService,
    webhook: Option<webhook::SendGridWebhook>,
    admin: Option<Administration>,
) -> impl Endpoint {
    let api = openapi_service();
    let docs = api.swagger_ui();
    let yaml = SpecYaml(api.spec_yaml());
    let yaml_v2 = SpecYamlV2(openapi_v2_yaml());
    // One service routes all of them (poem nests one at "/"); each document is its own.
    let all = OpenApiService::new((main_apis(), UserV2Api), "onboard", env!("CARGO_PKG_VERSION"));
    let mut routes = Route::new().nest("/", all);
    if admin.is_none() {
        // More specific than "/", so it answers before the bearer check.
        routes = routes.nest(admin::PREFIX, admin::absent);
    }
    routes
        .nest("/docs", docs)
        .at("/openapi.yaml", get(spec))
        .at(OPENAPI_V2_PATH, get(spec_v2))
        .at(page::PATH, get(page::show).head(page::look).post(page::submit))
        .at(page::DONE_PATH, get(page::done))
        .at(page::RENEW_PATH, poem::post(page::renew))
        .at(page::STYLE_PATH, get(page::style))
        .at(page::LOGO_PATH, get(page::brand::logo))
        .at(page::BRAND_STYLE_PATH, get(page::brand::style))
        .at("/healthz", get(health::healthz))
        .at("/readyz", get(health::readyz))
        .at("/metrics", get(metrics::serve))
        .at(webhook::PATH, poem::post(webhook::receive))
        .around(limits::limit_body)
        .around(metrics::track)
        .data(users)
        .data(webhook.map(std::sync::Arc::new))
        .data(admin)
        .data(yaml)
        .data(yaml_v2)
        .catch_all_error(errors::catch_all)
}
