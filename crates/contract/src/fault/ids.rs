//! Error ids. ZITADEL's own wherever ZITADEL answers the same condition
//! (clients match on them, message text included); onboard's own, prefixed
//! `ONBOARD-`, for conditions ZITADEL does not have.

// Authentication and authorization (ZITADEL's auth interceptor).
/// A token that is not valid, and an `authorization` that is not `Bearer <token>`.
pub const TOKEN_INVALID: &str = "AUTH-7fs1e";
pub const PERMISSION_DENIED: &str = "AUTH-5mWD2";
pub const ORG_NOT_FOUND: &str = "AUTH-Bs7Ds";

// Users.
pub const USER_NOT_FOUND_COMMAND: &str = "COMMAND-2M9df";
pub const USER_NOT_FOUND_QUERY: &str = "QUERY-Dfbg2";
pub const USER_ALREADY_INITIALIZED: &str = "COMMAND-2M9sd";
pub const USER_ID_MISSING: &str = "COMMAND-2n8vs";
pub const USER_ALREADY_EXISTS: &str = "V3-DKcYh";
pub const USER_NAME_EMPTY: &str = "V2-zzad3";
pub const USER_NAME_EMPTY_IMPORT: &str = "COMMAND-00p2b";
pub const FIRST_NAME_EMPTY: &str = "USER-UCej2";
pub const FIRST_NAME_EMPTY_IMPORT: &str = "PROFILE-RF5z2";
pub const LAST_NAME_EMPTY: &str = "USER-4hB7d";
pub const LAST_NAME_EMPTY_IMPORT: &str = "PROFILE-DSUkN";
pub const EMAIL_EMPTY: &str = "EMAIL-spblu";
pub const EMAIL_INVALID: &str = "EMAIL-599BI";
pub const PHONE_INVALID: &str = "PHONE-so0wa";
pub const PASSWORD_HASH_UNSUPPORTED: &str = "USER-JDk4t";
/// RemoveUser's own ids for a missing id and a user that is not there.
pub const USER_ID_MISSING_REMOVE: &str = "COMMAND-2M0ds";
pub const USER_NOT_FOUND_REMOVE: &str = "COMMAND-m9od";

// Listings (ZITADEL's query layer and its gRPC conversion).
pub const QUERY_LIMIT_EXCEEDED: &str = "QUERY-4M0fs";
pub const QUERY_TOO_DEEP: &str = "USER-zsQ97";
/// A search query with none of its kinds set.
pub const LIST_QUERY_INVALID: &str = "GRPC-vR9nC";

/// The password policy's rules, in ZITADEL's order of checking: as
/// AddHumanUser answers them (`COMMA-…`) and as ImportHumanUser does (`DOMAIN-…`).
pub const PASSWORD_TOO_SHORT: [&str; 2] = ["COMMA-HuJf6", "DOMAIN-HuJf6"];
pub const PASSWORD_NO_LOWER: [&str; 2] = ["COMMA-co3Xw", "DOMAIN-co3Xw"];
pub const PASSWORD_NO_UPPER: [&str; 2] = ["COMMA-VoaRj", "DOMAIN-VoaRj"];
pub const PASSWORD_NO_DIGIT: [&str; 2] = ["COMMA-ZBv4H", "DOMAIN-ZBv4H"];
pub const PASSWORD_NO_SYMBOL: [&str; 2] = ["COMMA-ZDLwA", "DOMAIN-ZDLwA"];

// The v2 API's invitation (ZITADEL's `internal/command/user_v2_invite.go`);
// ZITADEL answers "not found" there as a failed precondition.
pub const INVITE_USER_ID_MISSING: &str = "COMMAND-4jio3";
pub const INVITE_USER_NOT_FOUND: &str = "COMMAND-Wgvn4";
pub const INVITE_ALREADY_INITIALIZED: &str = "COMMAND-EF34g";
pub const RESEND_INVITE_USER_NOT_FOUND: &str = "COMMAND-H3b2a";
pub const RESEND_INVITE_ALREADY_INITIALIZED: &str = "COMMAND-Gg42s";
/// ResendInviteCode without a mailed code to resend.
pub const INVITE_CODE_NOT_FOUND: &str = "COMMAND-Wr3gq";
pub const VERIFY_INVITE_USER_ID_MISSING: &str = "COMMAND-Gk3f2";
pub const VERIFY_INVITE_USER_NOT_FOUND: &str = "COMMAND-F5g2h";
pub const INVITE_CODE_INVALID: &str = "COMMAND-Wgn4q";
/// An expired code (ZITADEL's `crypto.VerifyCode`).
pub const CODE_EXPIRED: &str = "CODE-QvUQ4P";
pub const DELETE_USER_ID_MISSING: &str = "COMMAND-vaipl7s13l";
pub const DELETE_USER_NOT_FOUND: &str = "COMMAND-bd4ir1mblj";
/// A link template that does not parse (ZITADEL's `domain.renderURLTemplate`).
pub const URL_TEMPLATE_INVALID: &str = "DOMAIN-oGh5e";

// onboard's own.
/// A link template aiming at an origin not in `ONBOARD_INVITE_URL_ORIGINS`.
pub const URL_ORIGIN_NOT_ALLOWED: &str = "ONBOARD-URL-ORIGIN-NOT-ALLOWED";
/// VerifyInviteCode of a code that was proven already (ZITADEL answers
/// COMMAND-Wgn4q, as for a wrong code).
pub const INVITE_CODE_USED: &str = "ONBOARD-INVITE-CODE-USED";
/// VerifyInviteCode after as many wrong attempts as the page allows.
pub const CODE_ATTEMPTS_EXHAUSTED: &str = "ONBOARD-CODE-ATTEMPTS-EXHAUSTED";
pub const PASSWORD_MISSING: &str = "ONBOARD-PASSWORD-MISSING";
/// A listing's `limit` above its maximum.
pub const LIST_LIMIT_EXCEEDED: &str = "ONBOARD-LIST-LIMIT-EXCEEDED";
/// A listing's query tree nested too deep.
pub const LIST_QUERY_TOO_DEEP: &str = "ONBOARD-LIST-QUERY-TOO-DEEP";
/// SetPassword's `current_password` is not the user's.
pub const CURRENT_PASSWORD_INVALID: &str = "ONBOARD-PASSWORD-INVALID";
/// No `authorization` at all: ZITADEL answers this one without a detail.
pub const TOKEN_MISSING: &str = "ONBOARD-TOKEN-MISSING";
pub const USER_ID_INVALID: &str = "ONBOARD-USERID-INVALID";
pub const FIELD_INVALID: &str = "ONBOARD-FIELD-INVALID";
/// A password longer than onboard hashes (ZITADEL has no such limit).
pub const PASSWORD_TOO_LONG: &str = "ONBOARD-PASSWORD-TOO-LONG";
pub const CONTENTION: &str = "ONBOARD-CONTENTION";
pub const UNAVAILABLE: &str = "ONBOARD-UNAVAILABLE";
pub const REQUEST_INVALID: &str = "ONBOARD-REQUEST-INVALID";
pub const ROUTE_NOT_FOUND: &str = "ONBOARD-ROUTE-NOT-FOUND";
pub const METHOD_NOT_ALLOWED: &str = "ONBOARD-METHOD-NOT-ALLOWED";
pub const BODY_TOO_LARGE: &str = "ONBOARD-BODY-TOO-LARGE";
pub const INTERNAL: &str = "ONBOARD-INTERNAL";
pub const UNIMPLEMENTED: &str = "ONBOARD-UNIMPLEMENTED";
pub const THROTTLED_RESEND_COOLDOWN: &str = "ONBOARD-THROTTLED-RESEND-COOLDOWN";
pub const THROTTLED_RECIPIENT_DAILY_CAP: &str = "ONBOARD-THROTTLED-RECIPIENT-DAILY-CAP";
pub const THROTTLED_CALLER_RATE: &str = "ONBOARD-THROTTLED-CALLER-RATE";
pub const IDEMPOTENCY_KEY_INVALID: &str = "ONBOARD-IDEMPOTENCY-KEY-INVALID";
pub const IDEMPOTENCY_KEY_REUSED: &str = "ONBOARD-IDEMPOTENCY-KEY-REUSED";
pub const IDEMPOTENCY_IN_FLIGHT: &str = "ONBOARD-IDEMPOTENCY-IN-FLIGHT";
/// A `pageToken` of the invitation listing that it did not make.
pub const PAGE_TOKEN_INVALID: &str = "ONBOARD-PAGE-TOKEN-INVALID";
/// A bulk resend whose filter matches more invitations than one call takes.
pub const BULK_TOO_MANY_MATCHED: &str = "ONBOARD-BULK-TOO-MANY-MATCHED";
/// An invitation filter that no invitation can meet.
pub const INVITATION_FILTER_INVALID: &str = "ONBOARD-INVITATION-FILTER-INVALID";

// onboard's administration API (`/admin/v1`).
pub const ADMIN_ORG_NOT_FOUND: &str = "ONBOARD-ORG-NOT-FOUND";
pub const ADMIN_ACCOUNT_NOT_FOUND: &str = "ONBOARD-ACCOUNT-NOT-FOUND";
pub const ADMIN_TOKEN_NOT_FOUND: &str = "ONBOARD-TOKEN-NOT-FOUND";
pub const ADMIN_WEBHOOK_NOT_FOUND: &str = "ONBOARD-WEBHOOK-NOT-FOUND";
pub const ADMIN_WEBHOOK_DELIVERY_NOT_FOUND: &str = "ONBOARD-WEBHOOK-DELIVERY-NOT-FOUND";
