//! The v2 requests as the domain's commands, with ZITADEL's ids for
//! invalid fields. AddHumanUser is read through the v1 method's rules (the
//! same commands validate both in ZITADEL, so the ids are the same).

use std::borrow::Cow;

use onboard_domain::usecases::{NewHumanUser, NewPassword, SetPasswordInput};
use onboard_domain::{CodeDelivery, OrgId, PasswordHash, TemplateError, UrlTemplate, UserId};

use crate::fault::{Code, Fault, ids};
use crate::management;
use crate::pb::zitadel::management::v1;
use crate::pb::zitadel::object::v2 as object_pb;
use crate::pb::zitadel::user::v2 as pb;

fn invalid(id: &'static str, text: impl Into<Cow<'static, str>>) -> Fault {
    Fault::new(Code::InvalidArgument, id, text)
}

fn unsupported(field: &str, reason: &str) -> Fault {
    invalid(ids::FIELD_INVALID, format!("Invalid {field}: {reason}"))
}

/// A required user id: `missing` is the method's id for an empty one.
pub fn user_id(raw: &str, missing: &'static str, field: &str) -> Result<UserId, Fault> {
    if raw.trim().is_empty() {
        return Err(invalid(missing, "User ID missing"));
    }
    management::user_id(raw.trim(), field)
}

fn template(raw: Option<String>) -> Result<Option<UrlTemplate>, Fault> {
    match raw.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(raw) => UrlTemplate::parse(raw).map(Some).map_err(|e| match e {
            TemplateError::Syntax => invalid(ids::URL_TEMPLATE_INVALID, "Invalid URL template"),
            e => invalid(ids::URL_TEMPLATE_INVALID, format!("Invalid URL template: {e}")),
        }),
    }
}

/// The organization an AddHumanUser names, if it names one.
pub fn organization(org: &Option<object_pb::Organization>) -> Result<Option<OrgId>, Fault> {
    use object_pb::organization::Org;
    match org.as_ref().and_then(|o| o.org.as_ref()) {
        None => Ok(None),
        Some(Org::OrgId(id)) if id.trim().is_empty() => Ok(None),
        Some(Org::OrgId(id)) => OrgId::parse(id.trim())
            .map(Some)
            .map_err(|_| invalid(ids::FIELD_INVALID, "Invalid organization.org_id: not an organization id")),
        Some(Org::OrgDomain(_)) => {
            Err(unsupported("organization.org_domain", "organizations have no domains in onboard; give org_id"))
        }
    }
}

/// AddHumanUser's request as the command.
pub fn add_command(r: pb::AddHumanUserRequest) -> Result<NewHumanUser, Fault> {
    if !r.metadata.is_empty() {
        return Err(unsupported("metadata", "metadata is not supported"));
    }
    if !r.idp_links.is_empty() {
        return Err(unsupported("idp_links", "links to identity providers are not supported"));
    }
    if r.totp_secret.as_deref().is_some_and(|s| !s.is_empty()) {
        return Err(unsupported("totp_secret", "TOTP is not supported"));
    }
    let profile = r.profile.unwrap_or_default();
    let email = r.email.unwrap_or_default();
    // The user name defaults to the address, as in ZITADEL.
    let user_name = match r.username.as_deref().map(str::trim) {
        Some(name) if !name.is_empty() => name.to_owned(),
        _ => email.email.trim().to_owned(),
    };
    use pb::set_human_email::Verification;
    let (verified, delivery) = match email.verification {
        None => (false, CodeDelivery::Mailed),
        Some(Verification::IsVerified(v)) => (v, CodeDelivery::Mailed),
        Some(Verification::ReturnCode(_)) => (false, CodeDelivery::Returned),
        Some(Verification::SendCode(s)) => (false, CodeDelivery::mailed(template(s.url_template)?, None)),
    };
    let phone = r.phone.filter(|p| !p.phone.trim().is_empty()).map(|p| v1::add_human_user_request::Phone {
        phone: p.phone,
        is_phone_verified: matches!(p.verification, Some(pb::set_human_phone::Verification::IsVerified(true))),
    });
    let v1_request = v1::AddHumanUserRequest {
        user_name,
        profile: Some(v1::add_human_user_request::Profile {
            first_name: profile.given_name,
            last_name: profile.family_name,
            nick_name: profile.nick_name.unwrap_or_default(),
            display_name: profile.display_name.unwrap_or_default(),
            preferred_language: profile.preferred_language.unwrap_or_default(),
            gender: profile.gender.unwrap_or_default(),
        }),
        email: Some(v1::add_human_user_request::Email { email: email.email, is_email_verified: verified }),
        phone,
        initial_password: String::new(),
    };
    let mut cmd = management::add_command(v1_request)?;
    use pb::add_human_user_request::PasswordType;
    match r.password_type {
        Some(PasswordType::Password(p)) if !p.password.is_empty() => {
            cmd.password = Some(NewPassword::Plain(p.password));
            cmd.password_change_required = p.change_required;
        }
        Some(PasswordType::HashedPassword(h)) if !h.hash.trim().is_empty() => {
            let hash = PasswordHash::import(&h.hash).map_err(|e| {
                invalid(ids::PASSWORD_HASH_UNSUPPORTED, format!("Password hash encoding not supported: {e}"))
            })?;
            cmd.password = Some(NewPassword::Hashed(hash));
            cmd.password_change_required = h.change_required;
        }
        _ => {}
    }
    cmd.user_id = match r.user_id.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(raw) => Some(management::user_id(raw, "AddHumanUserRequest.UserId")?),
    };
    cmd.delivery = delivery;
    Ok(cmd)
}

/// How CreateInviteCode's code is delivered: mailed unless `returnCode`.
pub fn invite_delivery(v: Option<pb::create_invite_code_request::Verification>) -> Result<CodeDelivery, Fault> {
    use pb::create_invite_code_request::Verification;
    Ok(match v {
        None => CodeDelivery::Mailed,
        Some(Verification::ReturnCode(_)) => CodeDelivery::Returned,
        Some(Verification::SendCode(s)) => {
            let name = onboard_domain::invite::application_name(s.application_name.as_deref().unwrap_or_default())
                .map_err(|_| {
                    invalid(
                        ids::FIELD_INVALID,
                        "Invalid SendInviteCode.ApplicationName: at most 200 characters, no control characters",
                    )
                })?;
            CodeDelivery::mailed(template(s.url_template)?, name)
        }
    })
}

/// SetPassword's input. A verification code (of a password reset) cannot be
/// given: onboard makes none.
pub fn set_password_input(r: pb::SetPasswordRequest) -> Result<SetPasswordInput, Fault> {
    use pb::set_password_request::Verification;
    let new = r.new_password.unwrap_or_default();
    if new.password.is_empty() {
        return Err(invalid(ids::PASSWORD_MISSING, "Password is empty"));
    }
    let current_password = match r.verification {
        None => None,
        Some(Verification::CurrentPassword(p)) => Some(p),
        Some(Verification::VerificationCode(_)) => {
            return Err(unsupported("verification_code", "onboard issues no password reset codes"));
        }
    };
    Ok(SetPasswordInput { password: new.password, change_required: new.change_required, current_password })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jane() -> pb::AddHumanUserRequest {
        pb::AddHumanUserRequest {
            profile: Some(pb::SetHumanProfile {
                given_name: "Jane".into(),
                family_name: "Doe".into(),
                ..Default::default()
            }),
            email: Some(pb::SetHumanEmail { email: "jane@example.com".into(), verification: None }),
            ..Default::default()
        }
    }

    #[test]
    fn the_user_name_defaults_to_the_address_and_return_code_returns() {
        let mut r = jane();
        r.email.as_mut().unwrap().verification =
            Some(pb::set_human_email::Verification::ReturnCode(pb::ReturnEmailVerificationCode {}));
        let cmd = add_command(r).unwrap();
        assert_eq!(cmd.user_name.as_str(), "jane@example.com");
        assert_eq!(cmd.delivery, CodeDelivery::Returned);
        assert!(!cmd.email_verified);
    }

    #[test]
    fn zitadels_ids_for_bad_fields() {
        let mut r = jane();
        r.profile.as_mut().unwrap().given_name.clear();
        assert_eq!(add_command(r).unwrap_err().id, "USER-UCej2");
        let mut r = jane();
        r.email.as_mut().unwrap().email = "nope".into();
        assert_eq!(add_command(r).unwrap_err().id, "EMAIL-599BI");
        let mut r = jane();
        r.email.as_mut().unwrap().verification =
            Some(pb::set_human_email::Verification::SendCode(pb::SendEmailVerificationCode {
                url_template: Some("https://x.example/{{.Secret}}".into()),
            }));
        assert_eq!(add_command(r).unwrap_err().id, ids::URL_TEMPLATE_INVALID);
        let mut r = jane();
        r.metadata.push(pb::SetMetadataEntry { key: "k".into(), value: vec![1] });
        assert_eq!(add_command(r).unwrap_err().id, ids::FIELD_INVALID);
        assert_eq!(user_id(" ", "COMMAND-4jio3", "x").unwrap_err().id, "COMMAND-4jio3");
    }

    #[test]
    fn passwords_and_own_ids() {
        let mut r = jane();
        r.user_id = Some("my-id-1".into());
        r.password_type = Some(pb::add_human_user_request::PasswordType::Password(pb::Password {
            password: "a-Good-passw0rd".into(),
            change_required: true,
        }));
        let cmd = add_command(r).unwrap();
        assert_eq!(cmd.user_id.unwrap().as_str(), "my-id-1");
        assert!(cmd.password_change_required);
        let r = pb::SetPasswordRequest { user_id: "1".into(), new_password: None, verification: None };
        assert_eq!(set_password_input(r).unwrap_err().id, ids::PASSWORD_MISSING);
    }

    #[test]
    fn invite_deliveries() {
        use pb::create_invite_code_request::Verification;
        assert_eq!(invite_delivery(None).unwrap(), CodeDelivery::Mailed);
        assert_eq!(
            invite_delivery(Some(Verification::ReturnCode(pb::ReturnInviteCode {}))).unwrap(),
            CodeDelivery::Returned
        );
        let send = pb::SendInviteCode {
            url_template: Some("https://app.example.com/i?c={{.Code}}".into()),
            application_name: Some("Shop".into()),
        };
        let d = invite_delivery(Some(Verification::SendCode(send))).unwrap();
        assert_eq!(d.application_name(), Some("Shop"));
        assert_eq!(d.url_template().unwrap().origin(), "https://app.example.com");
    }
}
