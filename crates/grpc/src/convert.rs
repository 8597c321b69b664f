//! Protobuf messages ↔ the use cases' commands and results.
//!
//! Requests are turned into the HTTP side's wire DTOs and answers are built
//! from them, so defaults, unsupported fields and presentation (login names,
//! omitted gender, …) are decided in one place for both wires.

use onboard_api::wire;
use onboard_domain::usecases::NewHumanUser;
use onboard_domain::{ObjectDetails, User};
use time::OffsetDateTime;

use crate::pb::zitadel::management::v1 as mgmt;
use crate::pb::zitadel::user::v1 as user_pb;
use crate::pb::zitadel::v1 as object_pb;

/// The text fields every profile has, in the order of their field numbers.
fn profile(first: String, last: String, nick: String, display: String, language: String) -> wire::NewProfile {
    wire::NewProfile {
        first_name: Some(first),
        last_name: Some(last),
        nick_name: Some(nick),
        display_name: Some(display),
        preferred_language: Some(language),
        // Passed as the raw number instead; see `with_gender`.
        gender: None,
    }
}

fn email(address: String, verified: bool) -> wire::NewEmail {
    wire::NewEmail { email: Some(address), is_email_verified: Some(verified) }
}

fn phone(number: String, verified: bool) -> wire::NewPhone {
    wire::NewPhone { phone: Some(number), is_phone_verified: Some(verified) }
}

/// The JSON side's gender enum cannot hold numbers it does not know, but
/// protobuf carries any number: the use case validates the raw value.
fn with_gender(cmd: NewHumanUser, gender: i32) -> NewHumanUser {
    NewHumanUser { gender, ..cmd }
}

pub(crate) fn add_command(r: mgmt::AddHumanUserRequest) -> NewHumanUser {
    let gender = r.profile.as_ref().map_or(0, |p| p.gender);
    let dto = wire::AddHumanUserRequest {
        user_name: Some(r.user_name),
        profile: r
            .profile
            .map(|p| profile(p.first_name, p.last_name, p.nick_name, p.display_name, p.preferred_language)),
        email: r.email.map(|e| email(e.email, e.is_email_verified)),
        phone: r.phone.map(|p| phone(p.phone, p.is_phone_verified)),
        initial_password: Some(r.initial_password),
    };
    with_gender(dto.into(), gender)
}

/// The command, or the name and reason of a field set that is not supported.
pub(crate) fn import_command(r: mgmt::ImportHumanUserRequest) -> Result<NewHumanUser, (&'static str, &'static str)> {
    let gender = r.profile.as_ref().map_or(0, |p| p.gender);
    let dto = wire::ImportHumanUserRequest {
        user_name: Some(r.user_name),
        profile: r
            .profile
            .map(|p| profile(p.first_name, p.last_name, p.nick_name, p.display_name, p.preferred_language)),
        email: r.email.map(|e| email(e.email, e.is_email_verified)),
        phone: r.phone.map(|p| phone(p.phone, p.is_phone_verified)),
        password: Some(r.password),
        hashed_password: r
            .hashed_password
            .map(|h| wire::HashedPassword { value: Some(h.value), algorithm: Some(h.algorithm) }),
        password_change_required: Some(r.password_change_required),
        request_passwordless_registration: Some(r.request_passwordless_registration),
        otp_code: Some(r.otp_code),
    };
    dto.into_command().map(|cmd| with_gender(cmd, gender))
}

fn timestamp(t: OffsetDateTime) -> prost_types::Timestamp {
    // `nanosecond()` is below 10^9, so it always fits.
    prost_types::Timestamp { seconds: t.unix_timestamp(), nanos: t.nanosecond() as i32 }
}

fn object_details(d: wire::ObjectDetails) -> object_pb::ObjectDetails {
    object_pb::ObjectDetails {
        sequence: d.sequence.0,
        creation_date: Some(timestamp(d.creation_date.0)),
        change_date: Some(timestamp(d.change_date.0)),
        resource_owner: d.resource_owner,
    }
}

pub(crate) fn details(d: ObjectDetails) -> Option<object_pb::ObjectDetails> {
    Some(object_details(d.into()))
}

fn user_state(s: wire::UserState) -> user_pb::UserState {
    use user_pb::UserState as P;
    use wire::UserState as W;
    match s {
        W::Unspecified => P::Unspecified,
        W::Active => P::Active,
        W::Inactive => P::Inactive,
        W::Deleted => P::Deleted,
        W::Locked => P::Locked,
        W::Suspend => P::Suspend,
        W::Initial => P::Initial,
    }
}

fn gender(g: wire::Gender) -> user_pb::Gender {
    use user_pb::Gender as P;
    use wire::Gender as W;
    match g {
        W::Unspecified => P::Unspecified,
        W::Female => P::Female,
        W::Male => P::Male,
        W::Diverse => P::Diverse,
    }
}

fn human(h: wire::Human) -> user_pb::Human {
    user_pb::Human {
        profile: h.profile.map(|p| user_pb::Profile {
            first_name: p.first_name.unwrap_or_default(),
            last_name: p.last_name.unwrap_or_default(),
            nick_name: p.nick_name.unwrap_or_default(),
            display_name: p.display_name.unwrap_or_default(),
            preferred_language: p.preferred_language.unwrap_or_default(),
            gender: p.gender.map(gender).unwrap_or_default().into(),
            avatar_url: p.avatar_url.unwrap_or_default(),
        }),
        email: h.email.map(|e| user_pb::Email {
            email: e.email.unwrap_or_default(),
            is_email_verified: e.is_email_verified.unwrap_or_default(),
        }),
        phone: h.phone.map(|p| user_pb::Phone {
            phone: p.phone.unwrap_or_default(),
            is_phone_verified: p.is_phone_verified.unwrap_or_default(),
        }),
    }
}

pub(crate) fn user(u: User) -> user_pb::User {
    let w = wire::User::from(u);
    user_pb::User {
        id: w.id.unwrap_or_default(),
        details: w.details.map(object_details),
        state: w.state.map(user_state).unwrap_or_default().into(),
        user_name: w.user_name.unwrap_or_default(),
        login_names: w.login_names.unwrap_or_default(),
        preferred_login_name: w.preferred_login_name.unwrap_or_default(),
        r#type: w.human.map(|h| user_pb::user::Type::Human(human(h))),
    }
}

#[cfg(test)]
mod tests {
    use onboard_domain::usecases::NewPassword;

    use super::*;

    fn add_request() -> mgmt::AddHumanUserRequest {
        mgmt::AddHumanUserRequest {
            user_name: "jane".into(),
            profile: Some(mgmt::add_human_user_request::Profile {
                first_name: "Jane".into(),
                last_name: "Doe".into(),
                preferred_language: "de".into(),
                gender: user_pb::Gender::Female.into(),
                ..Default::default()
            }),
            email: Some(mgmt::add_human_user_request::Email {
                email: "jane@example.com".into(),
                is_email_verified: true,
            }),
            phone: None,
            initial_password: "a-Good-passw0rd".into(),
        }
    }

    #[test]
    fn add_request_becomes_the_same_command_as_its_json_twin() {
        let cmd = add_command(add_request());
        assert_eq!(cmd.user_name, "jane");
        assert_eq!(cmd.first_name, "Jane");
        assert_eq!(cmd.preferred_language, "de");
        assert_eq!(cmd.gender, 1);
        assert!(cmd.email_verified);
        assert_eq!(cmd.password, Some(NewPassword::Plain("a-Good-passw0rd".into())));
    }

    #[test]
    fn empty_password_means_none_and_unknown_genders_reach_the_use_case() {
        let mut r = add_request();
        r.initial_password.clear();
        r.profile.as_mut().unwrap().gender = 42;
        let cmd = add_command(r);
        assert_eq!(cmd.password, None);
        assert_eq!(cmd.gender, 42);
    }

    #[test]
    fn import_rejects_what_the_json_side_rejects() {
        let r =
            mgmt::ImportHumanUserRequest { user_name: "jane".into(), otp_code: "123456".into(), ..Default::default() };
        assert_eq!(import_command(r).unwrap_err().0, "otp_code");
        let r = mgmt::ImportHumanUserRequest {
            password: "a-Good-passw0rd".into(),
            hashed_password: Some(mgmt::import_human_user_request::HashedPassword {
                value: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaA".into(),
                algorithm: String::new(),
            }),
            ..Default::default()
        };
        assert_eq!(import_command(r).unwrap_err().0, "password");
        let r = mgmt::ImportHumanUserRequest {
            hashed_password: Some(mgmt::import_human_user_request::HashedPassword {
                value: "$argon2id$hash".into(),
                algorithm: "argon2".into(),
            }),
            password_change_required: true,
            ..Default::default()
        };
        let cmd = import_command(r).unwrap();
        assert_eq!(cmd.password, Some(NewPassword::Hashed("$argon2id$hash".into())));
        assert!(cmd.password_change_required);
    }

    #[test]
    fn timestamps_keep_seconds_and_nanos() {
        let t = time::macros::datetime!(2023-05-12 08:30:00.123456789 UTC);
        let ts = timestamp(t);
        assert_eq!(ts.seconds, t.unix_timestamp());
        assert_eq!(ts.nanos, 123_456_789);
    }
}
