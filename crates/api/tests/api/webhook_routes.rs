//! The webhook endpoint routes of the administration API, end to end over
//! the application with the embedded stores.

use std::sync::Arc;

use onboard_domain::ports::Directory;
use onboard_domain::usecases::{Administration, TokenAuthorizer, UserService};
use onboard_domain::{
    CodeIssuer, CodeSecret, Grant, GrantScope, InitCodeConfig, PasswordPolicy, Principal, Role, SystemClock,
};
use onboard_memory::{InMemoryDirectory, InMemoryStore, InMemoryWebhookEndpoints};
use poem::http::Method;
use poem::{Endpoint, Request};
use serde_json::{Value, json};

struct Setup {
    app: poem::endpoint::BoxEndpoint<'static, poem::Response>,
    owner: String,
    viewer: String,
    org: String,
}

async fn setup() -> Setup {
    let directory: Arc<dyn Directory> = Arc::new(InMemoryDirectory::new());
    let authorizer = Arc::new(TokenAuthorizer::new(directory.clone(), Arc::new(SystemClock)));
    let codes = CodeIssuer::new(CodeSecret::new(vec![7; 32]).unwrap(), InitCodeConfig::default());
    let store = Arc::new(InMemoryStore::new());
    let users =
        UserService::new(store.clone(), store, authorizer, Arc::new(SystemClock), codes, PasswordPolicy::default());
    let admin = Administration::new(directory.clone(), Arc::new(SystemClock))
        .with_webhooks(Arc::new(InMemoryWebhookEndpoints::new()));
    let op = Principal::local_operator();
    let org = admin.create_organization(&op, "Acme").await.unwrap();
    let instance = |role| vec![Grant { scope: GrantScope::Instance, role }];
    let owner = admin.issue_token(&op, "owner", &org, instance(Role::IamOwner), None).await.unwrap();
    let viewer = admin.issue_token(&op, "viewer", &org, instance(Role::IamOwnerViewer), None).await.unwrap();
    let app =
        poem::EndpointExt::boxed(poem::EndpointExt::map_to_response(onboard_api::app_with(users, None, Some(admin))));
    Setup { app, owner, viewer, org: org.to_string() }
}

async fn call(s: &Setup, token: &str, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
    let mut req =
        Request::builder().method(method).uri(path.parse().unwrap()).header("authorization", format!("Bearer {token}"));
    let req = match body {
        Some(b) => {
            req = req.header("content-type", "application/json");
            req.body(b.to_string())
        }
        None => req.finish(),
    };
    let resp = s.app.get_response(req).await;
    let status = resp.status().as_u16();
    let text = resp.into_body().into_string().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

#[tokio::test]
async fn endpoints_are_created_listed_disabled_rotated_and_deleted() {
    let s = setup().await;
    let (status, made) = call(
        &s,
        &s.owner,
        Method::POST,
        "/admin/v1/webhooks",
        Some(json!({"orgId": s.org, "url": "https://hooks.example.com/in", "eventTypes": ["email.bounced", "invitation.completed"]})),
    )
    .await;
    assert_eq!(status, 200, "{made}");
    assert_eq!(made["orgId"], s.org);
    assert_eq!(made["url"], "https://hooks.example.com/in");
    assert_eq!(made["eventTypes"], json!(["email.bounced", "invitation.completed"]));
    assert_eq!(made["enabled"], true);
    let secret = made["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"), "{secret}");
    let id = made["id"].as_str().unwrap().to_owned();

    // The secret is shown only once.
    let (status, listed) = call(&s, &s.owner, Method::GET, &format!("/admin/v1/webhooks?orgId={}", s.org), None).await;
    assert_eq!(status, 200);
    assert_eq!(listed["result"].as_array().unwrap().len(), 1);
    assert!(!listed.to_string().contains(&secret[6..]), "{listed}");
    assert!(listed["result"][0].get("secret").is_none());

    let (_, off) = call(&s, &s.owner, Method::POST, &format!("/admin/v1/webhooks/{id}/_disable"), None).await;
    assert_eq!(off["enabled"], false);
    let (_, got) = call(&s, &s.owner, Method::GET, &format!("/admin/v1/webhooks/{id}"), None).await;
    assert_eq!(got["enabled"], false);
    let (_, on) = call(&s, &s.owner, Method::POST, &format!("/admin/v1/webhooks/{id}/_enable"), None).await;
    assert_eq!(on["enabled"], true);

    let (status, rotated) = call(
        &s,
        &s.owner,
        Method::POST,
        &format!("/admin/v1/webhooks/{id}/_rotate_secret"),
        Some(json!({"overlapSeconds": 3600})),
    )
    .await;
    assert_eq!(status, 200, "{rotated}");
    assert!(rotated["secret"].as_str().unwrap().starts_with("whsec_"));
    assert_ne!(rotated["secret"].as_str().unwrap(), secret);
    assert!(rotated["previousSecretUntil"].is_string(), "{rotated}");
    let (status, refused) = call(
        &s,
        &s.owner,
        Method::POST,
        &format!("/admin/v1/webhooks/{id}/_rotate_secret"),
        Some(json!({"overlapSeconds": 604801})),
    )
    .await;
    assert_eq!((status, refused["details"][0]["id"].as_str()), (400, Some("ONBOARD-FIELD-INVALID")), "{refused}");

    let (status, _) = call(&s, &s.owner, Method::DELETE, &format!("/admin/v1/webhooks/{id}"), None).await;
    assert_eq!(status, 200);
    let (status, gone) = call(&s, &s.owner, Method::GET, &format!("/admin/v1/webhooks/{id}"), None).await;
    assert_eq!((status, gone["details"][0]["id"].as_str()), (404, Some("ONBOARD-WEBHOOK-NOT-FOUND")), "{gone}");
}

#[tokio::test]
async fn bad_input_and_non_owners_are_refused() {
    let s = setup().await;
    let create = |url: &str, types: Value| Some(json!({"orgId": s.org, "url": url, "eventTypes": types}));
    for (body, needle) in [
        (create("ftp://x.example.com", json!([])), "url"),
        (create("https://u:p@x.example.com", json!([])), "url"),
        (create("https://x.example.com", json!(["invitation.exploded"])), "eventTypes"),
        (Some(json!({"orgId": "1", "url": "https://x.example.com"})), "Organization"),
    ] {
        let (status, answer) = call(&s, &s.owner, Method::POST, "/admin/v1/webhooks", body).await;
        assert!(matches!(status, 400 | 404), "{answer}");
        assert!(answer["message"].as_str().unwrap().contains(needle), "{needle}: {answer}");
    }
    let (status, denied) = call(&s, &s.viewer, Method::GET, "/admin/v1/webhooks", None).await;
    assert_eq!((status, denied["code"].as_i64()), (403, Some(7)), "{denied}");
    let (status, listed) = call(&s, &s.owner, Method::GET, "/admin/v1/webhooks", None).await;
    assert_eq!((status, listed["result"].as_array().map(Vec::len)), (200, Some(0)), "nothing was made: {listed}");
}
