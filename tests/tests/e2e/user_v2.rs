//! ZITADEL's v2 User Service on the one port: Connect (JSON and binary
//! protobuf), REST (grpc-gateway's mapping), gRPC and gRPC-Web, all on the
//! users and codes of the v1 API. The invitation end to end: returned and
//! mailed codes, the integrator's link template, resends, wrong, expired and
//! used codes, the password, and every error in each protocol's shape.

use std::time::Duration;

use base64::Engine;
use onboard_contract::pb::zitadel::user::v2 as pb;
use onboard_contract::pb::zitadel::v1::ErrorDetail;
use onboard_grpc::pb::zitadel::user::v2::user_service_client::UserServiceClient;
use onboard_grpc::testing::{self as grpc_web, GrpcWebAnswer};
use onboard_tests::{Reply, TestApp};
use prost::Message;
use reqwest::Method;
use serde_json::{Value, json};

const SERVICE: &str = "/zitadel.user.v2.UserService";
const TEMPLATE: &str = "https://app.example.com/invite?user={{.UserID}}&code={{.Code}}&org={{.OrgID}}";

/// A Connect unary call with JSON: the HTTP status and the body.
pub async fn connect(app: &TestApp, method: &str, token: Option<&str>, body: Value) -> Reply {
    let mut req = app
        .client
        .post(app.url(&format!("{SERVICE}/{method}")))
        .header("content-type", "application/json")
        .header("connect-protocol-version", "1")
        .body(body.to_string());
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    TestApp::reply(req.send().await.expect("request sent")).await
}

/// Asserts Connect's error body: the code's name, "<text> (<id>)", and the
/// `zitadel.v1.ErrorDetail` in `details` (binary, base64) saying the same.
#[track_caller]
pub fn assert_connect_error(reply: &Reply, status: u16, code: &str, id: &str) {
    assert_eq!(reply.status.as_u16(), status, "{}", reply.body);
    assert_eq!(reply.body["code"], code, "{}", reply.body);
    let detail = &reply.body["details"][0];
    assert_eq!(detail["type"], "zitadel.v1.ErrorDetail", "{}", reply.body);
    let value = base64::engine::general_purpose::STANDARD_NO_PAD.decode(detail["value"].as_str().unwrap()).unwrap();
    let decoded = ErrorDetail::decode(value.as_slice()).unwrap();
    assert_eq!(decoded.id, id, "{}", reply.body);
    assert_eq!(reply.body["message"], format!("{} ({id})", decoded.message), "{}", reply.body);
}

fn unique(prefix: &str) -> String {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    format!("{prefix}-{}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed))
}

/// An AddHumanUser body for a new user in `org`, its email as `verification` says.
fn new_user(org: &str, email: &str, verification: Value) -> Value {
    let mut email_part = json!({"email": email});
    if let Value::Object(v) = verification {
        email_part.as_object_mut().unwrap().extend(v);
    }
    json!({
        "organization": {"orgId": org},
        "profile": {"givenName": "Vera", "familyName": "Two"},
        "email": email_part,
    })
}

#[tokio::test]
async fn connect_json_runs_a_returned_invitation_to_an_active_user() {
    let app = TestApp::spawn().await;
    let t = Some(app.token.as_str());
    let email = format!("{}@example.com", unique("returned"));
    let created = connect(&app, "AddHumanUser", t, new_user(&app.org, &email, json!({"returnCode": {}}))).await;
    assert_eq!(created.status, 200, "{}", created.body);
    let id = created.body["userId"].as_str().unwrap().to_owned();
    assert_eq!(created.body["details"]["resourceOwner"], app.org);
    let email_code = created.body["emailCode"].as_str().expect("returnCode returns the code").to_owned();

    let got = connect(&app, "GetUserByID", t, json!({"userId": id})).await;
    assert_eq!(got.status, 200, "{}", got.body);
    let user = &got.body["user"];
    assert_eq!(user["state"], "USER_STATE_INITIAL");
    assert_eq!(user["username"], email.as_str(), "the user name defaults to the address");
    assert_eq!(user["human"]["email"]["isVerified"], Value::Null);
    assert_eq!(user["human"]["profile"]["givenName"], "Vera");

    // A new returned code replaces the first; a returned code is never resent.
    let invite = connect(&app, "CreateInviteCode", t, json!({"userId": id, "returnCode": {}})).await;
    assert_eq!(invite.status, 200, "{}", invite.body);
    let code = invite.body["inviteCode"].as_str().unwrap().to_owned();
    let resend = connect(&app, "ResendInviteCode", t, json!({"userId": id})).await;
    assert_connect_error(&resend, 400, "failed_precondition", "COMMAND-Wr3gq");

    let verify = |code: &str| json!({"userId": id, "verificationCode": code});
    if email_code != code {
        let stale = connect(&app, "VerifyInviteCode", t, verify(&email_code)).await;
        assert_connect_error(&stale, 400, "invalid_argument", "COMMAND-Wgn4q");
    }
    let wrong = connect(&app, "VerifyInviteCode", t, verify("WRONG1")).await;
    assert_connect_error(&wrong, 400, "invalid_argument", "COMMAND-Wgn4q");
    let ok = connect(&app, "VerifyInviteCode", t, verify(&code)).await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    let again = connect(&app, "VerifyInviteCode", t, verify(&code)).await;
    assert_connect_error(&again, 400, "failed_precondition", "ONBOARD-INVITE-CODE-USED");

    // Verified, still without a password: Initial until SetPassword.
    let got = connect(&app, "GetUserByID", t, json!({"userId": id})).await;
    assert_eq!(got.body["user"]["state"], "USER_STATE_INITIAL");
    assert_eq!(got.body["user"]["human"]["email"]["isVerified"], true);
    let weak = connect(&app, "SetPassword", t, json!({"userId": id, "newPassword": {"password": "short"}})).await;
    assert_connect_error(&weak, 400, "invalid_argument", "COMMA-HuJf6");
    let set = json!({"userId": id, "newPassword": {"password": "Secret-passw0rd!", "changeRequired": false}});
    let set = connect(&app, "SetPassword", t, set).await;
    assert_eq!(set.status, 200, "{}", set.body);
    let got = connect(&app, "GetUserByID", t, json!({"userId": id})).await;
    assert_eq!(got.body["user"]["state"], "USER_STATE_ACTIVE", "{}", got.body);
    assert_eq!(got.body["user"]["human"]["passwordChangeRequired"], Value::Null);
    let late = connect(&app, "CreateInviteCode", t, json!({"userId": id, "returnCode": {}})).await;
    assert_connect_error(&late, 400, "failed_precondition", "COMMAND-EF34g");

    // Nothing was ever mailed for a returned code.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(app.mails().iter().all(|m| m.to != email), "a returned code was mailed");
}

#[tokio::test]
async fn connect_refuses_in_its_own_shape() {
    let app = TestApp::spawn().await;
    let t = Some(app.token.as_str());
    let none = connect(&app, "GetUserByID", None, json!({"userId": "1"})).await;
    assert_connect_error(&none, 401, "unauthenticated", "ONBOARD-TOKEN-MISSING");
    let missing = connect(&app, "GetUserByID", t, json!({"userId": "404404"})).await;
    assert_connect_error(&missing, 404, "not_found", "QUERY-Dfbg2");
    let unknown = connect(&app, "CreateInviteCode", t, json!({"userId": "404404", "returnCode": {}})).await;
    assert_connect_error(&unknown, 400, "failed_precondition", "COMMAND-Wgvn4");
    let no_id = connect(&app, "CreateInviteCode", t, json!({"returnCode": {}})).await;
    assert_connect_error(&no_id, 400, "invalid_argument", "COMMAND-4jio3");
    let verify = connect(&app, "VerifyInviteCode", t, json!({"userId": "404404", "verificationCode": "X"})).await;
    assert_connect_error(&verify, 400, "failed_precondition", "COMMAND-F5g2h");
    let bad_json = app
        .client
        .post(app.url(&format!("{SERVICE}/GetUserByID")))
        .header("content-type", "application/json")
        .bearer_auth(&app.token)
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_connect_error(&TestApp::reply(bad_json).await, 400, "invalid_argument", "ONBOARD-REQUEST-INVALID");
    let nowhere = connect(&app, "NoSuchMethod", t, json!({})).await;
    assert_connect_error(&nowhere, 404, "unimplemented", "ONBOARD-ROUTE-NOT-FOUND");
    let template = json!({"sendCode": {"urlTemplate": "https://app.example.com/{{.Password}}"}});
    let bad = connect(&app, "AddHumanUser", t, new_user(&app.org, "t@example.com", template)).await;
    assert_connect_error(&bad, 400, "invalid_argument", "DOMAIN-oGh5e");
    let relative = json!({"sendCode": {"urlTemplate": "/invite?code={{.Code}}"}});
    let bad = connect(&app, "AddHumanUser", t, new_user(&app.org, "t@example.com", relative)).await;
    assert_connect_error(&bad, 400, "invalid_argument", "DOMAIN-oGh5e");
}

#[tokio::test]
async fn a_template_link_is_mailed_and_resends_keep_it_over_rest() {
    let app = TestApp::spawn().await;
    let email = format!("{}@example.com", unique("templated"));
    // REST: 201 on create, the plain mailed invitation first.
    let body = json!({"profile": {"givenName": "Tem", "familyName": "Plate"}, "email": {"email": email}});
    let created = app.post("/v2/users/human", body).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.body["userId"].as_str().unwrap().to_owned();
    assert!(created.body.get("emailCode").is_none());
    let first = app.wait_for_mails(&email, 1).await;
    assert!(first[0].link.contains("/ui/login/user/init?"), "{}", first[0].link);

    let invite = json!({"sendCode": {"urlTemplate": TEMPLATE, "applicationName": "Example Shop"}});
    let r = app.post(&format!("/v2/users/{id}/invite_code"), invite).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.get("inviteCode").is_none(), "a mailed code is not returned: {}", r.body);
    let mails = app.wait_for_mails(&email, 2).await;
    let second = &mails[1];
    let expected = format!("https://app.example.com/invite?user={id}&code={}&org={}", second.code, app.org);
    assert_eq!(second.link, expected);
    assert!(second.text.contains("created for you to use Example Shop."), "{}", second.text);
    assert!(!first[0].text.contains("to use"), "{}", first[0].text);

    // The resend mails a new code with the same template; the earlier one stops working.
    let r = app.post(&format!("/v2/users/{id}/invite_code/resend"), json!({})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let mails = app.wait_for_mails(&email, 3).await;
    let third = &mails[2];
    assert_eq!(third.link, format!("https://app.example.com/invite?user={id}&code={}&org={}", third.code, app.org));
    assert!(third.text.contains("to use Example Shop."), "the resend keeps the application name: {}", third.text);
    let verify = |code: &str| json!({"verificationCode": code});
    let stale = app.post(&format!("/v2/users/{id}/invite_code/verify"), verify(&second.code)).await;
    stale.assert_error(400, 3, "COMMAND-Wgn4q");
    let ok = app.post(&format!("/v2/users/{id}/invite_code/verify"), verify(&third.code)).await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    let set =
        app.post(&format!("/v2/users/{id}/password"), json!({"newPassword": {"password": "Secret-passw0rd!"}})).await;
    assert_eq!(set.status, 200, "{}", set.body);
    let got = app.get(&format!("/v2/users/{id}")).await;
    assert_eq!(got.status, 200, "{}", got.body);
    assert_eq!(got.body["user"]["state"], "USER_STATE_ACTIVE");
    // The same user through v1: one model.
    let v1 = app.get(&format!("/management/v1/users/{id}")).await;
    assert_eq!(v1.body["user"]["state"], "USER_STATE_ACTIVE");
    assert_eq!(v1.body["user"]["human"]["email"]["isEmailVerified"], true);
    let missing = app.get("/v2/users/404404").await;
    missing.assert_error(404, 5, "QUERY-Dfbg2");
}

#[tokio::test]
async fn expired_codes_and_foreign_origins_are_refused() {
    let app = TestApp::spawn_with(|c| {
        c.code_lifetime = Duration::from_secs(1);
        c.invite_url_origins = Some(vec!["https://app.example.com".into()]);
    })
    .await;
    let t = Some(app.token.as_str());
    let email = format!("{}@example.com", unique("expiring"));
    let created = connect(&app, "AddHumanUser", t, new_user(&app.org, &email, json!({"returnCode": {}}))).await;
    let id = created.body["userId"].as_str().unwrap().to_owned();
    let code = created.body["emailCode"].as_str().unwrap().to_owned();
    tokio::time::sleep(Duration::from_millis(1300)).await;
    let late = connect(&app, "VerifyInviteCode", t, json!({"userId": id, "verificationCode": code})).await;
    assert_connect_error(&late, 400, "failed_precondition", "CODE-QvUQ4P");

    let foreign = json!({"userId": id, "sendCode": {"urlTemplate": "https://evil.example.net/i?c={{.Code}}"}});
    let r = connect(&app, "CreateInviteCode", t, foreign).await;
    assert_connect_error(&r, 400, "invalid_argument", "ONBOARD-URL-ORIGIN-NOT-ALLOWED");
    let allowed = json!({"userId": id, "sendCode": {"urlTemplate": TEMPLATE}});
    let r = connect(&app, "CreateInviteCode", t, allowed).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let mails = app.wait_for_mails(&email, 1).await;
    assert!(mails[0].link.starts_with("https://app.example.com/invite?"), "{}", mails[0].link);
}

/// A Connect call with binary protobuf.
async fn connect_proto<T: Message + Default>(app: &TestApp, method: &str, message: &impl Message) -> T {
    let resp = app
        .client
        .post(app.url(&format!("{SERVICE}/{method}")))
        .header("content-type", "application/proto")
        .bearer_auth(&app.token)
        .body(message.encode_to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "application/proto");
    T::decode(resp.bytes().await.unwrap()).unwrap()
}

/// `message` as a gRPC request with the admin's token.
fn auth<T>(app: &TestApp, message: T) -> tonic::Request<T> {
    let mut r = tonic::Request::new(message);
    r.metadata_mut().insert("authorization", format!("Bearer {}", app.token).parse().unwrap());
    r
}

/// A gRPC-Web call: the answer's status and its message bytes.
async fn grpc_web_call(app: &TestApp, method: &str, message: &impl Message) -> GrpcWebAnswer {
    let resp = app
        .client
        .post(app.url(&format!("{SERVICE}/{method}")))
        .header("content-type", grpc_web::CONTENT_TYPE)
        .header("x-grpc-web", "1")
        .bearer_auth(&app.token)
        .body(grpc_web::frame(&message.encode_to_vec()))
        .send()
        .await
        .unwrap();
    let (status, headers) = (resp.status().as_u16(), resp.headers().clone());
    GrpcWebAnswer::parse(status, headers, &resp.bytes().await.unwrap())
}

#[tokio::test]
async fn grpc_grpc_web_and_connect_proto_serve_the_same_users() {
    let app = TestApp::spawn().await;
    let email = format!("{}@example.com", unique("wire"));
    let add = pb::AddHumanUserRequest {
        profile: Some(pb::SetHumanProfile {
            given_name: "Wire".into(),
            family_name: "Format".into(),
            ..Default::default()
        }),
        email: Some(pb::SetHumanEmail {
            email: email.clone(),
            verification: Some(pb::set_human_email::Verification::ReturnCode(pb::ReturnEmailVerificationCode {})),
        }),
        ..Default::default()
    };
    let created: pb::AddHumanUserResponse = connect_proto(&app, "AddHumanUser", &add).await;
    assert!(created.email_code.is_some());
    let id = created.user_id.clone();

    // gRPC over HTTP/2, with tonic's generated client.
    let channel = tonic::transport::Channel::from_shared(app.base.clone()).unwrap().connect().await.unwrap();
    let mut client = UserServiceClient::new(channel);
    let invite = pb::CreateInviteCodeRequest {
        user_id: id.clone(),
        verification: Some(pb::create_invite_code_request::Verification::ReturnCode(pb::ReturnInviteCode {})),
    };
    let code = client.create_invite_code(auth(&app, invite)).await.unwrap().into_inner().invite_code.unwrap();
    let wrong = pb::VerifyInviteCodeRequest { user_id: id.clone(), verification_code: "WRONG1".into() };
    let status = client.verify_invite_code(auth(&app, wrong)).await.unwrap_err();
    let failure = grpc_web::Failure::from_parts(status.code() as i32, status.message().to_owned(), status.details());
    failure.assert(3, "COMMAND-Wgn4q");

    // gRPC-Web: the right code, then the state as each protocol reads it.
    let right = pb::VerifyInviteCodeRequest { user_id: id.clone(), verification_code: code };
    let answer = grpc_web_call(&app, "VerifyInviteCode", &right).await;
    assert_eq!(answer.status(), 0);
    let unknown = pb::GetUserByIdRequest { user_id: "404404".into() };
    grpc_web_call(&app, "GetUserByID", &unknown).await.failure(5).assert(5, "QUERY-Dfbg2");
    let get = pb::GetUserByIdRequest { user_id: id.clone() };
    let answer = grpc_web_call(&app, "GetUserByID", &get).await;
    let user = pb::GetUserByIdResponse::decode(answer.message().unwrap()).unwrap().user.unwrap();
    assert_eq!(user.state, pb::UserState::Initial as i32);
    assert_eq!(user.state, 5, "v2's number for Initial");
    let set = pb::SetPasswordRequest {
        user_id: id.clone(),
        new_password: Some(pb::Password { password: "Secret-passw0rd!".into(), change_required: true }),
        verification: None,
    };
    client.set_password(auth(&app, set)).await.unwrap();
    let got: pb::GetUserByIdResponse = connect_proto(&app, "GetUserByID", &get).await;
    let user = got.user.unwrap();
    assert_eq!(user.state, pb::UserState::Active as i32);
    let Some(pb::user::Type::Human(human)) = user.r#type else { panic!("a human") };
    assert!(human.password_change_required);
    assert!(human.email.unwrap().is_verified);
}

#[tokio::test]
async fn created_by_v2_resent_by_v1_and_completed_on_the_page() {
    let app = TestApp::spawn().await;
    let t = Some(app.token.as_str());
    let email = format!("{}@example.com", unique("v2-then-v1"));
    let body = new_user(&app.org, &email, json!({"sendCode": {"urlTemplate": TEMPLATE}}));
    let created = connect(&app, "AddHumanUser", t, body).await;
    let id = created.body["userId"].as_str().unwrap().to_owned();
    let templated = app.wait_for_mails(&email, 1).await.remove(0);
    assert!(templated.link.starts_with("https://app.example.com/invite?"), "{}", templated.link);

    // v1's resend mails onboard's own link (its page), and replaces the v2 code.
    let resent = app.post(&format!("/management/v1/users/{id}/_resend_initialization"), json!({})).await;
    assert_eq!(resent.status, 200, "{}", resent.body);
    let mail = app.wait_for_mails(&email, 2).await.remove(1);
    assert!(mail.link.contains("/ui/login/user/init?"), "{}", mail.link);
    let (status, html) =
        onboard_tests::submit_init_form(&app, &mail.link, &mail.code, "A-good-passw0rd", "A-good-passw0rd").await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("is ready"), "{html}");
    // The newest code carried onboard's own link: no application to return to.
    assert!(!html.contains("http-equiv") && !html.contains("app.example.com"), "{html}");

    let got = connect(&app, "GetUserByID", t, json!({"userId": id})).await;
    assert_eq!(got.body["user"]["state"], "USER_STATE_ACTIVE", "{}", got.body);
    assert_eq!(got.body["user"]["human"]["email"]["isVerified"], true);
    let verify = json!({"userId": id, "verificationCode": templated.code});
    let late = connect(&app, "VerifyInviteCode", t, verify).await;
    assert_connect_error(&late, 400, "failed_precondition", "COMMAND-EF34g");
}

#[tokio::test]
async fn created_by_v1_invited_by_v2_proven_by_v2_or_on_the_page() {
    let app = TestApp::spawn().await;
    let t = Some(app.token.as_str());
    // Proven over v2, then the password over v2.
    let first = app.create_user(&unique("v1-then-v2"), &format!("{}@example.com", unique("v1-then-v2"))).await;
    let invite = connect(&app, "CreateInviteCode", t, json!({"userId": first, "returnCode": {}})).await;
    let code = invite.body["inviteCode"].as_str().unwrap().to_owned();
    let ok = connect(&app, "VerifyInviteCode", t, json!({"userId": first, "verificationCode": code})).await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    let set = json!({"userId": first, "newPassword": {"password": "Secret-passw0rd!"}});
    assert_eq!(connect(&app, "SetPassword", t, set).await.status, 200);
    let v1 = app.get(&format!("/management/v1/users/{first}")).await;
    assert_eq!(v1.body["user"]["state"], "USER_STATE_ACTIVE", "{}", v1.body);

    // A code returned by v2 works on the page too (one live code, whichever API made it).
    let email = format!("{}@example.com", unique("v1-page"));
    let second = app.create_user(&unique("v1-page"), &email).await;
    let mailed = app.wait_for_mails(&email, 1).await.remove(0);
    let invite = connect(&app, "CreateInviteCode", t, json!({"userId": second, "returnCode": {}})).await;
    let code = invite.body["inviteCode"].as_str().unwrap().to_owned();
    let page = format!("/ui/login/user/init?userID={second}&orgID={}", app.org);
    // The mailed code was replaced by the returned one.
    let (status, _) =
        onboard_tests::submit_init_form(&app, &page, &mailed.code, "A-good-passw0rd", "A-good-passw0rd").await;
    assert_eq!(status, 400);
    let (status, html) =
        onboard_tests::submit_init_form(&app, &page, &code, "A-good-passw0rd", "A-good-passw0rd").await;
    assert_eq!(status, 200, "{html}");
    let got = connect(&app, "GetUserByID", t, json!({"userId": second})).await;
    assert_eq!(got.body["user"]["state"], "USER_STATE_ACTIVE", "{}", got.body);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(app.mails().iter().filter(|m| m.to == email).count(), 1, "the returned code was not mailed");
}

#[tokio::test]
async fn list_initial_users_and_delete_one() {
    let app = TestApp::spawn().await;
    let t = Some(app.token.as_str());
    let mut ids = Vec::new();
    for i in 0..3 {
        let email = format!("{}@example.com", unique(&format!("listed{i}")));
        let created = connect(&app, "AddHumanUser", t, new_user(&app.org, &email, json!({"returnCode": {}}))).await;
        ids.push(created.body["userId"].as_str().unwrap().to_owned());
    }
    // One of them finishes: it leaves the Initial users.
    let code = connect(&app, "CreateInviteCode", t, json!({"userId": ids[0], "returnCode": {}})).await;
    let code = code.body["inviteCode"].as_str().unwrap().to_owned();
    connect(&app, "VerifyInviteCode", t, json!({"userId": ids[0], "verificationCode": code})).await;
    let set = json!({"userId": ids[0], "newPassword": {"password": "Secret-passw0rd!"}});
    assert_eq!(connect(&app, "SetPassword", t, set).await.status, 200);

    let initial = json!({"queries": [{"stateQuery": {"state": "USER_STATE_INITIAL"}}], "query": {"asc": true}});
    let listed = connect(&app, "ListUsers", t, initial.clone()).await;
    assert_eq!(listed.status, 200, "{}", listed.body);
    let found: Vec<&str> =
        listed.body["result"].as_array().unwrap().iter().map(|u| u["userId"].as_str().unwrap()).collect();
    assert_eq!(found, [ids[1].as_str(), ids[2].as_str()], "Initial users, oldest first: {}", listed.body);
    assert_eq!(listed.body["details"]["totalResult"], "2");
    assert!(listed.body["result"].as_array().unwrap().iter().all(|u| u["state"] == "USER_STATE_INITIAL"));

    // REST: DELETE /v2/users/{id}; the user is gone everywhere, its code dead.
    let deleted = app.call(Method::DELETE, &format!("/v2/users/{}", ids[1]), Some(&app.token), None, None).await;
    assert_eq!(deleted.status, 200, "{}", deleted.body);
    assert_eq!(deleted.body["details"]["resourceOwner"], app.org);
    let again = app.call(Method::DELETE, &format!("/v2/users/{}", ids[1]), Some(&app.token), None, None).await;
    again.assert_error(404, 5, "COMMAND-bd4ir1mblj");
    let gone = connect(&app, "GetUserByID", t, json!({"userId": ids[1]})).await;
    assert_connect_error(&gone, 404, "not_found", "QUERY-Dfbg2");
    let listed = app.post("/v2/users", initial).await;
    assert_eq!(listed.status, 200, "{}", listed.body);
    assert_eq!(listed.body["details"]["totalResult"], "1", "{}", listed.body);
    assert_eq!(listed.body["result"][0]["userId"], ids[2].as_str());

    // A limit above v2's maximum, and a deletion by a viewer.
    let big = connect(&app, "ListUsers", t, json!({"query": {"limit": 1001}})).await;
    assert_connect_error(&big, 400, "invalid_argument", "ONBOARD-LIST-LIMIT-EXCEEDED");
    let viewer = app.token_with(&app.org, onboard_domain::Role::OrgOwnerViewer, &app.org).await;
    let denied = connect(&app, "DeleteUser", Some(&viewer), json!({"userId": ids[2]})).await;
    assert_connect_error(&denied, 403, "permission_denied", "AUTH-5mWD2");
    let no_id = connect(&app, "DeleteUser", t, json!({})).await;
    assert_connect_error(&no_id, 400, "invalid_argument", "COMMAND-vaipl7s13l");
}

#[tokio::test]
async fn idempotent_retries_never_keep_a_returned_code() {
    let app = TestApp::spawn().await;
    let send = |method: &'static str, key: &'static str, body: Value| {
        let req = app
            .client
            .post(app.url(&format!("{SERVICE}/{method}")))
            .header("content-type", "application/json")
            .header("idempotency-key", key)
            .bearer_auth(&app.token)
            .body(body.to_string());
        async move {
            let resp = req.send().await.unwrap();
            let replayed = resp.headers().get("idempotent-replayed").is_some();
            (replayed, TestApp::reply(resp).await)
        }
    };
    let email = format!("{}@example.com", unique("idempotent"));
    let body = new_user(&app.org, &email, json!({"returnCode": {}}));
    let (replayed, first) = send("AddHumanUser", "v2-add-1", body.clone()).await;
    assert!(!replayed);
    assert!(first.body["emailCode"].is_string(), "{}", first.body);
    let (replayed, again) = send("AddHumanUser", "v2-add-1", body).await;
    assert!(replayed, "{}", again.body);
    assert_eq!(again.body["userId"], first.body["userId"]);
    assert!(again.body.get("emailCode").is_none(), "a replay keeps no code: {}", again.body);

    // CreateInviteCode with returnCode is not replayed: each call makes the code that works.
    let id = first.body["userId"].as_str().unwrap();
    let invite = json!({"userId": id, "returnCode": {}});
    let (_, one) = send("CreateInviteCode", "v2-invite-1", invite.clone()).await;
    let (replayed, two) = send("CreateInviteCode", "v2-invite-1", invite).await;
    assert!(!replayed);
    let (one, two) = (one.body["inviteCode"].as_str().unwrap(), two.body["inviteCode"].as_str().unwrap());
    let verify = |code: &str| json!({"userId": id, "verificationCode": code});
    if one != two {
        let stale = connect(&app, "VerifyInviteCode", Some(&app.token), verify(one)).await;
        assert_connect_error(&stale, 400, "invalid_argument", "COMMAND-Wgn4q");
    }
    assert_eq!(connect(&app, "VerifyInviteCode", Some(&app.token), verify(two)).await.status, 200);
}

#[tokio::test]
async fn browsers_may_call_the_v2_service_from_any_origin() {
    let app = TestApp::spawn().await;
    let preflight = app
        .client
        .request(reqwest::Method::OPTIONS, app.url(&format!("{SERVICE}/GetUserByID")))
        .header("origin", "https://app.example.com")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "authorization, content-type, connect-protocol-version")
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), 204);
    let allowed = preflight.headers()["access-control-allow-headers"].to_str().unwrap().to_owned();
    for header in ["authorization", "content-type", "connect-protocol-version", "x-grpc-web"] {
        assert!(allowed.contains(header), "{allowed}");
    }
    let call = app
        .client
        .post(app.url(&format!("{SERVICE}/GetUserByID")))
        .header("origin", "https://app.example.com")
        .header("content-type", "application/json")
        .bearer_auth(&app.token)
        .body(json!({"userId": "404404"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(call.headers()["access-control-allow-origin"], "https://app.example.com");
    assert_eq!(call.status(), 404);
}

#[tokio::test]
async fn on_redis_a_template_outlives_snapshots_and_listing_works_across_nodes() {
    use onboard_redis::RedisTarget;
    use onboard_redis::testing::RedisServer;
    let redis = RedisServer::start();
    let a = TestApp::spawn_with(onboard_tests::on_redis(RedisTarget::Url(redis.url()))).await;
    let b = a.spawn_peer().await;
    let email = format!("{}@example.com", unique("redis-v2"));
    let body = new_user(&a.org, &email, json!({"sendCode": {"urlTemplate": TEMPLATE}}));
    let created = connect(&a, "AddHumanUser", Some(&a.token), body).await;
    let id = created.body["userId"].as_str().unwrap().to_owned();
    // Resends through both nodes take the log past two snapshot intervals (16 events each).
    let mut sequence = 0;
    for i in 0..60 {
        let node = if i % 2 == 0 { &a } else { &b };
        let r = connect(node, "ResendInviteCode", Some(&a.token), json!({"userId": id})).await;
        assert_eq!(r.status, 200, "{}", r.body);
        sequence = r.body["details"]["sequence"].as_str().unwrap().parse::<u64>().unwrap();
        if sequence > 34 {
            break;
        }
    }
    assert!(sequence > 34, "{sequence}");
    // The last resend's email still carries the integrator's link: the template outlived the snapshots.
    let resp = b
        .client
        .post(b.url(&format!("/v2/users/{id}/invite_code/resend")))
        .bearer_auth(&a.token)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let notification = resp.headers()["x-onboard-notification-id"].to_str().unwrap().to_owned();
    let mut last = None;
    for _ in 0..300 {
        // Either node's dispatcher may have mailed it, into its own folder.
        last = a.mails().into_iter().chain(b.mails()).find(|m| m.notification_id == notification);
        if last.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let last = last.expect("the last resend's email");
    assert_eq!(last.link, format!("https://app.example.com/invite?user={id}&code={}&org={}", last.code, a.org));
    let ok =
        connect(&a, "VerifyInviteCode", Some(&a.token), json!({"userId": id, "verificationCode": last.code})).await;
    assert_eq!(ok.status, 200, "{}", ok.body);

    let initial =
        json!({"queries": [{"stateQuery": {"state": "USER_STATE_INITIAL"}}, {"inUserIdsQuery": {"userIds": [id]}}]});
    let listed = connect(&b, "ListUsers", Some(&a.token), initial).await;
    assert_eq!(listed.status, 200, "{}", listed.body);
    assert_eq!(listed.body["result"][0]["userId"], id.as_str());
    let deleted = connect(&a, "DeleteUser", Some(&a.token), json!({"userId": id})).await;
    assert_eq!(deleted.status, 200, "{}", deleted.body);
    let gone = connect(&b, "GetUserByID", Some(&a.token), json!({"userId": id})).await;
    assert_connect_error(&gone, 404, "not_found", "QUERY-Dfbg2");
}

#[tokio::test]
async fn a_code_mailed_with_a_template_returns_the_user_to_the_templates_origin() {
    let app = TestApp::spawn().await;
    let t = Some(app.token.as_str());
    let email = format!("{}@example.com", unique("v2-return"));
    let body = new_user(&app.org, &email, json!({"sendCode": {"urlTemplate": TEMPLATE}}));
    let id = connect(&app, "AddHumanUser", t, body).await.body["userId"].as_str().unwrap().to_owned();
    let mail = app.wait_for_mails(&email, 1).await.remove(0);
    // The user lands on onboard's page with the code (a link the application forwards, say).
    let link = format!("/ui/login/user/init?userID={id}&code={}&orgID={}", mail.code, app.org);
    let (status, html) =
        onboard_tests::submit_init_form(&app, &link, &mail.code, "A-good-passw0rd", "A-good-passw0rd").await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("<meta http-equiv=\"refresh\" content=\"5;url=https://app.example.com/\">"), "{html}");
    assert!(html.contains("href=\"https://app.example.com/\">Back to the application</a>"), "{html}");
    // The organization's own completion URL wins over the template's origin.
    let path = format!("/admin/v1/orgs/{}/completion_url", app.org);
    let r = app
        .call(reqwest::Method::PUT, &path, Some(&app.token), None, Some(json!({"url": "https://portal.example.org/"})))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let done = onboard_tests::PageSession::new(&app)
        .open(&format!("/ui/login/user/init/done?userID={id}&orgID={}", app.org))
        .await
        .html;
    assert!(done.contains("url=https://portal.example.org/") && !done.contains("app.example.com"), "{done}");
    app.stop().await;
}
