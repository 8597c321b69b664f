//! Each use case's errors as faults: the one place where a domain condition
//! gets its code, id and text.

use std::borrow::Cow;

use onboard_domain::usecases::{
    AdminError, AuthorizeError, CreateUserError, GetUserError, IdempotencyError, InviteError, InviteVerifyError,
    ListInvitationsError, ListUsersError, MAX_INVITATION_PAGE, RemoveUserError, ResendError, SetPasswordError,
};
use onboard_domain::{PolicyViolation, ThrottleReason, Throttled};

use crate::management::Creation;

use super::{Code, Fault, ids};

impl From<Throttled> for Fault {
    fn from(t: Throttled) -> Self {
        let id = match t.reason {
            ThrottleReason::ResendCooldown => ids::THROTTLED_RESEND_COOLDOWN,
            ThrottleReason::RecipientDailyCap => ids::THROTTLED_RECIPIENT_DAILY_CAP,
            ThrottleReason::CallerRate => ids::THROTTLED_CALLER_RATE,
        };
        let mut f = Fault::new(Code::ResourceExhausted, id, format!("Too many requests: {}", t.reason.describe()));
        f.retry_after = Some(t.retry_after);
        f
    }
}

fn contention() -> Fault {
    Fault::new(Code::Aborted, ids::CONTENTION, "The user was changed concurrently; try again")
}

fn invalid(id: &'static str, text: impl Into<Cow<'static, str>>) -> Fault {
    Fault::new(Code::InvalidArgument, id, text)
}

impl From<AuthorizeError> for Fault {
    fn from(e: AuthorizeError) -> Self {
        match e {
            AuthorizeError::MissingToken => {
                Fault::new(Code::Unauthenticated, ids::TOKEN_MISSING, "auth header missing")
            }
            // ZITADEL answers with the untranslated key.
            AuthorizeError::InvalidToken => {
                Fault::new(Code::Unauthenticated, ids::TOKEN_INVALID, "Errors.Token.Invalid")
            }
            AuthorizeError::OrganizationNotFound => {
                Fault::new(Code::PermissionDenied, ids::ORG_NOT_FOUND, "Organisation doesn't exist")
            }
            AuthorizeError::PermissionDenied => {
                Fault::new(Code::PermissionDenied, ids::PERMISSION_DENIED, "No matching permissions found")
            }
            AuthorizeError::Throttled(t) => t.into(),
            AuthorizeError::Unavailable(r) => Fault::unavailable(&r),
        }
    }
}

impl From<ResendError> for Fault {
    fn from(e: ResendError) -> Self {
        match e {
            ResendError::NotFound => Fault::new(Code::NotFound, ids::USER_NOT_FOUND_COMMAND, "User could not be found"),
            ResendError::NotInitial => {
                Fault::new(Code::FailedPrecondition, ids::USER_ALREADY_INITIALIZED, "User is already initialized")
            }
            ResendError::Contention => contention(),
            ResendError::Throttled(t) => t.into(),
            ResendError::Unavailable(r) => Fault::unavailable(&r),
        }
    }
}

impl From<GetUserError> for Fault {
    fn from(e: GetUserError) -> Self {
        match e {
            GetUserError::NotFound => Fault::new(Code::NotFound, ids::USER_NOT_FOUND_QUERY, "User could not be found"),
            GetUserError::Unavailable(r) => Fault::unavailable(&r),
        }
    }
}

impl From<ListUsersError> for Fault {
    fn from(e: ListUsersError) -> Self {
        match e {
            ListUsersError::TooDeep => invalid(ids::QUERY_TOO_DEEP, "Too many query nesting levels (Max 20)"),
            ListUsersError::Unavailable(r) => Fault::unavailable(&r),
        }
    }
}

impl From<ListInvitationsError> for Fault {
    fn from(e: ListInvitationsError) -> Self {
        match e {
            ListInvitationsError::PageTooLarge(given) => invalid(
                ids::LIST_LIMIT_EXCEEDED,
                format!("Invalid pageSize: {given} is above the maximum {MAX_INVITATION_PAGE}"),
            ),
            ListInvitationsError::BadPageToken(_) => {
                invalid(ids::PAGE_TOKEN_INVALID, "Invalid pageToken: not one this listing returned")
            }
            ListInvitationsError::Unavailable(r) => Fault::unavailable(&r),
        }
    }
}

impl From<onboard_domain::usecases::BulkResendError> for Fault {
    fn from(e: onboard_domain::usecases::BulkResendError) -> Self {
        use onboard_domain::usecases::BulkResendError as E;
        match e {
            E::NoUsers | E::TooManyIds(_) => invalid(ids::FIELD_INVALID, format!("Invalid userIds: {e}")),
            E::TooManyMatched => invalid(ids::BULK_TOO_MANY_MATCHED, format!("Invalid filter: {e}")),
            E::Listing(l) => l.into(),
            E::Unavailable(r) => Fault::unavailable(&r),
        }
    }
}

impl From<onboard_domain::invitation::FilterError> for Fault {
    fn from(e: onboard_domain::invitation::FilterError) -> Self {
        invalid(ids::INVITATION_FILTER_INVALID, format!("Invalid filter: {e}"))
    }
}

impl From<RemoveUserError> for Fault {
    fn from(e: RemoveUserError) -> Self {
        match e {
            RemoveUserError::NotFound => {
                Fault::new(Code::NotFound, ids::USER_NOT_FOUND_REMOVE, "User could not be found")
            }
            RemoveUserError::Contention => contention(),
            RemoveUserError::Unavailable(r) => Fault::unavailable(&r),
        }
    }
}

impl From<onboard_domain::ports::Unavailable> for Fault {
    fn from(r: onboard_domain::ports::Unavailable) -> Self {
        Fault::unavailable(&r)
    }
}

/// A password the policy refused, with the id of the method that refused
/// it (`Creation::Add` or `Creation::Import`; ZITADEL's ids differ).
pub fn password_policy(v: PolicyViolation, how: Creation) -> Fault {
    let at = usize::from(how == Creation::Import);
    let (id, text) = match v {
        PolicyViolation::TooShort(_) => (ids::PASSWORD_TOO_SHORT[at], "Password is too short"),
        PolicyViolation::NoLower => (ids::PASSWORD_NO_LOWER[at], "Password must contain lower case"),
        PolicyViolation::NoUpper => (ids::PASSWORD_NO_UPPER[at], "Password must contain upper case"),
        PolicyViolation::NoDigit => (ids::PASSWORD_NO_DIGIT[at], "Password must contain number"),
        PolicyViolation::NoSymbol => (ids::PASSWORD_NO_SYMBOL[at], "Password must contain symbol"),
        PolicyViolation::TooLong => (ids::PASSWORD_TOO_LONG, "Password is too long"),
    };
    invalid(id, text)
}

/// A creation's errors, with the ids of the method that made it.
pub fn creation(e: CreateUserError, how: Creation) -> Fault {
    match e {
        CreateUserError::PasswordPolicy(v) => password_policy(v, how),
        CreateUserError::UserNameTaken => {
            Fault::new(Code::AlreadyExists, ids::USER_ALREADY_EXISTS, "User already exists")
        }
        CreateUserError::UserIdTaken => {
            Fault::new(Code::AlreadyExists, ids::USER_ALREADY_EXISTS, "User already exists")
        }
        CreateUserError::OriginNotAllowed => origin_not_allowed(),
        CreateUserError::Contention => contention(),
        CreateUserError::Unavailable(r) => Fault::unavailable(&r),
    }
}

fn origin_not_allowed() -> Fault {
    invalid(ids::URL_ORIGIN_NOT_ALLOWED, "The URL template's origin is not allowed")
}

/// Which v2 method an [`InviteError`] came from: ZITADEL's ids differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Invitation {
    Create,
    Resend,
}

/// CreateInviteCode's and ResendInviteCode's errors.
pub fn invitation(e: InviteError, how: Invitation) -> Fault {
    let resend = how == Invitation::Resend;
    match e {
        InviteError::NotFound => Fault::new(
            Code::FailedPrecondition,
            if resend { ids::RESEND_INVITE_USER_NOT_FOUND } else { ids::INVITE_USER_NOT_FOUND },
            "User could not be found",
        ),
        InviteError::NotInitial => Fault::new(
            Code::FailedPrecondition,
            if resend { ids::RESEND_INVITE_ALREADY_INITIALIZED } else { ids::INVITE_ALREADY_INITIALIZED },
            "User is already initialized",
        ),
        InviteError::NoCodeToResend => {
            Fault::new(Code::FailedPrecondition, ids::INVITE_CODE_NOT_FOUND, "Code not found")
        }
        InviteError::OriginNotAllowed => origin_not_allowed(),
        InviteError::Contention => contention(),
        InviteError::Throttled(t) => t.into(),
        InviteError::Unavailable(r) => Fault::unavailable(&r),
    }
}

impl From<InviteVerifyError> for Fault {
    fn from(e: InviteVerifyError) -> Self {
        match e {
            InviteVerifyError::NotFound => {
                Fault::new(Code::FailedPrecondition, ids::VERIFY_INVITE_USER_NOT_FOUND, "User could not be found")
            }
            InviteVerifyError::AlreadyInitialized => {
                Fault::new(Code::FailedPrecondition, ids::INVITE_ALREADY_INITIALIZED, "User is already initialized")
            }
            InviteVerifyError::Used => {
                Fault::new(Code::FailedPrecondition, ids::INVITE_CODE_USED, "The code was already used")
            }
            InviteVerifyError::Expired => Fault::new(Code::FailedPrecondition, ids::CODE_EXPIRED, "Code is expired"),
            InviteVerifyError::TooManyAttempts => Fault::new(
                Code::FailedPrecondition,
                ids::CODE_ATTEMPTS_EXHAUSTED,
                "Too many wrong attempts; create a new invite code",
            ),
            InviteVerifyError::WrongCode { .. } => invalid(ids::INVITE_CODE_INVALID, "Code is invalid"),
            // ZITADEL's clients know an earlier code only as an invalid one: the
            // wire says so, though onboard counts no attempt for it.
            InviteVerifyError::Superseded { .. } => invalid(ids::INVITE_CODE_INVALID, "Code is invalid"),
            InviteVerifyError::Contention => contention(),
            InviteVerifyError::Unavailable(r) => Fault::unavailable(&r),
        }
    }
}

/// The v2 ListUsers' errors.
pub fn v2_listing(e: ListUsersError) -> Fault {
    match e {
        ListUsersError::TooDeep => invalid(
            ids::LIST_QUERY_TOO_DEEP,
            format!("Invalid queries: nested deeper than {}", onboard_domain::user_query::MAX_QUERY_DEPTH),
        ),
        ListUsersError::Unavailable(r) => Fault::unavailable(&r),
    }
}

/// The v2 DeleteUser's errors (ZITADEL's `RemoveUserV2`).
pub fn v2_deletion(e: RemoveUserError) -> Fault {
    match e {
        RemoveUserError::NotFound => Fault::new(Code::NotFound, ids::DELETE_USER_NOT_FOUND, "User could not be found"),
        RemoveUserError::Contention => contention(),
        RemoveUserError::Unavailable(r) => Fault::unavailable(&r),
    }
}

impl From<SetPasswordError> for Fault {
    fn from(e: SetPasswordError) -> Self {
        match e {
            SetPasswordError::NotFound => {
                Fault::new(Code::NotFound, ids::USER_NOT_FOUND_COMMAND, "User could not be found")
            }
            SetPasswordError::PasswordPolicy(v) => password_policy(v, Creation::Add),
            SetPasswordError::WrongCurrentPassword => invalid(ids::CURRENT_PASSWORD_INVALID, "Password is invalid"),
            SetPasswordError::Contention => contention(),
            SetPasswordError::Unavailable(r) => Fault::unavailable(&r),
        }
    }
}

impl From<CreateUserError> for Fault {
    fn from(e: CreateUserError) -> Self {
        creation(e, Creation::Add)
    }
}

impl From<IdempotencyError> for Fault {
    fn from(e: IdempotencyError) -> Self {
        match e {
            IdempotencyError::InvalidKey => {
                invalid(ids::IDEMPOTENCY_KEY_INVALID, format!("Idempotency-Key is invalid: {e}"))
            }
            IdempotencyError::Unavailable(r) => Fault::unavailable(&r),
        }
    }
}

impl From<AdminError> for Fault {
    fn from(e: AdminError) -> Self {
        match e {
            // The ids are the caller's own: not repeated, as for users.
            AdminError::UnknownOrganization(_) => {
                Fault::new(Code::NotFound, ids::ADMIN_ORG_NOT_FOUND, "Organization could not be found")
            }
            AdminError::UnknownAccount(_) => {
                Fault::new(Code::NotFound, ids::ADMIN_ACCOUNT_NOT_FOUND, "Service account could not be found")
            }
            AdminError::UnknownToken(_) => {
                Fault::new(Code::NotFound, ids::ADMIN_TOKEN_NOT_FOUND, "Token could not be found")
            }
            AdminError::Invalid(reason) => invalid(ids::FIELD_INVALID, format!("Invalid argument: {reason}")),
            AdminError::PermissionDenied => {
                Fault::new(Code::PermissionDenied, ids::PERMISSION_DENIED, "No matching permissions found")
            }
            AdminError::Unavailable(r) => Fault::unavailable(&r),
            AdminError::UnknownWebhook(_) => {
                Fault::new(Code::NotFound, ids::ADMIN_WEBHOOK_NOT_FOUND, "Webhook endpoint could not be found")
            }
            AdminError::UnknownWebhookDelivery(_) => {
                Fault::new(Code::NotFound, ids::ADMIN_WEBHOOK_DELIVERY_NOT_FOUND, "Webhook delivery could not be found")
            }
            // As if the routes did not exist, like administration when not served.
            AdminError::WebhooksNotServed => {
                Fault::new(Code::NotFound, ids::ROUTE_NOT_FOUND, "Not found: no such route")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_answers_clients_match_on_are_zitadels() {
        let cases: Vec<(Fault, Code, &str, &str)> = vec![
            (ResendError::NotFound.into(), Code::NotFound, "COMMAND-2M9df", "User could not be found"),
            (GetUserError::NotFound.into(), Code::NotFound, "QUERY-Dfbg2", "User could not be found"),
            (ResendError::NotInitial.into(), Code::FailedPrecondition, "COMMAND-2M9sd", "User is already initialized"),
            (RemoveUserError::NotFound.into(), Code::NotFound, "COMMAND-m9od", "User could not be found"),
            (
                ListUsersError::TooDeep.into(),
                Code::InvalidArgument,
                "USER-zsQ97",
                "Too many query nesting levels (Max 20)",
            ),
            (CreateUserError::UserNameTaken.into(), Code::AlreadyExists, "V3-DKcYh", "User already exists"),
            (AuthorizeError::InvalidToken.into(), Code::Unauthenticated, "AUTH-7fs1e", "Errors.Token.Invalid"),
            (
                AuthorizeError::OrganizationNotFound.into(),
                Code::PermissionDenied,
                "AUTH-Bs7Ds",
                "Organisation doesn't exist",
            ),
            (
                AuthorizeError::PermissionDenied.into(),
                Code::PermissionDenied,
                "AUTH-5mWD2",
                "No matching permissions found",
            ),
        ];
        for (fault, code, id, text) in cases {
            assert_eq!((fault.code, fault.id, fault.text.as_ref()), (code, id, text));
        }
    }

    #[test]
    fn password_rules_get_the_creating_methods_ids() {
        let add = password_policy(PolicyViolation::NoLower, Creation::Add);
        assert_eq!(add.message(), "Password must contain lower case (COMMA-co3Xw)");
        let import = password_policy(PolicyViolation::TooShort(8), Creation::Import);
        assert_eq!(import.message(), "Password is too short (DOMAIN-HuJf6)");
    }

    #[test]
    fn throttled_calls_say_why_and_when() {
        let t = Throttled { reason: ThrottleReason::ResendCooldown, retry_after: std::time::Duration::from_secs(30) };
        let f: Fault = ResendError::Throttled(t).into();
        assert_eq!(
            (f.code, f.id, f.retry_after_secs()),
            (Code::ResourceExhausted, ids::THROTTLED_RESEND_COOLDOWN, Some(30))
        );
    }

    #[test]
    fn store_failures_do_not_leak_their_reason() {
        let f: Fault =
            ResendError::Unavailable(onboard_domain::ports::Unavailable("redis at 10.0.0.1 refused".into())).into();
        assert_eq!(f.code, Code::Unavailable);
        assert!(!f.message().contains("10.0.0.1"));
    }
}
