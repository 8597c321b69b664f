//! Every method, every error path and the authorization cases, over gRPC
//! (HTTP/2) and gRPC-Web (HTTP/1.1) alike.

use crate::support::{Auth, TestServer, WIRES, new_user};
use onboard_domain::Role;
use onboard_grpc::pb::zitadel::management::v1 as mgmt;
use onboard_grpc::pb::zitadel::user::v1 as user_pb;

type Resend = mgmt::ResendHumanInitializationResponse;
type Got = mgmt::GetUserByIdResponse;
type Added = mgmt::AddHumanUserResponse;
type Imported = mgmt::ImportHumanUserResponse;

fn resend(user_id: &str, email: &str) -> mgmt::ResendHumanInitializationRequest {
    mgmt::ResendHumanInitializationRequest { user_id: user_id.into(), email: email.into() }
}

fn get(id: &str) -> mgmt::GetUserByIdRequest {
    mgmt::GetUserByIdRequest { id: id.into() }
}

/// An Active user: a password and a verified email.
fn active_user(name: &str) -> mgmt::AddHumanUserRequest {
    let mut r = new_user(name);
    r.email.as_mut().unwrap().is_email_verified = true;
    r.initial_password = "a-Good-passw0rd".into();
    r
}

fn import(name: &str) -> mgmt::ImportHumanUserRequest {
    mgmt::ImportHumanUserRequest {
        user_name: name.into(),
        profile: Some(mgmt::import_human_user_request::Profile {
            first_name: "Max".into(),
            last_name: "Muster".into(),
            preferred_language: "de".into(),
            gender: user_pb::Gender::Male.into(),
            ..Default::default()
        }),
        email: Some(mgmt::import_human_user_request::Email {
            email: format!("{name}@example.com"),
            is_email_verified: true,
        }),
        phone: Some(mgmt::import_human_user_request::Phone {
            phone: "+41 79 000 00 00".into(),
            is_phone_verified: false,
        }),
        password: "a-Good-passw0rd".into(),
        ..Default::default()
    }
}

#[tokio::test]
async fn add_get_and_resend_a_user() {
    let app = TestServer::spawn().await;
    for wire in WIRES {
        let name = format!("jane-{wire:?}").to_lowercase();
        let added: Added = app.call(wire, "AddHumanUser", new_user(&name), app.admin()).await.unwrap();
        let details = added.details.unwrap();
        assert!(!added.user_id.is_empty());
        assert_eq!(details.resource_owner, app.org);
        // Added, then the init code: two events.
        assert_eq!(details.sequence, 2);
        assert_eq!(details.creation_date, details.change_date);

        let got: Got = app.call(wire, "GetUserByID", get(&added.user_id), app.admin()).await.unwrap();
        let user = got.user.unwrap();
        assert_eq!(user.id, added.user_id);
        assert_eq!(user.state, user_pb::UserState::Initial as i32);
        assert_eq!(user.user_name, name);
        assert_eq!(user.login_names, std::slice::from_ref(&name));
        assert_eq!(user.preferred_login_name, name);
        assert_eq!(user.details.unwrap().sequence, 2);
        let Some(user_pb::user::Type::Human(human)) = user.r#type else { panic!("a human") };
        let profile = human.profile.unwrap();
        assert_eq!((profile.first_name.as_str(), profile.display_name.as_str()), ("Jane", "Jane Doe"));
        assert_eq!(human.email.unwrap().email, format!("{name}@example.com"));
        // Without a phone, ZITADEL answers an empty one.
        assert_eq!(human.phone, Some(Default::default()));

        // A corrected address: the address changes, then a new code.
        let resent: Resend = app
            .call(wire, "ResendHumanInitialization", resend(&added.user_id, "fixed@example.com"), app.admin())
            .await
            .unwrap();
        let resent = resent.details.unwrap();
        assert_eq!(resent.sequence, 4);
        assert_eq!(resent.creation_date, details.creation_date);
        assert_eq!(resent.resource_owner, app.org);
        // No address: only a new code.
        let again: Resend =
            app.call(wire, "ResendHumanInitialization", resend(&added.user_id, ""), app.admin()).await.unwrap();
        assert_eq!(again.details.unwrap().sequence, 5);
        let got: Got = app.call(wire, "GetUserByID", get(&added.user_id), app.admin()).await.unwrap();
        let Some(user_pb::user::Type::Human(human)) = got.user.unwrap().r#type else { panic!("a human") };
        assert_eq!(human.email.unwrap().email, "fixed@example.com");
    }
}

#[tokio::test]
async fn import_a_user_with_a_password() {
    let app = TestServer::spawn().await;
    for wire in WIRES {
        let name = format!("max-{wire:?}").to_lowercase();
        let imported: Imported = app.call(wire, "ImportHumanUser", import(&name), app.admin()).await.unwrap();
        // Password and verified email: Active at once, no init code.
        assert_eq!(imported.details.unwrap().sequence, 1);
        let got: Got = app.call(wire, "GetUserByID", get(&imported.user_id), app.admin()).await.unwrap();
        let user = got.user.unwrap();
        assert_eq!(user.state, user_pb::UserState::Active as i32);
        let Some(user_pb::user::Type::Human(human)) = user.r#type else { panic!("a human") };
        let profile = human.profile.unwrap();
        assert_eq!(profile.gender, user_pb::Gender::Male as i32);
        assert_eq!(profile.preferred_language, "de");
        assert!(human.email.unwrap().is_email_verified);
        // Kept in international form, as ZITADEL keeps it.
        assert_eq!(human.phone.unwrap().phone, "+41790000000");
    }
}

#[tokio::test]
async fn resend_errors() {
    let app = TestServer::spawn().await;
    let other_org = app.create_org().await;
    for wire in WIRES {
        let name = format!("active-{wire:?}").to_lowercase();
        let active: Added = app.call(wire, "AddHumanUser", active_user(&name), app.admin()).await.unwrap();
        let initial = app.add_user(wire, &format!("initial-{wire:?}").to_lowercase(), app.admin()).await;
        let cases = [
            (resend(&active.user_id, ""), 9, "COMMAND-2M9sd"),
            (resend("", ""), 3, "COMMAND-2n8vs"),
            (resend(&"1".repeat(201), ""), 3, "ONBOARD-USERID-INVALID"),
            (resend(&initial, "not-an-address"), 3, "EMAIL-599BI"),
            (resend("404404", ""), 5, "COMMAND-2M9df"),
        ];
        for (req, code, id) in cases {
            let err = app.call::<_, Resend>(wire, "ResendHumanInitialization", req, app.admin()).await.unwrap_err();
            err.assert(code, id);
        }
        // Users of another organization are not found, never forbidden.
        let elsewhere = Auth { token: Some(&app.token), org: Some(&other_org) };
        let err = app.call::<_, Resend>(wire, "ResendHumanInitialization", resend(&initial, ""), elsewhere).await;
        err.unwrap_err().assert(5, "COMMAND-2M9df");
    }
}

#[tokio::test]
async fn get_user_errors() {
    let app = TestServer::spawn().await;
    for wire in WIRES {
        let err = app.call::<_, Got>(wire, "GetUserByID", get("404404"), app.admin()).await.unwrap_err();
        err.assert(5, "QUERY-Dfbg2");
        let err = app.call::<_, Got>(wire, "GetUserByID", get(""), app.admin()).await.unwrap_err();
        err.assert(3, "ONBOARD-USERID-INVALID");
    }
}

#[tokio::test]
async fn add_and_import_errors() {
    let app = TestServer::spawn().await;
    for wire in WIRES {
        let taken = format!("taken-{wire:?}").to_lowercase();
        app.add_user(wire, &taken, app.admin()).await;
        let mut no_first_name = new_user("nameless");
        no_first_name.profile.as_mut().unwrap().first_name.clear();
        let mut blank_last_name = new_user("blank");
        blank_last_name.profile.as_mut().unwrap().last_name = "  ".into();
        let mut bad_email = new_user("mailless");
        bad_email.email.as_mut().unwrap().email = "nope".into();
        let mut weak = new_user("weak");
        weak.initial_password = "short".into();
        let cases = [
            (new_user(&taken.to_uppercase()), 6, "V3-DKcYh"),
            (no_first_name, 3, "USER-UCej2"),
            (blank_last_name, 3, "USER-4hB7d"),
            (bad_email, 3, "EMAIL-599BI"),
            (weak, 3, "COMMA-HuJf6"),
        ];
        for (req, code, id) in cases {
            let err = app.call::<_, Added>(wire, "AddHumanUser", req, app.admin()).await.unwrap_err();
            err.assert(code, id);
        }

        let mut weak = import("weak");
        weak.password = "short".into();
        let mut passwordless = import("passwordless");
        passwordless.request_passwordless_registration = true;
        let mut both = import("both");
        both.hashed_password = Some(mgmt::import_human_user_request::HashedPassword {
            value: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g".into(),
        });
        let mut bad_hash = import("badhash");
        bad_hash.password.clear();
        bad_hash.hashed_password = Some(mgmt::import_human_user_request::HashedPassword { value: "md5:abc".into() });
        let cases = [
            (weak, 3, "DOMAIN-HuJf6"),
            (passwordless, 3, "ONBOARD-FIELD-INVALID"),
            (both, 3, "ONBOARD-FIELD-INVALID"),
            (bad_hash, 3, "USER-JDk4t"),
            (import(&taken), 6, "V3-DKcYh"),
        ];
        for (req, code, id) in cases {
            let err = app.call::<_, Imported>(wire, "ImportHumanUser", req, app.admin()).await.unwrap_err();
            err.assert(code, id);
        }
    }
}

/// Each method with each kind of bad credentials.
#[tokio::test]
async fn authorization() {
    let app = TestServer::spawn().await;
    let viewer = app.token_with(&app.org, Role::OrgOwnerViewer).await;
    let revoked = app.token_with(&app.org, Role::OrgOwner).await;
    app.revoke(&revoked).await;
    let other_org = app.create_org().await;
    let outsider = app.token_with(&other_org, Role::OrgOwner).await;
    for wire in WIRES {
        let user = app.add_user(wire, &format!("target-{wire:?}").to_lowercase(), app.admin()).await;
        let bad = [
            (Auth::default(), 16, "ONBOARD-TOKEN-MISSING"),
            (Auth { token: Some("not-a-token"), org: None }, 16, "AUTH-7fs1e"),
            (Auth { token: Some(&revoked), org: None }, 16, "AUTH-7fs1e"),
            // A grant in its own organization only.
            (Auth { token: Some(&outsider), org: Some(&app.org) }, 7, "AUTH-5mWD2"),
            // An organization that does not exist: told before the permission.
            (Auth { token: Some(&app.token), org: Some("999999") }, 7, "AUTH-Bs7Ds"),
            (Auth { token: Some(&outsider), org: Some("999999") }, 7, "AUTH-Bs7Ds"),
        ];
        for (auth, code, id) in bad {
            let err = app.call::<_, Got>(wire, "GetUserByID", get(&user), auth).await.unwrap_err();
            err.assert(code, id);
            let err = app.call::<_, Added>(wire, "AddHumanUser", new_user("x"), auth).await.unwrap_err();
            err.assert(code, id);
            let err = app.call::<_, Imported>(wire, "ImportHumanUser", import("y"), auth).await.unwrap_err();
            err.assert(code, id);
            let err =
                app.call::<_, Resend>(wire, "ResendHumanInitialization", resend(&user, ""), auth).await.unwrap_err();
            err.assert(code, id);
        }

        // A viewer may read but not write.
        let viewing = Auth { token: Some(&viewer), org: None };
        let got: Got = app.call(wire, "GetUserByID", get(&user), viewing).await.unwrap();
        assert_eq!(got.user.unwrap().id, user);
        let err = app.call::<_, Resend>(wire, "ResendHumanInitialization", resend(&user, ""), viewing).await;
        err.unwrap_err().assert(7, "AUTH-5mWD2");
        let err = app.call::<_, Added>(wire, "AddHumanUser", new_user("by-viewer"), viewing).await;
        err.unwrap_err().assert(7, "AUTH-5mWD2");
    }
}

#[tokio::test]
async fn the_organization_metadata_selects_where_users_are_made() {
    let app = TestServer::spawn().await;
    let other = app.create_org().await;
    for wire in WIRES {
        let there = Auth { token: Some(&app.token), org: Some(&other) };
        let added: Added =
            app.call(wire, "AddHumanUser", new_user(&format!("{wire:?}").to_lowercase()), there).await.unwrap();
        assert_eq!(added.details.unwrap().resource_owner, other);
        let got: Got = app.call(wire, "GetUserByID", get(&added.user_id), there).await.unwrap();
        assert_eq!(got.user.unwrap().details.unwrap().resource_owner, other);
        // From the home organization the user does not exist.
        let err = app.call::<_, Got>(wire, "GetUserByID", get(&added.user_id), app.admin()).await.unwrap_err();
        err.assert(5, "QUERY-Dfbg2");
    }
}

#[tokio::test]
async fn other_methods_of_the_service_are_unimplemented() {
    let app = TestServer::spawn().await;
    for wire in WIRES {
        for method in ["AddMachineUser", "ListOrgs", "Healthz"] {
            let err = app.call::<_, Got>(wire, method, get("1"), app.admin()).await.unwrap_err_code();
            assert_eq!(err, 12, "{wire:?} {method}");
        }
    }
}

/// Messages over the HTTP side's body limit are refused before decoding.
#[tokio::test]
async fn oversized_messages_are_refused() {
    let app = TestServer::spawn().await;
    for wire in WIRES {
        let mut huge = new_user("huge");
        huge.profile.as_mut().unwrap().nick_name = "x".repeat(onboard_api::MAX_BODY_BYTES + 1);
        let err = app.call::<_, Added>(wire, "AddHumanUser", huge, app.admin()).await.unwrap_err();
        err.assert(8, "ONBOARD-BODY-TOO-LARGE");
    }
}

/// Failures without the contract's detail (the framework's own answers).
trait CodeOnly {
    fn unwrap_err_code(self) -> i32;
}

impl<T: std::fmt::Debug> CodeOnly for Result<T, crate::support::Failure> {
    fn unwrap_err_code(self) -> i32 {
        self.unwrap_err().code
    }
}
