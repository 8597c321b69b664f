//! Request messages as the use cases' typed commands. Every value is
//! checked here, with ZITADEL's error id and text for the same condition
//! (AddHumanUser and ImportHumanUser check in different places in ZITADEL
//! and so answer with different ids) and, where ZITADEL's proto validation
//! refuses a value, its wording.

use std::borrow::Cow;

use onboard_domain::usecases::{NewHumanUser, NewPassword, NewProfile};
use onboard_domain::{
    EmailAddress, EmailError, Gender, HashImportError, Language, PasswordHash, PersonName, PhoneNumber, ProfileText,
    TextError, UserId, UserName,
};

use crate::fault::{Code, Fault, ids};
use crate::pb::zitadel::management::v1 as pb;

/// The creating method whose rules apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Creation {
    Add,
    Import,
}

impl Creation {
    /// The request message's name, as ZITADEL's validation messages name it.
    fn message(self) -> &'static str {
        match self {
            Self::Add => "AddHumanUserRequest",
            Self::Import => "ImportHumanUserRequest",
        }
    }
}

fn invalid(id: &'static str, text: impl Into<Cow<'static, str>>) -> Fault {
    Fault::new(Code::InvalidArgument, id, text)
}

/// What ZITADEL's proto validation says of a value that breaks a length or
/// character rule, naming the field as it does (`AddHumanUserRequest_Profile.FirstName`).
fn rule_broken(field: &str, error: TextError, min: usize) -> Fault {
    let reason = match error {
        TextError::TooLong(max) if min > 0 => format!("value length must be between {min} and {max} runes, inclusive"),
        TextError::TooLong(max) => format!("value length must be at most {max} runes"),
        TextError::Empty => format!("value length must be at least {min} runes"),
        TextError::Control => "value must not contain control characters".to_owned(),
    };
    invalid(ids::FIELD_INVALID, format!("invalid {field}: {reason}"))
}

fn user_name(raw: &str, how: Creation) -> Result<UserName, Fault> {
    UserName::parse(raw).map_err(|e| match (e, how) {
        (TextError::Empty, Creation::Add) => invalid(ids::USER_NAME_EMPTY, "Username is empty"),
        (TextError::Empty, Creation::Import) => invalid(ids::USER_NAME_EMPTY_IMPORT, "Username is empty"),
        (e, how) => rule_broken(&format!("{}.UserName", how.message()), e, 1),
    })
}

fn person_name(raw: &str, how: Creation, first: bool) -> Result<PersonName, Fault> {
    PersonName::parse(raw).map_err(|e| match (e, how, first) {
        (TextError::Empty, Creation::Add, true) => invalid(ids::FIRST_NAME_EMPTY, "Given name in profile is empty"),
        (TextError::Empty, Creation::Add, false) => invalid(ids::LAST_NAME_EMPTY, "Family name in profile is empty"),
        (TextError::Empty, Creation::Import, true) => {
            invalid(ids::FIRST_NAME_EMPTY_IMPORT, "Given name in profile is empty")
        }
        (TextError::Empty, Creation::Import, false) => {
            invalid(ids::LAST_NAME_EMPTY_IMPORT, "Family name in profile is empty")
        }
        (e, how, first) => {
            let field = if first { "FirstName" } else { "LastName" };
            rule_broken(&format!("{}_Profile.{field}", how.message()), e, 1)
        }
    })
}

fn profile_text(raw: &str, how: Creation, field: &str) -> Result<ProfileText, Fault> {
    ProfileText::parse(raw).map_err(|e| rule_broken(&format!("{}_Profile.{field}", how.message()), e, 0))
}

/// An address a user is reached at (and may be sent an email).
pub fn email(raw: &str) -> Result<EmailAddress, Fault> {
    EmailAddress::parse(raw).map_err(|e| match e {
        EmailError::Empty => invalid(ids::EMAIL_EMPTY, "Email is empty"),
        _ => invalid(ids::EMAIL_INVALID, "Email is invalid"),
    })
}

fn phone(raw: &str) -> Result<PhoneNumber, Fault> {
    PhoneNumber::parse(raw).map_err(|_| invalid(ids::PHONE_INVALID, "Phone is invalid"))
}

fn language(raw: &str, how: Creation) -> Result<Option<Language>, Fault> {
    Language::preferred(raw).map_err(|e| rule_broken(&format!("{}_Profile.PreferredLanguage", how.message()), e, 0))
}

fn hashed(raw: &str) -> Result<PasswordHash, Fault> {
    PasswordHash::import(raw).map_err(|e: HashImportError| {
        invalid(ids::PASSWORD_HASH_UNSUPPORTED, format!("Password hash encoding not supported: {e}"))
    })
}

/// The parts AddHumanUser and ImportHumanUser share, in ZITADEL's order of
/// checking for the method.
#[derive(Default)]
struct Parts {
    user_name: String,
    profile: Option<pb::add_human_user_request::Profile>,
    email: Option<pb::add_human_user_request::Email>,
    phone: Option<pb::add_human_user_request::Phone>,
}

fn new_user(p: Parts, how: Creation) -> Result<NewHumanUser, Fault> {
    let profile = p.profile.unwrap_or_default();
    let email_part = p.email.unwrap_or_default();
    // AddHumanUser checks the address first, ImportHumanUser the names first.
    let address = match how {
        Creation::Add => Some(email(&email_part.email)?),
        Creation::Import => None,
    };
    let user_name = user_name(&p.user_name, how)?;
    let first_name = person_name(&profile.first_name, how, true)?;
    let last_name = person_name(&profile.last_name, how, false)?;
    let address = match address {
        Some(a) => a,
        None => email(&email_part.email)?,
    };
    let phone = match p.phone {
        Some(ph) if !ph.phone.trim().is_empty() => Some((phone(&ph.phone)?, ph.is_phone_verified)),
        _ => None,
    };
    let mut cmd = NewHumanUser::new(user_name, first_name, last_name, address);
    cmd.profile = NewProfile {
        nick_name: profile_text(&profile.nick_name, how, "NickName")?,
        display_name: profile_text(&profile.display_name, how, "DisplayName")?,
        preferred_language: language(&profile.preferred_language, how)?,
        // Numbers ZITADEL does not define are read as unspecified, as it reads them.
        gender: Gender::from_number_or_unspecified(profile.gender),
        ..cmd.profile
    };
    cmd.email_verified = email_part.is_email_verified;
    cmd.phone = phone;
    Ok(cmd)
}

/// AddHumanUser's request as the command. A user given an initial password
/// must change it at the first sign-in, as in ZITADEL.
pub fn add_command(r: pb::AddHumanUserRequest) -> Result<NewHumanUser, Fault> {
    let parts = Parts { user_name: r.user_name, profile: r.profile, email: r.email, phone: r.phone };
    let mut cmd = new_user(parts, Creation::Add)?;
    if !r.initial_password.is_empty() {
        cmd.password = Some(NewPassword::Plain(r.initial_password));
        cmd.password_change_required = true;
    }
    Ok(cmd)
}

fn unsupported(field: &str, reason: &str) -> Fault {
    invalid(ids::FIELD_INVALID, format!("Invalid {field}: {reason}"))
}

/// ImportHumanUser's request as the command. `otp_code` is ignored, as
/// ZITADEL ignores it.
pub fn import_command(r: pb::ImportHumanUserRequest) -> Result<NewHumanUser, Fault> {
    if r.request_passwordless_registration {
        return Err(unsupported("request_passwordless_registration", "passwordless registration is not supported"));
    }
    if !r.idps.is_empty() {
        return Err(unsupported("idps", "links to identity providers are not supported"));
    }
    let profile = r.profile.map(|p| pb::add_human_user_request::Profile {
        first_name: p.first_name,
        last_name: p.last_name,
        nick_name: p.nick_name,
        display_name: p.display_name,
        preferred_language: p.preferred_language,
        gender: p.gender,
    });
    let email =
        r.email.map(|e| pb::add_human_user_request::Email { email: e.email, is_email_verified: e.is_email_verified });
    let phone =
        r.phone.map(|p| pb::add_human_user_request::Phone { phone: p.phone, is_phone_verified: p.is_phone_verified });
    let mut cmd = new_user(Parts { user_name: r.user_name, profile, email, phone }, Creation::Import)?;
    let hashed_value = r.hashed_password.map(|h| h.value).filter(|h| !h.trim().is_empty());
    cmd.password = match (r.password.is_empty(), hashed_value) {
        (false, Some(_)) => return Err(unsupported("password", "give either password or hashed_password, not both")),
        (false, None) => Some(NewPassword::Plain(r.password)),
        (true, Some(h)) => Some(NewPassword::Hashed(hashed(&h)?)),
        (true, None) => None,
    };
    cmd.password_change_required = r.password_change_required;
    Ok(cmd)
}

/// A user id as a request names it; `message` is the request's name for
/// the validation message (`GetUserByIDRequest.Id`).
pub fn user_id(raw: &str, field: &str) -> Result<UserId, Fault> {
    UserId::parse(raw).map_err(|_| {
        invalid(
            ids::USER_ID_INVALID,
            format!("invalid {field}: value length must be between 1 and 200 runes, inclusive"),
        )
    })
}

/// RemoveUser's user: ZITADEL's own id when it is missing.
pub fn remove_command(r: &pb::RemoveUserRequest) -> Result<UserId, Fault> {
    if r.id.is_empty() {
        return Err(invalid(ids::USER_ID_MISSING_REMOVE, "User ID missing"));
    }
    user_id(&r.id, "RemoveUserRequest.Id")
}

/// ResendHumanInitialization's user and, when given, the corrected address.
pub fn resend_command(r: &pb::ResendHumanInitializationRequest) -> Result<(UserId, Option<EmailAddress>), Fault> {
    if r.user_id.is_empty() {
        return Err(invalid(ids::USER_ID_MISSING, "User ID missing"));
    }
    let id = user_id(&r.user_id, "ResendHumanInitializationRequest.UserId")?;
    let address = match r.email.trim() {
        "" => None,
        raw => Some(email(raw)?),
    };
    Ok((id, address))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jane() -> pb::AddHumanUserRequest {
        pb::AddHumanUserRequest {
            user_name: "jane".into(),
            profile: Some(pb::add_human_user_request::Profile {
                first_name: "Jane".into(),
                last_name: "Doe".into(),
                ..Default::default()
            }),
            email: Some(pb::add_human_user_request::Email {
                email: "jane@example.com".into(),
                is_email_verified: false,
            }),
            ..Default::default()
        }
    }

    fn import_of(r: pb::AddHumanUserRequest) -> pb::ImportHumanUserRequest {
        pb::ImportHumanUserRequest {
            user_name: r.user_name,
            profile: r.profile.map(|p| pb::import_human_user_request::Profile {
                first_name: p.first_name,
                last_name: p.last_name,
                nick_name: p.nick_name,
                display_name: p.display_name,
                preferred_language: p.preferred_language,
                gender: p.gender,
            }),
            email: r.email.map(|e| pb::import_human_user_request::Email {
                email: e.email,
                is_email_verified: e.is_email_verified,
            }),
            ..Default::default()
        }
    }

    fn id_of(r: Result<NewHumanUser, Fault>) -> &'static str {
        r.expect_err("refused").id
    }

    #[test]
    fn each_invalid_field_gets_zitadels_id_for_the_method() {
        type Change = fn(&mut pb::AddHumanUserRequest);
        let cases: Vec<(Change, &str, &str)> = vec![
            (|r| r.user_name = "  ".into(), "V2-zzad3", "COMMAND-00p2b"),
            (|r| r.profile.as_mut().unwrap().first_name.clear(), "USER-UCej2", "PROFILE-RF5z2"),
            (|r| r.profile.as_mut().unwrap().last_name = " ".into(), "USER-4hB7d", "PROFILE-DSUkN"),
            (|r| r.profile = None, "USER-UCej2", "PROFILE-RF5z2"),
            (|r| r.email.as_mut().unwrap().email.clear(), "EMAIL-spblu", "EMAIL-spblu"),
            (|r| r.email = None, "EMAIL-spblu", "EMAIL-spblu"),
            (|r| r.email.as_mut().unwrap().email = "not-an-address".into(), "EMAIL-599BI", "EMAIL-599BI"),
            (|r| r.user_name = "j".repeat(201), "ONBOARD-FIELD-INVALID", "ONBOARD-FIELD-INVALID"),
            (
                |r| r.profile.as_mut().unwrap().nick_name = "n".repeat(201),
                "ONBOARD-FIELD-INVALID",
                "ONBOARD-FIELD-INVALID",
            ),
            (
                |r| r.profile.as_mut().unwrap().preferred_language = "a-very-long-tag".into(),
                "ONBOARD-FIELD-INVALID",
                "ONBOARD-FIELD-INVALID",
            ),
        ];
        for (change, add_id, import_id) in cases {
            let mut r = jane();
            change(&mut r);
            assert_eq!(id_of(add_command(r.clone())), add_id, "{r:?}");
            assert_eq!(id_of(import_command(import_of(r.clone()))), import_id, "{r:?}");
        }
        let mut r = jane();
        r.phone = Some(pb::add_human_user_request::Phone { phone: "079 123 45 67".into(), is_phone_verified: false });
        assert_eq!(id_of(add_command(r)), "PHONE-so0wa");
    }

    #[test]
    fn add_checks_the_address_first_import_the_names_first() {
        let mut r = jane();
        r.user_name.clear();
        r.email.as_mut().unwrap().email = "bad".into();
        assert_eq!(id_of(add_command(r.clone())), "EMAIL-599BI");
        assert_eq!(id_of(import_command(import_of(r))), "COMMAND-00p2b");
    }

    #[test]
    fn what_zitadel_accepts_is_accepted() {
        let mut r = jane();
        r.user_name = "  Jane Doe ".into();
        let p = r.profile.as_mut().unwrap();
        p.preferred_language = "english!".into();
        p.gender = 42;
        p.first_name = " Anna Maria ".into();
        let cmd = add_command(r).unwrap();
        assert_eq!(cmd.user_name.as_str(), "Jane Doe");
        assert_eq!(cmd.profile.first_name.as_str(), "Anna Maria");
        assert_eq!(cmd.profile.preferred_language.unwrap().as_str(), "und");
        assert_eq!(cmd.profile.gender, Gender::Unspecified);
    }

    #[test]
    fn an_initial_password_must_be_changed_and_import_keeps_what_it_was_told() {
        let mut r = jane();
        r.initial_password = "a-Good-passw0rd".into();
        let cmd = add_command(r).unwrap();
        assert_eq!(cmd.password, Some(NewPassword::Plain("a-Good-passw0rd".into())));
        assert!(cmd.password_change_required);

        let mut i = import_of(jane());
        i.password = "a-Good-passw0rd".into();
        i.otp_code = "123456".into();
        let cmd = import_command(i.clone()).unwrap();
        assert!(!cmd.password_change_required);
        i.password_change_required = true;
        assert!(import_command(i).unwrap().password_change_required);
    }

    #[test]
    fn import_takes_modular_crypt_hashes_and_refuses_what_it_cannot_do() {
        let mut i = import_of(jane());
        i.hashed_password = Some(pb::import_human_user_request::HashedPassword {
            value: "$2b$10$abcdefghijklmnopqrstuu5Wj5JNUpmCnGgi/5q3YI/W4kO1rLfVa".into(),
        });
        assert!(matches!(import_command(i.clone()).unwrap().password, Some(NewPassword::Hashed(_))));
        let mut both = i.clone();
        both.password = "a-Good-passw0rd".into();
        assert_eq!(import_command(both).unwrap_err().id, "ONBOARD-FIELD-INVALID");
        let mut bad = i.clone();
        bad.hashed_password.as_mut().unwrap().value = "md5:abc".into();
        assert_eq!(import_command(bad).unwrap_err().id, "USER-JDk4t");
        let mut passwordless = i;
        passwordless.request_passwordless_registration = true;
        assert_eq!(import_command(passwordless).unwrap_err().id, "ONBOARD-FIELD-INVALID");
    }

    #[test]
    fn resend_needs_a_user_and_takes_an_address_only_when_one_is_given() {
        let r = |user_id: &str, email: &str| pb::ResendHumanInitializationRequest {
            user_id: user_id.into(),
            email: email.into(),
        };
        assert_eq!(resend_command(&r("", "")).unwrap_err().id, "COMMAND-2n8vs");
        assert_eq!(resend_command(&r(&"1".repeat(201), "")).unwrap_err().id, "ONBOARD-USERID-INVALID");
        assert_eq!(resend_command(&r("1", "nope")).unwrap_err().message(), "Email is invalid (EMAIL-599BI)");
        assert_eq!(resend_command(&r("1", " ")).unwrap().1, None);
        assert_eq!(resend_command(&r("1", "a@example.com")).unwrap().1.unwrap().as_str(), "a@example.com");
    }
}
