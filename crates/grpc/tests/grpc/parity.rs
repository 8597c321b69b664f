//! The JSON and the gRPC side answer the same request with the same details.

use crate::support::{Auth, Failure, TestServer, WIRES, Wire};
use onboard_grpc::pb::zitadel::management::v1 as mgmt;
use onboard_grpc::pb::zitadel::user::v1 as user_pb;
use onboard_grpc::pb::zitadel::v1::ObjectDetails;
use reqwest::Method;
use serde_json::{Value, json};

/// Asserts a JSON error body and a gRPC failure say the same.
#[track_caller]
fn assert_same_error(json: &(u16, Value), grpc: &Failure) {
    let (status, body) = json;
    let detail = grpc.detail.as_ref().expect("a detail");
    assert!(*status >= 400, "{body}");
    assert_eq!(body["code"], grpc.code, "{body} vs {grpc:?}");
    assert_eq!(body["message"], grpc.message, "{body} vs {grpc:?}");
    assert_eq!(body["details"].as_array().map(Vec::len), Some(1), "{body}");
    assert_eq!(body["details"][0]["@type"], grpc.status.as_ref().unwrap().details[0].type_url, "{body}");
    assert_eq!(body["details"][0]["id"], detail.id, "{body} vs {grpc:?}");
    assert_eq!(body["details"][0]["message"], detail.message, "{body} vs {grpc:?}");
}

/// RFC 3339 as the JSON side writes it, from a protobuf timestamp.
fn rfc3339(t: &prost_types::Timestamp) -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(t.seconds) * 1_000_000_000 + i128::from(t.nanos))
        .unwrap()
}

#[track_caller]
fn assert_same_details(json: &Value, grpc: &ObjectDetails) {
    let parse = |v: &Value| {
        time::OffsetDateTime::parse(v.as_str().unwrap(), &time::format_description::well_known::Rfc3339).unwrap()
    };
    assert_eq!(json["sequence"], grpc.sequence.to_string(), "{json}");
    assert_eq!(json["resourceOwner"], grpc.resource_owner, "{json}");
    assert_eq!(parse(&json["creationDate"]), rfc3339(grpc.creation_date.as_ref().unwrap()), "{json}");
    assert_eq!(parse(&json["changeDate"]), rfc3339(grpc.change_date.as_ref().unwrap()), "{json}");
}

#[tokio::test]
async fn errors_carry_the_same_details_on_both_wires() {
    let app = TestServer::spawn().await;
    let viewer = app.token_with(&app.org, onboard_domain::Role::OrgOwnerViewer).await;
    let initial = app.add_user(Wire::Grpc, "initial", app.admin()).await;
    let mut active = crate::support::new_user("active");
    active.initial_password = "a-Good-passw0rd".into();
    active.email.as_mut().unwrap().is_email_verified = true;
    let active: mgmt::AddHumanUserResponse = app.call(Wire::Grpc, "AddHumanUser", active, app.admin()).await.unwrap();

    let resend_path = |id: &str| format!("/management/v1/users/{id}/_resend_initialization");
    let bad_token = Auth { token: Some("not-a-token"), org: None };
    let viewing = Auth { token: Some(&viewer), org: None };
    let elsewhere = Auth { token: Some(&app.token), org: Some("999999") };
    // (JSON body, gRPC request, credentials) for ResendHumanInitialization.
    let resends = [
        (json!({}), active.user_id.clone(), "", app.admin()),
        (json!({}), "404".into(), "", app.admin()),
        (json!({"email": "not-an-address"}), initial.clone(), "not-an-address", app.admin()),
        (json!({}), "1".repeat(201), "", app.admin()),
        (json!({}), initial.clone(), "", bad_token),
        (json!({}), initial.clone(), "", viewing),
        (json!({}), initial.clone(), "", elsewhere),
    ];
    for (body, user_id, email, auth) in resends {
        let json = app.json(Method::POST, &resend_path(&user_id), Some(body), auth).await;
        let req = mgmt::ResendHumanInitializationRequest { user_id, email: email.into() };
        for wire in WIRES {
            let grpc = app
                .call::<_, mgmt::ResendHumanInitializationResponse>(
                    wire,
                    "ResendHumanInitialization",
                    req.clone(),
                    auth,
                )
                .await;
            assert_same_error(&json, &grpc.unwrap_err());
        }
    }

    let json = app.json(Method::GET, "/management/v1/users/404", None, app.admin()).await;
    for wire in WIRES {
        let grpc = app
            .call::<_, mgmt::GetUserByIdResponse>(
                wire,
                "GetUserByID",
                mgmt::GetUserByIdRequest { id: "404".into() },
                app.admin(),
            )
            .await;
        assert_same_error(&json, &grpc.unwrap_err());
    }

    // A taken user name, and a profile without a first name.
    let adds = [
        (
            json!({"userName": "INITIAL", "profile": {"firstName": "J", "lastName": "D"}, "email": {"email": "j@example.com"}}),
            {
                let mut r = crate::support::new_user("INITIAL");
                r.email.as_mut().unwrap().email = "j@example.com".into();
                r
            },
        ),
        (json!({"userName": "nameless", "profile": {"lastName": "D"}, "email": {"email": "j@example.com"}}), {
            let mut r = crate::support::new_user("nameless");
            r.profile.as_mut().unwrap().first_name.clear();
            r
        }),
    ];
    for (body, req) in adds {
        let json = app.json(Method::POST, "/management/v1/users/human", Some(body), app.admin()).await;
        for wire in WIRES {
            let grpc = app.call::<_, mgmt::AddHumanUserResponse>(wire, "AddHumanUser", req.clone(), app.admin()).await;
            assert_same_error(&json, &grpc.unwrap_err());
        }
    }

    // Passwordless registration, which onboard does not offer.
    let body = json!({"userName": "otp", "profile": {"firstName": "J", "lastName": "D"}, "email": {"email": "otp@example.com"}, "requestPasswordlessRegistration": true});
    let json = app.json(Method::POST, "/management/v1/users/human/_import", Some(body), app.admin()).await;
    let req = mgmt::ImportHumanUserRequest {
        user_name: "otp".into(),
        profile: Some(mgmt::import_human_user_request::Profile {
            first_name: "J".into(),
            last_name: "D".into(),
            ..Default::default()
        }),
        email: Some(mgmt::import_human_user_request::Email {
            email: "otp@example.com".into(),
            is_email_verified: false,
        }),
        request_passwordless_registration: true,
        ..Default::default()
    };
    for wire in WIRES {
        let grpc =
            app.call::<_, mgmt::ImportHumanUserResponse>(wire, "ImportHumanUser", req.clone(), app.admin()).await;
        assert_same_error(&json, &grpc.unwrap_err());
    }
}

/// A missing token is refused on both wires with the same code and id. (The
/// JSON side's text for it comes from the HTTP framework's bearer check.)
#[tokio::test]
async fn a_missing_token_is_refused_alike() {
    let app = TestServer::spawn().await;
    let (status, body) = app.json(Method::GET, "/management/v1/users/1", None, Auth::default()).await;
    assert_eq!(status, 401);
    for wire in WIRES {
        let grpc = app
            .call::<_, mgmt::GetUserByIdResponse>(
                wire,
                "GetUserByID",
                mgmt::GetUserByIdRequest { id: "1".into() },
                Auth::default(),
            )
            .await
            .unwrap_err();
        assert_eq!(body["code"], grpc.code);
        assert_eq!(body["message"], grpc.message.as_str());
        assert_eq!(body["details"][0]["id"], grpc.detail.unwrap().id);
    }
}

#[tokio::test]
async fn answers_carry_the_same_details_on_both_wires() {
    let app = TestServer::spawn().await;
    for wire in WIRES {
        let user_id = app.add_user(wire, &format!("jane-{wire:?}").to_lowercase(), app.admin()).await;
        let (status, json) = app.json(Method::GET, &format!("/management/v1/users/{user_id}"), None, app.admin()).await;
        assert_eq!(status, 200, "{json}");
        let got: mgmt::GetUserByIdResponse =
            app.call(wire, "GetUserByID", mgmt::GetUserByIdRequest { id: user_id.clone() }, app.admin()).await.unwrap();
        let user = got.user.unwrap();
        let json = &json["user"];
        assert_eq!(json["id"], user.id);
        assert_eq!(json["userName"], user.user_name);
        assert_eq!(json["state"], "USER_STATE_INITIAL");
        assert_eq!(user.state, user_pb::UserState::Initial as i32);
        assert_eq!(json["loginNames"], json!(user.login_names));
        assert_eq!(json["preferredLoginName"], user.preferred_login_name);
        assert_same_details(&json["details"], user.details.as_ref().unwrap());
        let Some(user_pb::user::Type::Human(human)) = user.r#type else { panic!("a human") };
        let profile = human.profile.unwrap();
        assert_eq!(json["human"]["profile"]["displayName"], profile.display_name);
        assert_eq!(json["human"]["email"]["email"], human.email.unwrap().email);

        // The JSON resend and the gRPC resend advance the same user alike.
        let (_, by_json) = app
            .json(
                Method::POST,
                &format!("/management/v1/users/{user_id}/_resend_initialization"),
                Some(json!({})),
                app.admin(),
            )
            .await;
        let by_grpc: mgmt::ResendHumanInitializationResponse = app
            .call(
                wire,
                "ResendHumanInitialization",
                mgmt::ResendHumanInitializationRequest { user_id, email: String::new() },
                app.admin(),
            )
            .await
            .unwrap();
        let by_grpc = by_grpc.details.unwrap();
        assert_eq!(by_json["details"]["sequence"], "3");
        assert_eq!(by_grpc.sequence, 4);
        assert_eq!(by_json["details"]["resourceOwner"], by_grpc.resource_owner);
        assert_eq!(by_json["details"]["creationDate"], json["details"]["creationDate"]);
    }
}
