//! Request messages as the use cases' commands.

use onboard_domain::usecases::{NewHumanUser, NewPassword};

use crate::fault::{Code, Fault, ids};
use crate::pb::zitadel::management::v1 as pb;

fn not_empty(s: String) -> Option<String> {
    (!s.is_empty()).then_some(s)
}

pub fn add_command(r: pb::AddHumanUserRequest) -> Result<NewHumanUser, Fault> {
    let profile = r.profile.unwrap_or_default();
    let email = r.email.unwrap_or_default();
    let phone = r.phone.unwrap_or_default();
    Ok(NewHumanUser {
        user_name: r.user_name,
        first_name: profile.first_name,
        last_name: profile.last_name,
        nick_name: profile.nick_name,
        display_name: profile.display_name,
        preferred_language: profile.preferred_language,
        gender: profile.gender,
        email: email.email,
        email_verified: email.is_email_verified,
        phone: phone.phone,
        phone_verified: phone.is_phone_verified,
        password: not_empty(r.initial_password).map(NewPassword::Plain),
        password_change_required: false,
    })
}

fn unsupported(field: &str, reason: &str) -> Fault {
    Fault::new(Code::InvalidArgument, ids::FIELD_INVALID, format!("Invalid {field}: {reason}"))
}

pub fn import_command(r: pb::ImportHumanUserRequest) -> Result<NewHumanUser, Fault> {
    if r.request_passwordless_registration {
        return Err(unsupported("request_passwordless_registration", "passwordless registration is not supported"));
    }
    if !r.otp_code.is_empty() {
        return Err(unsupported("otp_code", "one-time password registration is not supported"));
    }
    let plain = not_empty(r.password);
    let hashed = r.hashed_password.map(|h| h.value).and_then(not_empty);
    let password = match (plain, hashed) {
        (Some(_), Some(_)) => return Err(unsupported("password", "give either password or hashed_password, not both")),
        (Some(p), None) => Some(NewPassword::Plain(p)),
        (None, Some(h)) => Some(NewPassword::Hashed(h)),
        (None, None) => None,
    };
    let profile = r.profile.unwrap_or_default();
    let email = r.email.unwrap_or_default();
    let phone = r.phone.unwrap_or_default();
    Ok(NewHumanUser {
        user_name: r.user_name,
        first_name: profile.first_name,
        last_name: profile.last_name,
        nick_name: profile.nick_name,
        display_name: profile.display_name,
        preferred_language: profile.preferred_language,
        gender: profile.gender,
        email: email.email,
        email_verified: email.is_email_verified,
        phone: phone.phone,
        phone_verified: phone.is_phone_verified,
        password,
        password_change_required: r.password_change_required,
    })
}
