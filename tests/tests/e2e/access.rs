//! Who may do what, where: every role × method (v1 and the v2 User Service) × organization against the
//! contract's permission table, then the ways a bearer token (onboard's own
//! or an identity provider's JWT) is refused, and gRPC-Web parity for two of
//! those answers.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use onboard_domain::{Grant, GrantScope, OrgId, Principal, Role};
use onboard_grpc::testing::{self as grpc_web, GrpcWebAnswer};
use onboard_jwt::JwksSource;
use onboard_jwt::testing::{
    self as jwt, Algorithm, EncodingKey, Header, TestKey, b64, merged, now, read_key_file, sign, sign_as,
    sign_with_kid, zitadel_claims,
};
use onboard_tests::{Reply, TestApp};
use reqwest::Method;
use serde_json::{Value, json};

const HUMAN: &str = "/management/v1/users/human";
/// An organization id nobody created.
const MISSING_ORG: &str = "404404404";
const PERMISSION_DENIED: &str = "AUTH-5mWD2";
const ORG_NOT_FOUND: &str = "AUTH-Bs7Ds";
/// What a resend answers for a user not found; a read answers QUERY-Dfbg2,
/// a removal COMMAND-m9od.
const USER_NOT_FOUND: &str = "COMMAND-2M9df";
const USER_NOT_FOUND_REMOVE: &str = "COMMAND-m9od";
const USER_NOT_FOUND_QUERY: &str = "QUERY-Dfbg2";
const TOKEN_INVALID: &str = "AUTH-7fs1e";

// ---------------------------------------------------------------------------
// The contract's permission table, written out again rather than taken from
// `Role::grants`, so the matrix checks the product against the contract and
// not against itself.

/// Roles holding `user.write` (and so `user.read`).
const WRITERS: [&str; 5] = ["IAM_OWNER", "IAM_ORG_MANAGER", "IAM_USER_MANAGER", "ORG_OWNER", "ORG_USER_MANAGER"];
/// Roles holding `user.read` only.
const VIEWERS: [&str; 2] = ["IAM_OWNER_VIEWER", "ORG_OWNER_VIEWER"];

/// What a method needs: `user.read` or `user.global.read` (every role), or
/// `user.write` or `user.delete` (the writers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Needs {
    Read,
    Write,
    /// `user.global.read`: instance roles only.
    GlobalRead,
}

/// Whether a caller holding `role` (ORG_* roles granted in the home
/// organization only, IAM_* roles instance-wide) has the method's permission
/// in an existing organization, `home` or another one.
fn contract_allows(role: Option<Role>, needs: Needs, in_home: bool) -> bool {
    let Some(role) = role else { return false };
    let name = role.as_str();
    let instance_wide = name.starts_with("IAM_");
    if needs == Needs::GlobalRead {
        return instance_wide;
    }
    let holds = WRITERS.contains(&name) || (needs == Needs::Read && VIEWERS.contains(&name));
    holds && (in_home || instance_wide)
}

// ---------------------------------------------------------------------------
// The methods.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Call {
    AddHumanUser,
    ImportHumanUser,
    ResendHumanInitialization,
    GetUserByID,
    ListUserNotifications,
    ListUsers,
    IsUserUnique,
    GetUserByLoginNameGlobal,
    RemoveUser,
    ListUserChanges,
    // The v2 User Service, over its REST mapping.
    V2AddHumanUser,
    V2GetUserByID,
    V2CreateInviteCode,
    V2ResendInviteCode,
    V2VerifyInviteCode,
    V2SetPassword,
    V2ListUsers,
    V2DeleteUser,
}

impl Call {
    const ALL: [Call; 18] = [
        Call::AddHumanUser,
        Call::ImportHumanUser,
        Call::ResendHumanInitialization,
        Call::GetUserByID,
        Call::ListUserNotifications,
        Call::ListUsers,
        Call::IsUserUnique,
        Call::GetUserByLoginNameGlobal,
        Call::RemoveUser,
        Call::ListUserChanges,
        Call::V2AddHumanUser,
        Call::V2GetUserByID,
        // Before the resend and the verification: a new mailed code, so
        // there is one to resend and its wrong attempts start again.
        Call::V2CreateInviteCode,
        Call::V2ResendInviteCode,
        Call::V2VerifyInviteCode,
        Call::V2SetPassword,
        Call::V2ListUsers,
        // Each cell deletes a user of its own, as RemoveUser's do.
        Call::V2DeleteUser,
    ];

    fn needs(self) -> Needs {
        match self {
            Self::AddHumanUser
            | Self::ImportHumanUser
            | Self::ResendHumanInitialization
            | Self::RemoveUser
            | Self::V2AddHumanUser
            | Self::V2CreateInviteCode
            | Self::V2ResendInviteCode
            | Self::V2VerifyInviteCode
            | Self::V2SetPassword
            | Self::V2DeleteUser => Needs::Write,
            Self::GetUserByLoginNameGlobal => Needs::GlobalRead,
            _ => Needs::Read,
        }
    }

    /// Whether the call names an existing user (so it can name someone else's).
    fn addresses_a_user(self) -> bool {
        !matches!(
            self,
            Self::AddHumanUser
                | Self::ImportHumanUser
                | Self::ListUsers
                | Self::IsUserUnique
                | Self::V2AddHumanUser
                | Self::V2ListUsers
        )
    }

    /// The id of the error for a user that is not in the organization acted in.
    fn not_found_id(self) -> &'static str {
        match self {
            Self::ResendHumanInitialization => USER_NOT_FOUND,
            Self::RemoveUser => USER_NOT_FOUND_REMOVE,
            _ => USER_NOT_FOUND_QUERY,
        }
    }

    /// What the call answers for a user it cannot see: status, code, id.
    /// ZITADEL's v2 invitation commands answer it as a failed precondition.
    fn hidden(self) -> (u16, i64, &'static str) {
        match self {
            Self::V2CreateInviteCode => (400, 9, "COMMAND-Wgvn4"),
            Self::V2ResendInviteCode => (400, 9, "COMMAND-H3b2a"),
            Self::V2VerifyInviteCode => (400, 9, "COMMAND-F5g2h"),
            Self::V2SetPassword => (404, 5, USER_NOT_FOUND),
            Self::V2DeleteUser => (404, 5, "COMMAND-bd4ir1mblj"),
            _ => (404, 5, self.not_found_id()),
        }
    }
}

/// The user names of the users made here, by id (GetUserByLoginNameGlobal
/// names a user by its login name).
fn names() -> &'static Mutex<HashMap<String, String>> {
    static NAMES: std::sync::OnceLock<Mutex<HashMap<String, String>>> = std::sync::OnceLock::new();
    NAMES.get_or_init(Mutex::default)
}

/// Names unique across the whole file, so creates never collide.
fn unique(prefix: &str) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    format!("{prefix}-{}", NEXT.fetch_add(1, Ordering::Relaxed))
}

/// A valid request body for a new Initial user (no password, unverified email).
fn new_user_body() -> Value {
    let name = unique("access");
    json!({
        "userName": name,
        "profile": {"firstName": "Access", "lastName": "Matrix"},
        "email": {"email": format!("{name}@example.com")},
    })
}

/// The method, path and body of `call` (about `user` where it names one).
fn route(call: Call, user: &str) -> (Method, String, Option<Value>) {
    let users = "/management/v1/users";
    match call {
        Call::AddHumanUser => (Method::POST, HUMAN.to_owned(), Some(new_user_body())),
        Call::ImportHumanUser => (Method::POST, format!("{HUMAN}/_import"), Some(new_user_body())),
        Call::ResendHumanInitialization => {
            (Method::POST, format!("{users}/{user}/_resend_initialization"), Some(json!({})))
        }
        Call::GetUserByID => (Method::GET, format!("{users}/{user}"), None),
        Call::ListUserNotifications => (Method::GET, format!("{users}/{user}/notifications"), None),
        Call::ListUsers => (Method::POST, format!("{users}/_search"), Some(json!({}))),
        Call::IsUserUnique => (Method::GET, format!("{users}/_is_unique?userName={}", unique("free")), None),
        Call::GetUserByLoginNameGlobal => {
            let name = names().lock().unwrap().get(user).cloned().unwrap_or_else(|| "nobody".into());
            (Method::GET, format!("/management/v1/global/users/_by_login_name?loginName={name}"), None)
        }
        Call::RemoveUser => (Method::DELETE, format!("{users}/{user}"), None),
        Call::ListUserChanges => (Method::POST, format!("{users}/{user}/changes/_search"), Some(json!({}))),
        Call::V2AddHumanUser => {
            let name = unique("access-v2");
            let body = json!({
                "username": name,
                "profile": {"givenName": "Access", "familyName": "Matrix"},
                "email": {"email": format!("{name}@example.com")},
            });
            (Method::POST, "/v2/users/human".to_owned(), Some(body))
        }
        Call::V2GetUserByID => (Method::GET, format!("/v2/users/{user}"), None),
        Call::V2CreateInviteCode => {
            (Method::POST, format!("/v2/users/{user}/invite_code"), Some(json!({"sendCode": {}})))
        }
        Call::V2ResendInviteCode => (Method::POST, format!("/v2/users/{user}/invite_code/resend"), Some(json!({}))),
        Call::V2VerifyInviteCode => {
            (Method::POST, format!("/v2/users/{user}/invite_code/verify"), Some(json!({"verificationCode": "WRONG1"})))
        }
        Call::V2SetPassword => (
            Method::POST,
            format!("/v2/users/{user}/password"),
            Some(json!({"newPassword": {"password": "Access-Matrix-1!"}})),
        ),
        Call::V2ListUsers => (Method::POST, "/v2/users".to_owned(), Some(json!({"query": {"limit": 5}}))),
        Call::V2DeleteUser => (Method::DELETE, format!("/v2/users/{user}"), None),
    }
}

/// Sends `call` with `Authorization` as given (or left out) and, when given,
/// `x-zitadel-orgid: org`.
async fn raw_call(app: &TestApp, call: Call, authorization: Option<&str>, org: Option<&str>, user: &str) -> Reply {
    let (method, path, body) = route(call, user);
    let mut req = app.client.request(method, app.url(&path));
    if let Some(a) = authorization {
        req = req.header("authorization", a);
    }
    if let Some(o) = org {
        req = req.header("x-zitadel-orgid", o);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    TestApp::reply(req.send().await.expect("request sent")).await
}

/// Sends `call` with `token` as a bearer token.
async fn send(app: &TestApp, call: Call, token: Option<&str>, org: Option<&str>, user: &str) -> Reply {
    raw_call(app, call, token.map(|t| format!("Bearer {t}")).as_deref(), org, user).await
}

/// Creates an Initial user in `org` with the admin token; returns its id.
async fn create_in(app: &TestApp, org: &str) -> String {
    let body = new_user_body();
    let r = app.call(Method::POST, HUMAN, Some(&app.token), Some(org), Some(body.clone())).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["details"]["resourceOwner"], org, "{}", r.body);
    let id = r.body["userId"].as_str().unwrap().to_owned();
    names().lock().unwrap().insert(id.clone(), body["userName"].as_str().unwrap().to_owned());
    id
}

// ---------------------------------------------------------------------------
// Outcomes.

#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    /// 2xx, with a body that belongs to the organization acted in.
    Allowed,
    /// 403, code 7, AUTH-5mWD2.
    Denied,
    /// 403, code 7, AUTH-Bs7Ds: the organization acted in does not exist
    /// (told before the permission, as ZITADEL does).
    NoSuchOrg,
    /// 404, code 5, COMMAND-2M9df (resend), COMMAND-m9od (removal) or
    /// QUERY-Dfbg2 (reads): the user is not in the organization acted in.
    Hidden,
    /// 200 with nothing in it: ListUserChanges of a user the organization
    /// acted in has not (ZITADEL answers an empty list, not an error).
    Empty,
    /// Anything else, described.
    Unexpected(String),
}

impl Outcome {
    fn short(&self) -> String {
        match self {
            Self::Allowed => "200".into(),
            Self::Denied => "403".into(),
            Self::NoSuchOrg => "403 org".into(),
            Self::Hidden => "404".into(),
            Self::Empty => "200 empty".into(),
            Self::Unexpected(what) => what.clone(),
        }
    }
}

/// Whether `reply` is an error in the contract's exact shape.
fn is_error(reply: &Reply, status: u16, code: i64, id: &str) -> bool {
    let b = &reply.body;
    let text = b["details"][0]["message"].as_str().unwrap_or_default();
    reply.status.as_u16() == status
        && b["code"] == code
        && b["details"][0]["id"] == id
        && b["details"][0]["@type"] == "type.googleapis.com/zitadel.v1.ErrorDetail"
        && b["message"] == format!("{text} ({id})").as_str()
}

/// What `reply` to `call`, acting in `org` about `user`, amounts to.
fn classify(call: Call, reply: &Reply, org: &str, user: &str) -> Outcome {
    if is_error(reply, 403, 7, PERMISSION_DENIED) {
        return Outcome::Denied;
    }
    if is_error(reply, 403, 7, ORG_NOT_FOUND) {
        return Outcome::NoSuchOrg;
    }
    let (status, code, not_found) = call.hidden();
    if is_error(reply, status, code, not_found) {
        return Outcome::Hidden;
    }
    // The verification reached the code (a wrong one, on purpose).
    if call == Call::V2VerifyInviteCode && is_error(reply, 400, 3, "COMMAND-Wgn4q") {
        return Outcome::Allowed;
    }
    if !reply.status.is_success() {
        let id = reply.body["details"][0]["id"].as_str().unwrap_or("?");
        return Outcome::Unexpected(format!("{} {id}", reply.status.as_u16()));
    }
    // An allowed call must have acted where it was told to.
    let b = &reply.body;
    let fine = match call {
        Call::AddHumanUser | Call::ImportHumanUser => b["userId"].is_string() && b["details"]["resourceOwner"] == org,
        Call::ResendHumanInitialization => b["details"]["resourceOwner"] == org,
        Call::GetUserByID => b["user"]["id"] == user && b["user"]["details"]["resourceOwner"] == org,
        Call::ListUserNotifications => b["result"].is_array(),
        Call::ListUsers => b["result"]
            .as_array()
            .is_some_and(|users| !users.is_empty() && users.iter().all(|u| u["details"]["resourceOwner"] == org)),
        // A name nobody has: unique (true) wherever asked.
        Call::IsUserUnique => b["isUnique"] == true,
        // Found in whichever organization it is.
        Call::GetUserByLoginNameGlobal => b["user"]["id"] == user,
        Call::RemoveUser => b["details"]["resourceOwner"] == org,
        // protojson leaves an empty list out.
        Call::ListUserChanges => match b["result"].as_array() {
            None if b.as_object().is_some_and(|o| o.is_empty()) => return Outcome::Empty,
            None => false,
            Some(changes) => !changes.is_empty() && changes.iter().all(|c| c["resourceOwnerId"] == org),
        },
        Call::V2AddHumanUser => reply.status == 201 && b["userId"].is_string() && b["details"]["resourceOwner"] == org,
        Call::V2GetUserByID => b["user"]["userId"] == user && b["user"]["details"]["resourceOwner"] == org,
        Call::V2CreateInviteCode | Call::V2ResendInviteCode | Call::V2SetPassword | Call::V2DeleteUser => {
            b["details"]["resourceOwner"] == org
        }
        Call::V2VerifyInviteCode => false,
        Call::V2ListUsers => {
            b["result"]
                .as_array()
                .is_some_and(|users| !users.is_empty() && users.iter().all(|u| u["details"]["resourceOwner"] == org))
                && b["details"]["totalResult"].is_string()
        }
    };
    if fine { Outcome::Allowed } else { Outcome::Unexpected(format!("{} body?", reply.status.as_u16())) }
}

/// One checked cell of the matrix.
struct Cell {
    caller: &'static str,
    call: Call,
    column: &'static str,
    expected: Outcome,
    got: Outcome,
}

/// The matrix as a grid (a row per caller and method, a column per
/// organization case), mismatches marked `expected≠got!`.
fn render(cells: &[Cell], columns: &[&str]) -> String {
    let mut out = format!("{:<18} {:<26}", "caller", "method");
    for c in columns {
        let _ = write!(out, " {c:<20}");
    }
    out.push('\n');
    let mut rows: Vec<(&str, Call)> = Vec::new();
    for cell in cells {
        if !rows.contains(&(cell.caller, cell.call)) {
            rows.push((cell.caller, cell.call));
        }
    }
    for (caller, call) in rows {
        let _ = write!(out, "{caller:<18} {:<26}", format!("{call:?}"));
        for column in columns {
            let text = match cells.iter().find(|c| c.caller == caller && c.call == call && c.column == *column) {
                None => "-".to_owned(),
                Some(c) if c.expected == c.got => c.got.short(),
                Some(c) => format!("{}≠{}!", c.expected.short(), c.got.short()),
            };
            let _ = write!(out, " {text:<20}");
        }
        out.push('\n');
    }
    out
}

// ---------------------------------------------------------------------------
// 1. Roles × methods × organizations.

/// Where a call acts (`x-zitadel-orgid`) and whose user it names.
struct Column {
    label: &'static str,
    header: Option<String>,
    /// The organization acted in, if it exists: home or other.
    acts_in: Option<Side>,
    /// Whose user the call names: the acting organization's own, or the other side's.
    foreign_user: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Home,
    Other,
}

#[tokio::test]
async fn every_role_method_and_organization_gets_what_the_contract_says() {
    let app = TestApp::spawn().await;
    let home = app.org.clone();
    let other = app.create_org("Other").await;
    // One Initial user per organization, for the calls that name a user.
    let home_user = create_in(&app, &home).await;
    let other_user = create_in(&app, &other).await;

    // Every role, held by a principal of `home`: ORG_* roles in `home`,
    // IAM_* roles instance-wide; and a principal without any grant.
    let mut callers: Vec<(&'static str, Option<Role>, String)> = Vec::new();
    for role in Role::ALL {
        callers.push((role.as_str(), Some(role), app.token_with(&home, role, &home).await));
    }
    let no_grants = app
        .admin()
        .issue_token(&Principal::local_operator(), "nobody", &OrgId::parse(&home).unwrap(), vec![], None)
        .await
        .unwrap();
    callers.push(("(no grants)", None, no_grants));

    let columns = [
        Column { label: "home", header: None, acts_in: Some(Side::Home), foreign_user: false },
        Column { label: "home (header)", header: Some(home.clone()), acts_in: Some(Side::Home), foreign_user: false },
        Column { label: "other", header: Some(other.clone()), acts_in: Some(Side::Other), foreign_user: false },
        Column { label: "missing org", header: Some(MISSING_ORG.into()), acts_in: None, foreign_user: false },
        // Someone else's user is hidden, never forbidden: the caller learns
        // nothing about other organizations, whatever its role.
        Column { label: "home, other's user", header: None, acts_in: Some(Side::Home), foreign_user: true },
        Column {
            label: "other, home's user",
            header: Some(other.clone()),
            acts_in: Some(Side::Other),
            foreign_user: true,
        },
    ];

    let mut cells = Vec::new();
    for (caller, role, token) in &callers {
        for call in Call::ALL {
            for column in &columns {
                if column.foreign_user && !call.addresses_a_user() {
                    continue;
                }
                let (org, own_user, foreign_user) = match column.acts_in {
                    Some(Side::Home) => (home.as_str(), &home_user, &other_user),
                    Some(Side::Other) => (other.as_str(), &other_user, &home_user),
                    None => (MISSING_ORG, &home_user, &other_user),
                };
                let user = if column.foreign_user { foreign_user } else { own_user };
                let expected = match column.acts_in {
                    None => Outcome::NoSuchOrg,
                    Some(side) if !contract_allows(*role, call.needs(), side == Side::Home) => Outcome::Denied,
                    // The global lookup finds users of every organization.
                    Some(_) if call == Call::GetUserByLoginNameGlobal => Outcome::Allowed,
                    Some(_) if column.foreign_user && call == Call::ListUserChanges => Outcome::Empty,
                    Some(_) if column.foreign_user => Outcome::Hidden,
                    Some(_) => Outcome::Allowed,
                };
                // A removal that is allowed removes: each one gets a user of its own.
                let fresh;
                let user = if matches!(call, Call::RemoveUser | Call::V2DeleteUser) {
                    let owner =
                        if column.foreign_user == (column.acts_in == Some(Side::Home)) { &other } else { &home };
                    fresh = create_in(&app, owner).await;
                    &fresh
                } else {
                    user
                };
                let reply = send(&app, call, Some(token), column.header.as_deref(), user).await;
                let got = classify(call, &reply, org, user);
                cells.push(Cell { caller, call, column: column.label, expected, got });
            }
        }
    }

    let labels: Vec<&str> = columns.iter().map(|c| c.label).collect();
    let wrong = cells.iter().filter(|c| c.expected != c.got).count();
    assert_eq!(wrong, 0, "{wrong} of {} cells differ from the contract:\n{}", cells.len(), render(&cells, &labels));
    // 8 callers × (6 methods naming no user × 4 columns + 12 addressing methods × 6 columns).
    assert_eq!(cells.len(), 8 * (6 * 4 + 12 * 6));
    app.stop().await;
}

// ---------------------------------------------------------------------------
// 2. Onboard's own tokens.

#[tokio::test]
async fn missing_malformed_unknown_expired_and_revoked_tokens_get_401_and_the_same_answer() {
    let app = TestApp::spawn().await;
    let home = OrgId::parse(&app.org).unwrap();
    let user = app.create_user("token-target", "token-target@example.com").await;
    let owner = vec![Grant { scope: GrantScope::Instance, role: Role::IamOwner }];
    // Tokens that were fine for an IAM_OWNER, except for their time or their revocation.
    let an_hour_ago = time::OffsetDateTime::now_utc() - time::Duration::hours(1);
    let expired = app
        .admin()
        .issue_token(&Principal::local_operator(), "expired", &home, owner.clone(), Some(an_hour_ago))
        .await
        .unwrap();
    // The control: the same token an hour the other way works.
    let in_an_hour = time::OffsetDateTime::now_utc() + time::Duration::hours(1);
    let fresh =
        app.admin().issue_token(&Principal::local_operator(), "fresh", &home, owner, Some(in_an_hour)).await.unwrap();
    assert_eq!(send(&app, Call::GetUserByID, Some(&fresh), None, &user).await.status, 200, "valid until expiry");
    let revoked = app.token_with(&app.org, Role::IamOwner, &app.org).await;
    assert_eq!(send(&app, Call::GetUserByID, Some(&revoked), None, &user).await.status, 200, "valid before");
    app.revoke(&revoked).await;

    // No bearer token at all: the header is absent. ZITADEL answers a header
    // of another scheme, or an empty bearer, as an invalid auth header.
    let absent: [(&str, Option<&str>); 1] = [("no Authorization", None)];
    let malformed: [(&str, &str); 3] =
        [("Basic", "Basic YWRtaW46YWRtaW4="), ("empty Bearer", "Bearer "), ("Bearer without space", "Bearer")];
    // A bearer token that is not a valid one: each must answer exactly alike,
    // so a caller cannot tell a token that never existed from one that did.
    let invalid: [(&str, &str); 6] = [
        ("malformed", "not-a-token"),
        ("unknown onb_", "onb_0123456789abcdefghijklmnopqrstuvwxyz"),
        ("bare prefix", "onb_"),
        ("JWT without a verifier", "eyJhbGciOiJSUzI1NiJ9.e30.c2ln"),
        ("expired PAT", &expired),
        ("revoked PAT", &revoked),
    ];

    // Every method, acting at home and in a missing organization: the token is
    // checked before the organization, so 401 wins over 403.
    let mut invalid_bodies: Vec<(String, Value)> = Vec::new();
    for call in Call::ALL {
        for org in [None, Some(MISSING_ORG)] {
            for (case, authorization) in absent {
                let reply = raw_call(&app, call, authorization, org, &user).await;
                assert!(
                    is_error(&reply, 401, 16, "ONBOARD-TOKEN-MISSING"),
                    "{call:?} {case} org={org:?}: {} {}",
                    reply.status,
                    reply.body
                );
            }
            for (case, authorization) in malformed {
                let reply = raw_call(&app, call, Some(authorization), org, &user).await;
                assert!(
                    is_error(&reply, 401, 16, TOKEN_INVALID)
                        && reply.body["message"] == "invalid auth header (AUTH-7fs1e)",
                    "{call:?} {case} org={org:?}: {} {}",
                    reply.status,
                    reply.body
                );
            }
            for (case, token) in invalid {
                let reply = send(&app, call, Some(token), org, &user).await;
                assert!(
                    is_error(&reply, 401, 16, TOKEN_INVALID),
                    "{call:?} {case} org={org:?}: {} {}",
                    reply.status,
                    reply.body
                );
                invalid_bodies.push((format!("{call:?} {case} org={org:?}"), reply.body));
            }
        }
    }
    let (first_case, first) = &invalid_bodies[0];
    for (case, body) in &invalid_bodies {
        assert_eq!(body, first, "{case} answers unlike {first_case}");
    }
    app.stop().await;
}

// ---------------------------------------------------------------------------
// 3. JWTs of an identity provider.

/// Valid ZITADEL-shaped claims: a user of `org` holding `roles`
/// (`{"ROLE": {"<orgId>": "<domain>"}}`).
fn claims(org: &str, roles: Value) -> Value {
    zitadel_claims(&unique("idp-user"), org, roles)
}

async fn spawn_with_jwt() -> TestApp {
    TestApp::spawn_with(|config| {
        config.jwt = Some(jwt::settings(JwksSource::File(jwt::jwks_path())));
    })
    .await
}

#[tokio::test]
async fn identity_provider_jwts_act_as_their_roles_claim_says() {
    let app = spawn_with_jwt().await;
    let home = app.org.clone();
    let other = app.create_org("Other").await;
    let manager_at_home = json!({"ORG_USER_MANAGER": {home.as_str(): "home.idp.example"}});

    // A user manager of home, with each algorithm the verifier takes: create, then read back.
    for key in [TestKey::Rsa, TestKey::Ec, TestKey::Ed] {
        let token = sign(key, &claims(&home, manager_at_home.clone()));
        let created = send(&app, Call::AddHumanUser, Some(&token), None, "").await;
        assert_eq!(created.status, 200, "{key:?}: {}", created.body);
        assert_eq!(created.body["details"]["resourceOwner"], home.as_str(), "{key:?}");
        let id = created.body["userId"].as_str().unwrap();
        let got = send(&app, Call::GetUserByID, Some(&token), None, id).await;
        assert_eq!(got.status, 200, "{key:?}: {}", got.body);
        assert_eq!(got.body["user"]["id"], id, "{key:?}");

        // No role in `other`: denied there, as for a PAT.
        for call in Call::ALL {
            send(&app, call, Some(&token), Some(&other), id).await.assert_error(403, 7, PERMISSION_DENIED);
        }
    }

    // IAM_OWNER through the roles claim holds in every organization (ZITADEL
    // lists an org under it; onboard grants instance roles instance-wide).
    let iam_owner = sign(TestKey::Rsa, &claims(&home, json!({"IAM_OWNER": {home.as_str(): "home.idp.example"}})));
    let created = send(&app, Call::AddHumanUser, Some(&iam_owner), Some(&other), "").await;
    assert_eq!(created.status, 200, "{}", created.body);
    assert_eq!(created.body["details"]["resourceOwner"], other.as_str());
    let theirs = created.body["userId"].as_str().unwrap();
    assert_eq!(send(&app, Call::GetUserByID, Some(&iam_owner), Some(&other), theirs).await.status, 200);
    // …but not in an organization that does not exist.
    send(&app, Call::AddHumanUser, Some(&iam_owner), Some(MISSING_ORG), "").await.assert_error(403, 7, ORG_NOT_FOUND);

    // A role onboard does not know gives nothing.
    let janitor = sign(TestKey::Ed, &claims(&home, json!({"PROJECT_JANITOR": {home.as_str(): "home.idp.example"}})));
    send(&app, Call::GetUserByID, Some(&janitor), None, theirs).await.assert_error(403, 7, PERMISSION_DENIED);
    app.stop().await;
}

#[tokio::test]
async fn jwts_that_fail_any_check_get_401_and_the_same_answer_as_a_bad_pat() {
    let app = spawn_with_jwt().await;
    let home = app.org.clone();
    let user = app.create_user("jwt-target", "jwt-target@example.com").await;
    // IAM_OWNER: had they verified, every one of these would have been allowed.
    let good = || claims(&home, json!({"IAM_OWNER": {home.as_str(): "home.idp.example"}}));
    assert_eq!(send(&app, Call::GetUserByID, Some(&sign(TestKey::Rsa, &good())), None, &user).await.status, 200);

    let payload = b64(good().to_string().as_bytes());
    let alg_none =
        format!("{}.{payload}.", b64(json!({"alg": "none", "typ": "JWT", "kid": "rsa-1"}).to_string().as_bytes()));
    // The classic confusion attack: HS256 keyed with the RSA public key.
    let mut hs256 = Header::new(Algorithm::HS256);
    hs256.kid = Some("rsa-1".into());
    let hmac_with_public_key =
        sign_as(hs256, &good(), &EncodingKey::from_secret(read_key_file("rsa.pub.pem").as_bytes()));

    let cases: Vec<(&str, String)> = vec![
        ("expired", sign(TestKey::Rsa, &merged(good(), json!({"exp": now() - 3600})))),
        ("not valid yet", sign(TestKey::Ec, &merged(good(), json!({"nbf": now() + 600})))),
        ("wrong issuer", sign(TestKey::Ed, &merged(good(), json!({"iss": "https://evil.example"})))),
        ("wrong audience", sign(TestKey::Rsa, &merged(good(), json!({"aud": ["other-project"]})))),
        ("another RSA key under rsa-1", sign_with_kid(TestKey::Rsa2, "rsa-1", &good())),
        ("unknown kid", sign(TestKey::Rsa2, &good())),
        ("alg none", alg_none),
        ("HS256 keyed with the public key", hmac_with_public_key),
        ("garbage a.b.c", "a.b.c".to_owned()),
        ("unknown PAT, for comparison", "onb_never_issued".to_owned()),
    ];
    let mut bodies: Vec<(&str, Value)> = Vec::new();
    for (case, token) in &cases {
        for call in [Call::AddHumanUser, Call::GetUserByID] {
            let reply = send(&app, call, Some(token), None, &user).await;
            assert!(is_error(&reply, 401, 16, TOKEN_INVALID), "{case} ({call:?}): {} {}", reply.status, reply.body);
            bodies.push((case, reply.body));
        }
    }
    let (_, pat) = bodies.last().unwrap();
    for (case, body) in &bodies {
        assert_eq!(body, pat, "{case} answers unlike an unknown PAT");
    }
    app.stop().await;
}

/// The contract: "an organization that does not exist gets 403", also when it
/// is the caller's own. PATs always belong to an existing organization, but a
/// JWT's organization claim is the identity provider's word, so the acting
/// organization is looked up whether or not it is the caller's own.
#[tokio::test]
async fn a_jwt_whose_home_organization_does_not_exist_acts_nowhere() {
    let app = spawn_with_jwt().await;
    let someone = app.create_user("ghost-target", "ghost-target@example.com").await;
    let mut wrong = Vec::new();
    for role in ["ORG_USER_MANAGER", "IAM_OWNER"] {
        let token = sign(TestKey::Rsa, &claims(MISSING_ORG, json!({ role: {MISSING_ORG: "ghost.idp.example"} })));
        for call in Call::ALL {
            // Absent header (the home org) and the home org named by the header.
            for org in [None, Some(MISSING_ORG)] {
                let reply = send(&app, call, Some(&token), org, &someone).await;
                if !is_error(&reply, 403, 7, ORG_NOT_FOUND) {
                    wrong.push(format!("{role} {call:?} header={org:?}: {} {}", reply.status, reply.body));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "acting in a nonexistent home organization was not refused:\n{}", wrong.join("\n"));
    app.stop().await;
}

// ---------------------------------------------------------------------------
// 4. gRPC-Web parity: the same refusals on the same port, as grpc-status.

/// A gRPC-Web GetUserByID over HTTP/1.1; returns grpc-status, grpc-message
/// (as sent) and grpc-status-details-bin (base64-decoded).
async fn grpc_web_get_user(app: &TestApp, id: &str, token: Option<&str>, org: Option<&str>) -> (i32, String, Vec<u8>) {
    // GetUserByIDRequest { id = 1 }: one length-delimited field.
    let mut message = vec![0x0a, u8::try_from(id.len()).unwrap()];
    message.extend_from_slice(id.as_bytes());
    let mut req = app
        .client
        .post(app.url("/zitadel.management.v1.ManagementService/GetUserByID"))
        .header("content-type", grpc_web::CONTENT_TYPE)
        .header("x-grpc-web", "1")
        .body(grpc_web::frame(&message));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(o) = org {
        req = req.header("x-zitadel-orgid", o);
    }
    let resp = req.send().await.expect("gRPC-Web request sent");
    let (http_status, headers) = (resp.status().as_u16(), resp.headers().clone());
    let answer = GrpcWebAnswer::parse(http_status, headers, &resp.bytes().await.expect("body"));
    // The trailer frame's fields, or the headers of a trailers-only answer.
    (answer.status(), answer.field("grpc-message").unwrap_or_default(), answer.status_details())
}

#[tokio::test]
async fn grpc_web_refuses_like_http() {
    let app = TestApp::spawn().await;
    let other = app.create_org("Other").await;
    let user = app.create_user("grpc-target", "grpc-target@example.com").await;
    let manager = app.token_with(&app.org, Role::OrgUserManager, &app.org).await;

    let (status, _, _) = grpc_web_get_user(&app, &user, Some(&manager), None).await;
    assert_eq!(status, 0, "allowed at home");

    // Denied: a home user manager acting in another organization.
    let (status, message, details) = grpc_web_get_user(&app, &user, Some(&manager), Some(&other)).await;
    assert_eq!(status, 7, "{message}");
    assert!(message.contains(PERMISSION_DENIED), "{message}");
    let packed = String::from_utf8_lossy(&details);
    assert!(packed.contains("zitadel.v1.ErrorDetail") && packed.contains(PERMISSION_DENIED), "{packed}");

    // Unauthenticated: no token, and a token that does not exist.
    for (token, id) in [(None, "ONBOARD-TOKEN-MISSING"), (Some("onb_never_issued"), TOKEN_INVALID)] {
        let (status, message, _) = grpc_web_get_user(&app, &user, token, None).await;
        assert_eq!(status, 16, "{token:?}: {message}");
        assert!(message.contains(id), "{token:?}: {message}");
    }
    app.stop().await;
}
