//! The Management API v1 routes onboard serves: each reads its message and
//! call, hands them to the contract's method, and writes the answer.

use onboard_contract::management as mgmt;
use onboard_contract::pb::zitadel::management::v1 as pb;
use onboard_contract::{Answer, Fault};
use onboard_domain::Permission;
use onboard_domain::usecases::{ResendTargets, UserService};
use poem::web::Data;
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, OpenApi, Tags};

use crate::call::HttpCall;
use crate::errors::{ApiError, invalid_field};
use crate::proto_json::{PathBound, ProtoBody, ProtoJson};
use crate::wire::{
    InvitationFilterBody, InvitationStatsResponse, ListInvitationsResponse, ListNotificationsResponse,
    ResendInvitationsRequest, ResendInvitationsResponse,
};

#[derive(Tags)]
enum ApiTags {
    /// Human users and their initialization.
    Users,
}

/// An answer that may carry the id of the email the call made due, and
/// says whether it was replayed for an idempotency key.
#[derive(Debug, ApiResponse)]
pub enum Answered<T: crate::proto_json::WireMessage> {
    /// OK. When the call made an initialization email due, its id is in
    /// `x-onboard-notification-id`; an answer replayed for an
    /// `Idempotency-Key` carries `idempotent-replayed: true`.
    #[oai(status = 200)]
    Ok(
        ProtoJson<T>,
        #[oai(header = "x-onboard-notification-id")] Option<String>,
        #[oai(header = "idempotent-replayed")] Option<String>,
    ),
}

impl<T: crate::proto_json::WireMessage> From<Answer<T>> for Answered<T> {
    fn from(a: Answer<T>) -> Self {
        Self::Ok(ProtoJson(a.message), a.notification.map(|n| n.to_string()), a.replayed.then(|| "true".to_owned()))
    }
}

fn answered<T: crate::proto_json::WireMessage>(a: Result<Answer<T>, Fault>) -> Result<Answered<T>, ApiError> {
    Ok(a?.into())
}

/// The resend body: the user id travels in the path.
#[derive(Debug)]
pub struct ResendBody;

impl PathBound for ResendBody {
    type Message = pb::ResendHumanInitializationRequest;
    const SCHEMA: &'static str = "ManagementServiceResendHumanInitializationBody";
    const PATH_FIELDS: &'static [&'static str] = &["user_id"];
}

/// The ListUserChanges body: the user id travels in the path.
#[derive(Debug)]
pub struct ChangesBody;

impl PathBound for ChangesBody {
    type Message = pb::ListUserChangesRequest;
    const SCHEMA: &'static str = "ManagementServiceListUserChangesBody";
    const PATH_FIELDS: &'static [&'static str] = &["user_id"];
}

/// A query parameter given by its JSON name or its proto name (grpc-gateway
/// takes both); the JSON name wins.
fn either(json: Query<Option<String>>, proto: Query<Option<String>>) -> String {
    json.0.or(proto.0).unwrap_or_default()
}

/// Every delivery state, for reading one by its name.
const DELIVERY_STATES: [onboard_domain::DeliveryState; 12] = {
    use onboard_domain::DeliveryState as D;
    [
        D::Queued,
        D::Sending,
        D::Sent,
        D::Deferred,
        D::Delivered,
        D::Bounced,
        D::Dropped,
        D::SpamReported,
        D::Failed,
        D::Superseded,
        D::Expired,
        D::Withdrawn,
    ]
};

/// A query parameter holding an RFC 3339 time, if given.
fn instant(name: &str, raw: Option<String>) -> Result<Option<time::OffsetDateTime>, ApiError> {
    match raw.as_deref().map(str::trim).filter(|r| !r.is_empty()) {
        None => Ok(None),
        Some(r) => time::OffsetDateTime::parse(r, &time::format_description::well_known::Rfc3339)
            .map(Some)
            .map_err(|_| invalid_field(name, "must be an RFC 3339 time such as 2026-01-01T12:00:00Z")),
    }
}

/// The listing's filter from its parts as given.
fn filter_of(body: InvitationFilterBody) -> Result<onboard_domain::InvitationFilter, ApiError> {
    let state =
        match body.state.as_deref().filter(|s| !s.is_empty()) {
            None => None,
            Some(raw) => Some(onboard_domain::InvitationState::parse(raw).ok_or_else(|| {
                invalid_field("state", "must be one of pending, expired, locked, completed, withdrawn")
            })?),
        };
    let delivery = match body.delivery.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(raw) => Some(
            DELIVERY_STATES
                .into_iter()
                .find(|d| d.as_str() == raw)
                .ok_or_else(|| invalid_field("delivery", "must be a notification state such as bounced"))?,
        ),
    };
    Ok(onboard_domain::InvitationFilter::new(
        state,
        delivery,
        instant("expiresBefore", body.expires_before)?,
        instant("createdBefore", body.created_before)?,
        body.opened,
    )?)
}

/// A bulk resend's answer; replays for an `Idempotency-Key` say so.
#[derive(Debug, ApiResponse)]
pub enum BulkAnswered {
    /// OK: one result per user. An answer replayed for an
    /// `Idempotency-Key` carries `idempotent-replayed: true`.
    #[oai(status = 200)]
    Ok(Json<ResendInvitationsResponse>, #[oai(header = "idempotent-replayed")] Option<String>),
}

/// What makes two bulk resends with one key the same: the organization and
/// whom they are for.
fn bulk_fingerprint(org: &onboard_domain::OrgId, targets: &ResendTargets) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    let what = match targets {
        ResendTargets::Ids(ids) => format!("ids:{}", ids.iter().map(|i| i.as_str()).collect::<Vec<_>>().join(",")),
        ResendTargets::Filter(f) => format!("filter:{}", f.canonical()),
    };
    let mut hash = Sha256::new();
    for part in ["onboard.invitations", "ResendInvitations", org.as_str(), &what] {
        hash.update((part.len() as u64).to_be_bytes());
        hash.update(part.as_bytes());
    }
    hash.finalize().into()
}

/// The Management API's user methods.
#[derive(Debug, Clone, Copy, Default)]
pub struct ManagementApi;

type Org = Header<Option<String>>;
type IdempotencyKey = Header<Option<String>>;

#[OpenApi(prefix_path = "/management/v1", tag = "ApiTags::Users")]
impl ManagementApi {
    /// Resend User Initialization Email
    ///
    /// A newly created user will get an initialization email to verify the
    /// email address and set a password. Resend the email with this request
    /// to the user's email address, or a newly added address.
    #[oai(
        path = "/users/:userId/_resend_initialization",
        method = "post",
        operation_id = "ManagementService_ResendHumanInitialization"
    )]
    async fn resend_human_initialization(
        &self,
        Data(users): Data<&UserService>,
        call: HttpCall,
        /// The id of the user.
        #[oai(name = "userId")]
        user_id: Path<String>,
        /// The default is always the organization of the requesting user. If
        /// you like to update a user from another organization include the
        /// header. Make sure the requesting user has permission in the
        /// requested organization.
        #[oai(name = "x-zitadel-orgid")]
        _org: Org,
        /// Makes the call safe to retry: the same key with the same request
        /// within 24 hours answers as the first call did (marked
        /// `idempotent-replayed: true`) and sends no new email; the same key
        /// with another request is refused with 409 (code 6). Keys are the
        /// caller's own; 1 to 255 visible ASCII characters.
        #[oai(name = "Idempotency-Key")]
        _idempotency_key: IdempotencyKey,
        body: ProtoBody<ResendBody>,
    ) -> Result<Answered<pb::ResendHumanInitializationResponse>, ApiError> {
        let request = pb::ResendHumanInitializationRequest { user_id: user_id.0, ..body.into_inner() };
        answered(mgmt::resend_human_initialization(users, &call.0, request).await)
    }

    /// Create/Add Human User
    ///
    /// Create a new user of the type human. A user without a password or
    /// without a verified email starts in state Initial and is sent the
    /// initialization email at once.
    #[oai(path = "/users/human", method = "post", operation_id = "ManagementService_AddHumanUser")]
    async fn add_human_user(
        &self,
        Data(users): Data<&UserService>,
        call: HttpCall,
        /// The organization the user is created in; the caller's own when absent.
        #[oai(name = "x-zitadel-orgid")]
        _org: Org,
        /// Makes the call safe to retry: the same key with the same request
        /// within 24 hours answers as the first call did (marked
        /// `idempotent-replayed: true`) and sends no new email; the same key
        /// with another request is refused with 409 (code 6). Keys are the
        /// caller's own; 1 to 255 visible ASCII characters.
        #[oai(name = "Idempotency-Key")]
        _idempotency_key: IdempotencyKey,
        body: ProtoJson<pb::AddHumanUserRequest>,
    ) -> Result<Answered<pb::AddHumanUserResponse>, ApiError> {
        answered(mgmt::add_human_user(users, &call.0, body.0).await)
    }

    /// Create/Import Human User
    ///
    /// Create a new user of the type human, with a password or an argon2
    /// password hash. A user without a password or without a verified email
    /// starts in state Initial and is sent the initialization email at once.
    #[oai(path = "/users/human/_import", method = "post", operation_id = "ManagementService_ImportHumanUser")]
    async fn import_human_user(
        &self,
        Data(users): Data<&UserService>,
        call: HttpCall,
        /// The organization the user is created in; the caller's own when absent.
        #[oai(name = "x-zitadel-orgid")]
        _org: Org,
        /// Makes the call safe to retry: the same key with the same request
        /// within 24 hours answers as the first call did (marked
        /// `idempotent-replayed: true`) and sends no new email; the same key
        /// with another request is refused with 409 (code 6). Keys are the
        /// caller's own; 1 to 255 visible ASCII characters.
        #[oai(name = "Idempotency-Key")]
        _idempotency_key: IdempotencyKey,
        body: ProtoJson<pb::ImportHumanUserRequest>,
    ) -> Result<Answered<pb::ImportHumanUserResponse>, ApiError> {
        answered(mgmt::import_human_user(users, &call.0, body.0).await)
    }

    /// List a user's initialization emails
    ///
    /// Every initialization email of the user, newest first, with what became
    /// of it: queued, sending, sent (accepted by the mail provider),
    /// delivered, deferred, bounced, dropped, spam reported, failed (given
    /// up), superseded (a newer code replaced it) or expired (its code
    /// expired before it could be sent). Not part of ZITADEL's API.
    #[oai(
        path = "/users/:userId/notifications",
        method = "get",
        operation_id = "ManagementService_ListUserNotifications"
    )]
    async fn list_user_notifications(
        &self,
        Data(users): Data<&UserService>,
        call: HttpCall,
        /// The id of the user.
        #[oai(name = "userId")]
        user_id: Path<String>,
        /// The organization the user is looked up in; the caller's own when absent.
        #[oai(name = "x-zitadel-orgid")]
        _org: Org,
    ) -> Result<Json<ListNotificationsResponse>, ApiError> {
        let token = call.0.credentials.token()?;
        let acting = users.authorize(Some(token), call.0.org.as_deref(), Permission::UserRead).await?;
        let id = onboard_contract::management::user_id(&user_id.0, "userId")?;
        let list = users.list_notifications(&acting, &id).await?;
        Ok(Json(ListNotificationsResponse { result: list.into_iter().map(Into::into).collect() }))
    }

    /// List invitations
    ///
    /// The organization's invitations, newest first: users that have (had)
    /// an initialization code, with where each stands (pending, expired,
    /// locked, completed or withdrawn; the last two for the invitation
    /// retention period), its resends, what became of its latest email and
    /// whether its link was opened. Every filter given must hold. One call
    /// looks at a bounded number of invitations: with a filter few of them
    /// meet, a page can hold fewer than `pageSize` (even none) and still
    /// carry a `nextPageToken`; following the tokens shows every match once.
    /// Not part of ZITADEL's API.
    #[oai(path = "/invitations", method = "get", operation_id = "ManagementService_ListInvitations")]
    #[allow(clippy::too_many_arguments)]
    async fn list_invitations(
        &self,
        Data(users): Data<&UserService>,
        call: HttpCall,
        /// Only invitations in this state: `pending`, `expired`, `locked`, `completed` or `withdrawn`.
        state: Query<Option<String>>,
        /// Only invitations whose latest email is in this state (`queued`, `sent`, `delivered`, `bounced`, ...).
        delivery: Query<Option<String>>,
        /// Only invitations whose code expires before this time (RFC 3339).
        #[oai(name = "expiresBefore")]
        expires_before: Query<Option<String>>,
        /// Only invitations created before this time (RFC 3339).
        #[oai(name = "createdBefore")]
        created_before: Query<Option<String>>,
        /// `true`: only those whose current link was opened; `false`: only those whose was not.
        opened: Query<Option<bool>>,
        /// Invitations per page, 1 to 1000; 100 when absent or 0.
        #[oai(name = "pageSize")]
        page_size: Query<Option<u32>>,
        /// The `nextPageToken` of the previous page.
        #[oai(name = "pageToken")]
        page_token: Query<Option<String>>,
        /// The organization listed; the caller's own when absent.
        #[oai(name = "x-zitadel-orgid")]
        _org: Org,
    ) -> Result<Json<ListInvitationsResponse>, ApiError> {
        let token = call.0.credentials.token()?;
        let acting = users.authorize(Some(token), call.0.org.as_deref(), Permission::UserRead).await?;
        let filter = filter_of(InvitationFilterBody {
            state: state.0,
            delivery: delivery.0,
            expires_before: expires_before.0,
            created_before: created_before.0,
            opened: opened.0,
        })?;
        let page = users.list_invitations(&acting, &filter, page_size.0.unwrap_or(0), page_token.0.as_deref()).await?;
        Ok(Json(ListInvitationsResponse {
            invitations: page.invitations.into_iter().map(Into::into).collect(),
            next_page_token: page.next_page_token,
        }))
    }

    /// Invitation statistics
    ///
    /// How the organization's invitations stand: totals counted in the
    /// indexes (waiting, and completed and withdrawn within the retention
    /// period), the counts per state (the waiting ones split into pending,
    /// expired and locked), the waiting invitations per latest email's
    /// delivery state and the funnel created → delivered → opened →
    /// completed's counts and median times between steps, all exact for
    /// the whole organization, from counters and histograms kept with
    /// every write (an expiry counted when the expiry schedule tells it,
    /// within about a second while a node runs; a median is the geometric
    /// middle of the histogram bucket holding the middle invitation,
    /// buckets a quarter of a doubling wide, so within 12% of the exact
    /// median).
    /// Also sets the `onboard_invitation*` gauges of the organization. Not
    /// part of ZITADEL's API.
    #[oai(path = "/invitations/_stats", method = "get", operation_id = "ManagementService_InvitationStats")]
    async fn invitation_stats(
        &self,
        Data(users): Data<&UserService>,
        call: HttpCall,
        /// The organization counted; the caller's own when absent.
        #[oai(name = "x-zitadel-orgid")]
        _org: Org,
    ) -> Result<Json<InvitationStatsResponse>, ApiError> {
        let token = call.0.credentials.token()?;
        let acting = users.authorize(Some(token), call.0.org.as_deref(), Permission::UserRead).await?;
        let stats = users.invitation_stats(&acting).await?;
        crate::metrics::record_invitation_stats(acting.org.as_str(), &stats);
        Ok(Json(stats.into()))
    }

    /// Resend many invitations
    ///
    /// Resends the invitation of each named user (`userIds`, 1 to 1,000;
    /// duplicates count once) or of each invitation the listing's `filter`
    /// matches (at most 10,000, or nothing is done): each user as a single
    /// resend does it, with its throttles, a new code and a new email (the
    /// outbox sends them in batches). The answer says, per user, what became
    /// of it. Needs the permission a resend needs. Not part of ZITADEL's API.
    #[oai(path = "/invitations/_resend", method = "post", operation_id = "ManagementService_ResendInvitations")]
    async fn resend_invitations(
        &self,
        Data(users): Data<&UserService>,
        call: HttpCall,
        /// The organization acted in; the caller's own when absent.
        #[oai(name = "x-zitadel-orgid")]
        _org: Org,
        /// Makes the call safe to retry: the same key with the same request
        /// within 24 hours answers as the first call did (marked
        /// `idempotent-replayed: true`) and sends no new email; the same key
        /// with another request is refused with 409 (code 6). Keys are the
        /// caller's own; 1 to 255 visible ASCII characters.
        #[oai(name = "Idempotency-Key")]
        _idempotency_key: IdempotencyKey,
        body: Json<ResendInvitationsRequest>,
    ) -> Result<BulkAnswered, ApiError> {
        use onboard_contract::call::IdempotencyKeyValue;
        use onboard_domain::usecases::{IdempotencyError, IdempotencyStart};
        use poem_openapi::types::{ParseFromJSON, ToJSON};
        let token = call.0.credentials.token()?;
        let acting = users.authorize(Some(token), call.0.org.as_deref(), Permission::UserWrite).await?;
        let targets = match (body.0.user_ids, body.0.filter) {
            (Some(ids), None) => {
                let ids = ids
                    .iter()
                    .map(|raw| onboard_contract::management::user_id(raw, "userIds"))
                    .collect::<Result<Vec<_>, _>>()?;
                ResendTargets::ids(ids)?
            }
            (None, Some(filter)) => ResendTargets::Filter(filter_of(filter)?),
            _ => return Err(invalid_field("request", "give either userIds or filter")),
        };
        let key = match &call.0.idempotency_key {
            None => None,
            Some(IdempotencyKeyValue::Text(key)) => Some(key.as_str()),
            Some(IdempotencyKeyValue::Binary) => return Err(IdempotencyError::InvalidKey.into()),
        };
        let ticket = match key {
            None => None,
            Some(key) => match users
                .begin_idempotent(&acting.principal, key, bulk_fingerprint(&acting.org, &targets))
                .await?
            {
                IdempotencyStart::Proceed(ticket) => ticket,
                IdempotencyStart::Replay(answer) => {
                    let value = serde_json::from_slice(&answer.body).ok();
                    let message = ResendInvitationsResponse::parse_from_json(value).map_err(|_| {
                        ApiError::new(onboard_contract::Code::Internal, crate::errors::ids::INTERNAL, "Internal error")
                    })?;
                    return Ok(BulkAnswered::Ok(Json(message), Some("true".into())));
                }
                IdempotencyStart::InFlight => return Err(onboard_contract::serve::key_in_flight().into()),
                IdempotencyStart::Mismatch => return Err(onboard_contract::serve::key_reused().into()),
            },
        };
        let result = users.resend_invitations(&acting, &targets).await;
        let answer = result
            .as_ref()
            .ok()
            .map(|results| ResendInvitationsResponse { results: results.iter().cloned().map(Into::into).collect() });
        if let Some(ticket) = ticket {
            // Only successes are kept, as for every other call.
            let stored = answer.as_ref().map(|a| onboard_domain::StoredAnswer {
                status: 200,
                headers: vec![("content-type".to_owned(), "application/json".to_owned())],
                body: a.to_json().map(|v| serde_json::to_vec(&v).unwrap_or_default()).unwrap_or_default(),
            });
            users.finish_idempotent(ticket, stored.as_ref()).await;
        }
        result?;
        Ok(BulkAnswered::Ok(Json(answer.expect("a success has its answer")), None))
    }

    /// Get User by ID
    ///
    /// Returns the full user object (human or machine) including the
    /// profile, email, etc.
    #[oai(path = "/users/:id", method = "get", operation_id = "ManagementService_GetUserByID")]
    async fn get_user_by_id(
        &self,
        Data(users): Data<&UserService>,
        call: HttpCall,
        /// The id of the user.
        id: Path<String>,
        /// The organization the user is looked up in; the caller's own when absent.
        #[oai(name = "x-zitadel-orgid")]
        _org: Org,
    ) -> Result<ProtoJson<pb::GetUserByIdResponse>, ApiError> {
        let answer = mgmt::get_user_by_id(users, &call.0, pb::GetUserByIdRequest { id: id.0 }).await?;
        Ok(ProtoJson(answer.message))
    }

    /// Search Users
    ///
    /// Search for users within the organization. By default, we will return
    /// all users of your organization (up to 1000, ZITADEL's maximum page);
    /// the state query with the creation date as sorting column is answered
    /// from an index however many users there are.
    #[oai(path = "/users/_search", method = "post", operation_id = "ManagementService_ListUsers")]
    async fn list_users(
        &self,
        Data(users): Data<&UserService>,
        call: HttpCall,
        /// The organization searched in; the caller's own when absent.
        #[oai(name = "x-zitadel-orgid")]
        _org: Org,
        body: ProtoJson<pb::ListUsersRequest>,
    ) -> Result<ProtoJson<pb::ListUsersResponse>, ApiError> {
        Ok(ProtoJson(mgmt::list_users(users, &call.0, body.0).await?.message))
    }

    /// Check for existing user
    ///
    /// Whether no user of the organization has the given user name and email
    /// (an empty one is no condition).
    #[oai(path = "/users/_is_unique", method = "get", operation_id = "ManagementService_IsUserUnique")]
    async fn is_user_unique(
        &self,
        Data(users): Data<&UserService>,
        call: HttpCall,
        #[oai(name = "userName")] user_name: Query<Option<String>>,
        /// The same as `userName`, by the proto field's name.
        #[oai(name = "user_name")]
        user_name_proto: Query<Option<String>>,
        email: Query<Option<String>>,
        /// The organization checked; the caller's own when absent.
        #[oai(name = "x-zitadel-orgid")]
        _org: Org,
    ) -> Result<ProtoJson<pb::IsUserUniqueResponse>, ApiError> {
        let request = pb::IsUserUniqueRequest {
            user_name: either(user_name, user_name_proto),
            email: email.0.unwrap_or_default(),
        };
        Ok(ProtoJson(mgmt::is_user_unique(users, &call.0, request).await?.message))
    }

    /// Get User by login name (globally)
    ///
    /// The user with this login name in any organization (onboard's login
    /// name is the user name; one that several organizations use is not found).
    #[oai(
        path = "/global/users/_by_login_name",
        method = "get",
        operation_id = "ManagementService_GetUserByLoginNameGlobal"
    )]
    async fn get_user_by_login_name_global(
        &self,
        Data(users): Data<&UserService>,
        call: HttpCall,
        #[oai(name = "loginName")] login_name: Query<Option<String>>,
        /// The same as `loginName`, by the proto field's name.
        #[oai(name = "login_name")]
        login_name_proto: Query<Option<String>>,
        /// The organization whose permissions are checked; the caller's own when absent.
        #[oai(name = "x-zitadel-orgid")]
        _org: Org,
    ) -> Result<ProtoJson<pb::GetUserByLoginNameGlobalResponse>, ApiError> {
        let request = pb::GetUserByLoginNameGlobalRequest { login_name: either(login_name, login_name_proto) };
        Ok(ProtoJson(mgmt::get_user_by_login_name_global(users, &call.0, request).await?.message))
    }

    /// Delete user
    ///
    /// The state of the user will be changed to 'deleted'. The user will not
    /// be able to log in anymore: its initialization code stops working at
    /// once, an email still queued is not sent, and its user name is free
    /// again.
    #[oai(path = "/users/:id", method = "delete", operation_id = "ManagementService_RemoveUser")]
    async fn remove_user(
        &self,
        Data(users): Data<&UserService>,
        call: HttpCall,
        /// The id of the user.
        id: Path<String>,
        /// The organization of the user; the caller's own when absent.
        #[oai(name = "x-zitadel-orgid")]
        _org: Org,
        /// Makes the call safe to retry: the same key with the same request
        /// within 24 hours answers as the first call did (marked
        /// `idempotent-replayed: true`); the same key with another request is
        /// refused with 409 (code 6). Keys are the caller's own; 1 to 255
        /// visible ASCII characters.
        #[oai(name = "Idempotency-Key")]
        _idempotency_key: IdempotencyKey,
    ) -> Result<Answered<pb::RemoveUserResponse>, ApiError> {
        answered(mgmt::remove_user(users, &call.0, pb::RemoveUserRequest { id: id.0 }).await)
    }

    /// Get User History
    ///
    /// The user's own event log: what happened to the user, by whom and when
    /// (newest first unless `asc`), without any code or password.
    #[oai(path = "/users/:userId/changes/_search", method = "post", operation_id = "ManagementService_ListUserChanges")]
    async fn list_user_changes(
        &self,
        Data(users): Data<&UserService>,
        call: HttpCall,
        /// The id of the user.
        #[oai(name = "userId")]
        user_id: Path<String>,
        /// The organization of the user; the caller's own when absent.
        #[oai(name = "x-zitadel-orgid")]
        _org: Org,
        body: ProtoBody<ChangesBody>,
    ) -> Result<ProtoJson<pb::ListUserChangesResponse>, ApiError> {
        let request = pb::ListUserChangesRequest { user_id: user_id.0, ..body.into_inner() };
        Ok(ProtoJson(mgmt::list_user_changes(users, &call.0, request).await?.message))
    }

    /// `GET /users/human` is GetUserByID of a user with id "human", as
    /// ZITADEL's gateway routes it (not a wrong method on the create route).
    #[oai(path = "/users/human", method = "get", hidden)]
    async fn get_user_named_human(
        &self,
        Data(users): Data<&UserService>,
        call: HttpCall,
    ) -> Result<ProtoJson<pb::GetUserByIdResponse>, ApiError> {
        let answer = mgmt::get_user_by_id(users, &call.0, pb::GetUserByIdRequest { id: "human".into() }).await?;
        Ok(ProtoJson(answer.message))
    }
}
