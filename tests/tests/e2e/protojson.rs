//! The JSON side reads requests as ZITADEL's gateway does (protojson with
//! unknown fields discarded) on every method onboard serves from ZITADEL's
//! API: both field-name styles, enums by name or number, `null` as unset,
//! unknown fields ignored, any or no `Content-Type`, an empty body as `{}`;
//! and writes answers in protojson's form.

use onboard_tests::{Reply, TestApp};
use reqwest::Method;
use serde_json::{Value, json};

/// A raw request: `body` is sent as is, with `content_type` if given.
async fn raw(app: &TestApp, method: Method, path: &str, content_type: Option<&str>, body: &str) -> Reply {
    let mut req = app.client.request(method, app.url(path)).bearer_auth(&app.token);
    if let Some(ct) = content_type {
        req = req.header("content-type", ct);
    }
    TestApp::reply(req.body(body.to_owned()).send().await.expect("request sent")).await
}

fn unique(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    format!("{prefix}{}", N.fetch_add(1, Ordering::Relaxed))
}

async fn user(app: &TestApp, id: &str) -> Value {
    let r = app.get(&format!("/management/v1/users/{id}")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body["user"].clone()
}

/// Each body, in whatever spelling, makes the same user: checked by reading it back.
#[tokio::test]
async fn create_and_import_read_both_name_styles_enum_forms_nulls_and_unknown_fields() {
    let app = TestApp::spawn().await;
    // (path, body template with NAME, content type)
    let cases: Vec<(&str, &str, Option<&str>)> = vec![
        (
            "/management/v1/users/human",
            r#"{"userName":"NAME","profile":{"firstName":"Ann","lastName":"Lee","gender":"GENDER_FEMALE","preferredLanguage":"de"},"email":{"email":"ann@example.com","isEmailVerified":true}}"#,
            Some("application/json"),
        ),
        (
            "/management/v1/users/human",
            r#"{"user_name":"NAME","profile":{"first_name":"Ann","last_name":"Lee","gender":1,"preferred_language":"de"},"email":{"email":"ann@example.com","is_email_verified":true}}"#,
            None,
        ),
        (
            "/management/v1/users/human",
            r#"{"userName":"NAME","profile":{"firstName":"Ann","lastName":"Lee","nickName":null,"gender":1,"preferredLanguage":"de","unknownField":{"x":[1,2]}},"email":{"email":"ann@example.com","isEmailVerified":true},"phone":null,"initialPassword":null,"extra":true}"#,
            Some("text/plain"),
        ),
        (
            "/management/v1/users/human/_import",
            r#"{"user_name":"NAME","profile":{"firstName":"Ann","last_name":"Lee","gender":"GENDER_FEMALE","preferredLanguage":"de"},"email":{"email":"ann@example.com","is_email_verified":true},"password_change_required":null,"hashed_password":null,"somethingNew":"ignored"}"#,
            Some("application/x-www-form-urlencoded"),
        ),
        (
            "/management/v1/users/human/_import",
            r#"{"userName":"NAME","profile":{"firstName":"Ann","lastName":"Lee","gender":1,"preferredLanguage":"de"},"email":{"email":"ann@example.com","isEmailVerified":true}}"#,
            Some("application/json; charset=utf-8"),
        ),
    ];
    for (path, template, content_type) in cases {
        let name = unique("ann");
        let body = template.replace("NAME", &name);
        let r = raw(&app, Method::POST, path, content_type, &body).await;
        assert_eq!(r.status, 200, "{path} {body}: {}", r.body);
        let id = r.body["userId"].as_str().expect("userId").to_owned();
        let u = user(&app, &id).await;
        assert_eq!(u["userName"], name.as_str(), "{body}");
        let human = &u["human"];
        assert_eq!(human["profile"]["firstName"], "Ann", "{body}");
        assert_eq!(human["profile"]["lastName"], "Lee", "{body}");
        assert_eq!(human["profile"]["gender"], "GENDER_FEMALE", "{body}");
        assert_eq!(human["profile"]["preferredLanguage"], "de", "{body}");
        assert_eq!(human["email"], json!({"email": "ann@example.com", "isEmailVerified": true}), "{body}");
        // No nick name was given: unset fields are omitted, not written empty.
        assert!(human["profile"].get("nickName").is_none(), "{u}");
    }
}

#[tokio::test]
async fn resend_takes_an_empty_body_no_content_type_null_and_both_name_styles() {
    let app = TestApp::spawn().await;
    let id = app.create_user(&unique("bo"), "bo@example.com").await;
    let path = format!("/management/v1/users/{id}/_resend_initialization");
    let bodies: Vec<(Option<&str>, &str)> = vec![
        (None, ""),
        (Some("application/json"), ""),
        (Some("application/json"), "  \n"),
        (None, "{}"),
        (Some("text/plain"), r#"{"email":null}"#),
        (Some("application/json"), r#"{"email":"","unknown":1}"#),
        (None, r#"{"email":"bo2@example.com"}"#),
        // The path's user id wins over one in the body, as in grpc-gateway.
        (None, r#"{"user_id":"nobody","email":"bo3@example.com"}"#),
    ];
    for (ct, body) in bodies {
        let r = raw(&app, Method::POST, &path, ct, body).await;
        assert_eq!(r.status, 200, "{ct:?} {body:?}: {}", r.body);
        assert!(r.body["details"]["sequence"].is_string(), "{}", r.body);
    }
    assert_eq!(user(&app, &id).await["human"]["email"]["email"], "bo3@example.com");
}

#[tokio::test]
async fn answers_are_written_in_protojson_form() {
    let app = TestApp::spawn().await;
    let id = app.create_user(&unique("cy"), "cy@example.com").await;
    let u = user(&app, &id).await;
    assert_eq!(u["state"], "USER_STATE_INITIAL");
    // uint64 as a string; timestamps in RFC 3339 UTC.
    let details = &u["details"];
    assert_eq!(details["sequence"], "2");
    for ts in ["creationDate", "changeDate"] {
        let t = details[ts].as_str().unwrap_or_default();
        assert!(t.ends_with('Z') && t.contains('T'), "{ts}: {t}");
    }
    assert_eq!(details["resourceOwner"], app.org.as_str());
    assert_eq!(u["loginNames"], json!([u["userName"]]));
    // Without a phone, ZITADEL answers an empty one.
    assert_eq!(u["human"]["phone"], json!({}));
    // The default gender is omitted, as every default value is.
    assert!(u["human"]["profile"].get("gender").is_none(), "{u}");
}

#[tokio::test]
async fn bodies_that_are_not_the_message_are_invalid_argument_in_json_terms() {
    let app = TestApp::spawn().await;
    let id = app.create_user(&unique("di"), "di@example.com").await;
    let resend = format!("/management/v1/users/{id}/_resend_initialization");
    let cases = [
        ("/management/v1/users/human", r#"{"userName":5}"#),
        ("/management/v1/users/human", r#"{"profile":{"gender":"GENDER_NOPE"}}"#),
        ("/management/v1/users/human", r#"{"userName":"x""#),
        ("/management/v1/users/human/_import", "[]"),
        ("/management/v1/users/human/_import", r#"{"passwordChangeRequired":"yes"}"#),
        (resend.as_str(), r#"{"email":{}}"#),
        (resend.as_str(), "not json"),
    ];
    for (path, body) in cases {
        let r = raw(&app, Method::POST, path, Some("application/json"), body).await;
        r.assert_error(400, 3, "ONBOARD-REQUEST-INVALID");
        let message = r.body["message"].as_str().unwrap_or_default();
        // JSON's terms only: no Rust or generated type names.
        for internal in ["onboard", "prost", "::", "Request\"", "optional_"] {
            assert!(!message.contains(internal), "{path} {body}: {message}");
        }
    }
}
