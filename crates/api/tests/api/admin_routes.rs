//! The administration routes as the application wires them: absent without
//! an [`Administration`], behind the bearer check with one.

use std::sync::Arc;

use onboard_api::errors::{ApiError, Code};
use onboard_domain::ports::{Directory, Unavailable};
use onboard_domain::usecases::{AdminError, Administration, TokenAuthorizer, UserService};
use onboard_domain::{CodeIssuer, CodeSecret, InitCodeConfig, PasswordPolicy, SystemClock};
use onboard_memory::{InMemoryDirectory, InMemoryStore};
use poem::http::Method;
use poem::{Endpoint, Request};
use serde_json::Value;

fn users(directory: Arc<dyn Directory>) -> UserService {
    let authorizer = Arc::new(TokenAuthorizer::new(directory, Arc::new(SystemClock)));
    let codes = CodeIssuer::new(CodeSecret::new(vec![7; 32]).unwrap(), InitCodeConfig::default());
    let store = Arc::new(InMemoryStore::new());
    UserService::new(store.clone(), store, authorizer, Arc::new(SystemClock), codes, PasswordPolicy::default())
}

async fn call(app: &impl Endpoint, method: Method, path: &str) -> (u16, Value) {
    let resp = app.get_response(Request::builder().method(method).uri(path.parse().unwrap()).finish()).await;
    let status = resp.status().as_u16();
    (status, serde_json::from_str(&resp.into_body().into_string().await.unwrap()).unwrap())
}

#[tokio::test]
async fn without_administration_the_routes_are_absent_even_without_a_token() {
    let app = onboard_api::app(users(Arc::new(InMemoryDirectory::new())));
    for (method, path) in [
        (Method::GET, "/admin/v1/orgs"),
        (Method::POST, "/admin/v1/service_accounts"),
        (Method::DELETE, "/admin/v1/service_accounts/1/grants?role=IAM_OWNER"),
        (Method::POST, "/admin/v1/pats/1/_revoke"),
    ] {
        let (status, body) = call(&app, method, path).await;
        assert_eq!((status, body["code"].as_i64()), (404, Some(5)), "{path}: {body}");
        assert_eq!(body["details"][0]["id"], "ONBOARD-ROUTE-NOT-FOUND");
    }
    // The rest of the application is unchanged.
    assert_eq!(call(&app, Method::GET, "/management/v1/users/1").await.0, 401);
}

#[tokio::test]
async fn with_administration_the_routes_want_a_token() {
    let directory: Arc<dyn Directory> = Arc::new(InMemoryDirectory::new());
    let admin = Administration::new(directory.clone(), Arc::new(SystemClock));
    let app = onboard_api::app_with(users(directory), None, Some(admin));
    let (status, body) = call(&app, Method::GET, "/admin/v1/orgs").await;
    assert_eq!((status, body["code"].as_i64()), (401, Some(16)), "{body}");
    assert_eq!(body["details"][0]["id"], "ONBOARD-TOKEN-MISSING");
}

#[test]
fn admin_errors_map_to_the_contract_codes() {
    let down = Unavailable("redis at 10.0.0.1 down".into());
    let cases = [
        (AdminError::UnknownOrganization("1".into()), 404, Code::NotFound, "ONBOARD-ORG-NOT-FOUND"),
        (AdminError::UnknownAccount("1".into()), 404, Code::NotFound, "ONBOARD-ACCOUNT-NOT-FOUND"),
        (AdminError::UnknownToken("1".into()), 404, Code::NotFound, "ONBOARD-TOKEN-NOT-FOUND"),
        (AdminError::Invalid("name: too long".into()), 400, Code::InvalidArgument, "ONBOARD-FIELD-INVALID"),
        (AdminError::Unavailable(down), 503, Code::Unavailable, "ONBOARD-UNAVAILABLE"),
    ];
    for (error, status, code, id) in cases {
        let api = ApiError::from(error);
        assert_eq!((api.status.as_u16(), api.code, api.id), (status, code, id));
        assert!(!api.text.contains("10.0.0.1"), "{}", api.text);
    }
}

#[test]
fn the_document_describes_the_administration_routes() {
    let doc = onboard_api::openapi_yaml();
    for needle in [
        "- name: Administration",
        "/admin/v1/orgs:",
        "/admin/v1/service_accounts/{id}/grants:",
        "/admin/v1/pats/{tokenId}/_revoke:",
        "operationId: AdminService_IssuePat",
        "adminIssuedPat:",
        // The management routes are still there.
        "operationId: ManagementService_AddHumanUser",
    ] {
        assert!(doc.contains(needle), "missing {needle:?}");
    }
}
