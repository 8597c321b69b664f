//! Domain results as answer messages.

use onboard_domain::usecases::Changes;
use onboard_domain::{Gender, ObjectDetails, RecordedEvent, User, UserPage, UserState};
use time::OffsetDateTime;

use crate::pb::zitadel::change::v1 as change_pb;
use crate::pb::zitadel::user::v1 as user_pb;
use crate::pb::zitadel::v1 as object_pb;

fn timestamp(t: OffsetDateTime) -> prost_types::Timestamp {
    // `nanosecond()` is below 10^9, so it always fits.
    prost_types::Timestamp { seconds: t.unix_timestamp(), nanos: t.nanosecond() as i32 }
}

pub fn details(d: ObjectDetails) -> object_pb::ObjectDetails {
    object_pb::ObjectDetails {
        sequence: d.sequence,
        creation_date: Some(timestamp(d.creation_date)),
        change_date: Some(timestamp(d.change_date)),
        resource_owner: d.resource_owner.to_string(),
    }
}

/// What a change answers for a write: sequence, change date and owner, no
/// creation date (ZITADEL's `DomainToChangeDetailsPb`).
pub fn change_details(d: ObjectDetails) -> object_pb::ObjectDetails {
    object_pb::ObjectDetails { creation_date: None, ..details(d) }
}

/// A listing's details: the total, and the time the answer holds for.
/// onboard keeps no projection position, so the processed sequence is 0.
pub fn list_details(page: &UserPage) -> object_pb::ListDetails {
    object_pb::ListDetails {
        total_result: page.total,
        processed_sequence: 0,
        view_timestamp: Some(timestamp(page.viewed_at)),
    }
}

/// ZITADEL's English text of an event type (`EventTypes` in its i18n).
fn event_text(zitadel_type: &str) -> &'static str {
    match zitadel_type {
        "user.human.added" => "Person added",
        "user.human.email.changed" => "Email address changed",
        "user.human.email.verified" => "Email address verified",
        "user.human.initialization.code.added" => "Initialization code generated",
        "user.human.initialization.code.sent" => "Initialization code sent",
        "user.human.initialization.check.failed" => "Initialization check failed",
        "user.human.initialization.check.succeeded" => "Initialization check succeeded",
        "user.human.password.changed" => "Password changed",
        "user.removed" => "User removed",
        // onboard's own: ZITADEL has no such event.
        "user.human.initialization.reminder.issued" => "Initialization reminder sent",
        _ => "",
    }
}

/// One event of a user's log as ListUserChanges answers it. Only its type,
/// time, sequence and editor: no code, hash or password ever leaves.
pub fn change(e: &RecordedEvent, resource_owner: &str) -> change_pb::Change {
    let kind = e.event.zitadel_type();
    let editor = e.editor.clone().unwrap_or_default();
    change_pb::Change {
        change_date: Some(timestamp(e.at)),
        event_type: Some(object_pb::LocalizedMessage {
            key: format!("EventTypes.{kind}"),
            localized_message: event_text(kind).to_owned(),
        }),
        sequence: e.sequence,
        editor_id: editor.id,
        editor_display_name: editor.display_name,
        resource_owner_id: resource_owner.to_owned(),
        editor_preferred_login_name: String::new(),
        editor_avatar_url: String::new(),
    }
}

pub fn changes(c: &Changes) -> Vec<change_pb::Change> {
    c.events.iter().map(|e| change(e, c.resource_owner.as_str())).collect()
}

fn state(s: UserState) -> user_pb::UserState {
    use user_pb::UserState as P;
    match s {
        UserState::Unspecified => P::Unspecified,
        UserState::Active => P::Active,
        UserState::Inactive => P::Inactive,
        UserState::Deleted => P::Deleted,
        UserState::Locked => P::Locked,
        UserState::Suspend => P::Suspend,
        UserState::Initial => P::Initial,
    }
}

fn gender(g: Gender) -> user_pb::Gender {
    match g {
        Gender::Unspecified => user_pb::Gender::Unspecified,
        Gender::Female => user_pb::Gender::Female,
        Gender::Male => user_pb::Gender::Male,
        Gender::Diverse => user_pb::Gender::Diverse,
    }
}

/// A user as GetUserByID answers it.
pub fn user(u: User) -> user_pb::User {
    let login = u.login_name().to_owned();
    let p = u.profile;
    let human = user_pb::Human {
        profile: Some(user_pb::Profile {
            first_name: p.first_name,
            last_name: p.last_name,
            nick_name: p.nick_name,
            display_name: p.display_name,
            preferred_language: p.preferred_language.map(|l| l.as_str().to_owned()).unwrap_or_default(),
            gender: gender(p.gender).into(),
            avatar_url: String::new(),
        }),
        email: Some(user_pb::Email { email: u.email.address.to_string(), is_email_verified: u.email.verified }),
        // ZITADEL answers an empty phone rather than none.
        phone: Some(
            u.phone.map(|ph| user_pb::Phone { phone: ph.number, is_phone_verified: ph.verified }).unwrap_or_default(),
        ),
        // onboard keeps no time of the last password change.
        password_changed: None,
    };
    user_pb::User {
        id: u.id.to_string(),
        details: Some(details(ObjectDetails {
            sequence: u.sequence,
            creation_date: u.created_at,
            change_date: u.changed_at,
            resource_owner: u.org.clone(),
        })),
        state: state(u.state).into(),
        user_name: u.user_name.as_str().to_owned(),
        login_names: vec![login.clone()],
        preferred_login_name: login,
        r#type: Some(user_pb::user::Type::Human(human)),
    }
}
