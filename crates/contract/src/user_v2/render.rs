//! Domain results as v2 answer messages.

use onboard_domain::{Gender, ObjectDetails, User, UserState};
use time::OffsetDateTime;

use crate::pb::zitadel::object::v2 as object_pb;
use crate::pb::zitadel::user::v2 as pb;

fn timestamp(t: OffsetDateTime) -> prost_types::Timestamp {
    // `nanosecond()` is below 10^9, so it always fits.
    prost_types::Timestamp { seconds: t.unix_timestamp(), nanos: t.nanosecond() as i32 }
}

pub fn details(d: ObjectDetails) -> object_pb::Details {
    object_pb::Details {
        sequence: d.sequence,
        change_date: Some(timestamp(d.change_date)),
        resource_owner: d.resource_owner.to_string(),
        creation_date: Some(timestamp(d.creation_date)),
    }
}

/// A listing's details: how many users match, and when it was read (the
/// store is read directly, so there is no projection sequence to report).
pub fn list_details(total: u64, at: OffsetDateTime) -> object_pb::ListDetails {
    object_pb::ListDetails { total_result: total, processed_sequence: 0, timestamp: Some(timestamp(at)) }
}

/// v2's numbers differ from v1's (Initial is 5, not 6), and v2 has no
/// Suspend: a suspended user is shown as inactive.
pub fn state(s: UserState) -> pb::UserState {
    use pb::UserState as P;
    match s {
        UserState::Unspecified => P::Unspecified,
        UserState::Active => P::Active,
        UserState::Inactive | UserState::Suspend => P::Inactive,
        UserState::Deleted => P::Deleted,
        UserState::Locked => P::Locked,
        UserState::Initial => P::Initial,
    }
}

fn gender(g: Gender) -> pb::Gender {
    match g {
        Gender::Unspecified => pb::Gender::Unspecified,
        Gender::Female => pb::Gender::Female,
        Gender::Male => pb::Gender::Male,
        Gender::Diverse => pb::Gender::Diverse,
    }
}

fn some_text(s: String) -> Option<String> {
    (!s.is_empty()).then_some(s)
}

/// A user as GetUserByID (and ListUsers) answer it.
pub fn user(u: User) -> pb::User {
    let login = u.login_name().to_owned();
    let details = details(u.details());
    let state = state(u.state);
    let p = u.profile;
    let human = pb::HumanUser {
        user_id: u.id.to_string(),
        state: state.into(),
        username: u.user_name.as_str().to_owned(),
        login_names: vec![login.clone()],
        preferred_login_name: login.clone(),
        profile: Some(pb::HumanProfile {
            given_name: p.first_name,
            family_name: p.last_name,
            nick_name: some_text(p.nick_name),
            display_name: some_text(p.display_name),
            preferred_language: p.preferred_language.map(|l| l.as_str().to_owned()),
            gender: Some(gender(p.gender).into()),
            avatar_url: String::new(),
        }),
        email: Some(pb::HumanEmail { email: u.email.address.to_string(), is_verified: u.email.verified }),
        phone: Some(
            u.phone.map(|ph| pb::HumanPhone { phone: ph.number, is_verified: ph.verified }).unwrap_or_default(),
        ),
        password_change_required: u.password_change_required,
        // onboard keeps no time of the last password change, nor of MFA.
        password_changed: None,
        mfa_init_skipped: None,
    };
    pb::User {
        user_id: u.id.to_string(),
        details: Some(details),
        state: state.into(),
        username: u.user_name.as_str().to_owned(),
        login_names: vec![login.clone()],
        preferred_login_name: login,
        r#type: Some(pb::user::Type::Human(human)),
    }
}
