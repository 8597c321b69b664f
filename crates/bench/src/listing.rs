//! ListUsers at scale on Redis: a state-filtered page of 100 out of a
//! million users of one organization, timed in the process as a server
//! answers it (token check, index page, reading the 100 users, the answer
//! message), and what the indexes cost in memory.

use std::sync::Arc;
use std::time::Instant;

use onboard_contract::Call;
use onboard_contract::management as mgmt;
use onboard_contract::pb::zitadel::management::v1 as pb;
use onboard_contract::pb::zitadel::user::v1 as user_pb;
use onboard_contract::pb::zitadel::v1 as object_pb;
use onboard_domain::usecases::{Administration, TokenAuthorizer, UserService};
use onboard_domain::{CodeIssuer, CodeSecret, InitCodeConfig, PasswordPolicy, SystemClock};
use onboard_redis::testing::{RedisServer, index_bytes, load_listing_users};
use onboard_redis::{RedisDirectory, RedisSettings, RedisStore, RedisTarget, connect};
use serde::Serialize;

use crate::redis_cost::RedisNodes;

/// One timed request shape.
#[derive(Debug, Clone, Serialize)]
pub struct Timed {
    pub what: String,
    pub requests: usize,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    /// Time inside Redis commands and scripts per request (`INFO commandstats`).
    pub redis_us: f64,
    pub total_result: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ListingReport {
    pub users: usize,
    pub load_s: f64,
    pub index_bytes_per_user: f64,
    pub timings: Vec<Timed>,
}

impl ListingReport {
    pub fn text(&self) -> String {
        let mut out = format!(
            "ListUsers on Redis, {} users in one organization (half Initial), loaded in {:.1} s\n  user indexes: {:.0} bytes/user\n",
            self.users, self.load_s, self.index_bytes_per_user
        );
        for t in &self.timings {
            out.push_str(&format!(
                "  {:<58} p50 {:>7.2} ms  p99 {:>7.2} ms  max {:>7.2} ms  redis {:>7.0} µs  ({} requests, totalResult {})\n",
                t.what, t.p50_ms, t.p99_ms, t.max_ms, t.redis_us, t.requests, t.total_result
            ));
        }
        out
    }
}

fn state_query(state: user_pb::UserState) -> user_pb::SearchQuery {
    user_pb::SearchQuery {
        query: Some(user_pb::search_query::Query::StateQuery(user_pb::StateQuery { state: state as i32 })),
    }
}

fn request(offset: u64, limit: u32, asc: bool, queries: Vec<user_pb::SearchQuery>) -> pb::ListUsersRequest {
    pb::ListUsersRequest {
        query: Some(object_pb::ListQuery { offset, limit, asc }),
        sorting_column: user_pb::UserFieldName::CreationDate as i32,
        queries,
    }
}

async fn time(
    redis: &RedisNodes,
    users: &UserService,
    call: &Call,
    what: &str,
    req: pb::ListUsersRequest,
    n: usize,
    expect: usize,
) -> Result<Timed, String> {
    // One request first, so that scripts are loaded and caches warm.
    mgmt::list_users(users, call, req.clone()).await.map_err(|f| f.message())?;
    let before = redis.counters();
    let mut ms = Vec::with_capacity(n);
    let mut total = 0;
    for _ in 0..n {
        let started = Instant::now();
        let answer = mgmt::list_users(users, call, req.clone()).await.map_err(|f| f.message())?;
        ms.push(started.elapsed().as_secs_f64() * 1000.0);
        if answer.message.result.len() != expect {
            return Err(format!("{what}: {} users answered, not {expect}", answer.message.result.len()));
        }
        total = answer.message.details.map(|d| d.total_result).unwrap_or(0);
    }
    let after = redis.counters();
    let cost = crate::redis_cost::cost(1, &before, &after, &after, n as u64);
    if std::env::var_os("LISTING_COMMANDS").is_some() {
        for c in cost.commands.iter().take(6) {
            eprintln!("    {what}: {} {:.1} calls {:.0} µs", c.command, c.calls_per_resend, c.us_per_resend);
        }
    }
    let redis_us = cost.command_us_per_resend;
    ms.sort_by(f64::total_cmp);
    let at = |q: f64| ms[((ms.len() as f64 * q) as usize).min(ms.len() - 1)];
    Ok(Timed {
        what: what.into(),
        requests: n,
        p50_ms: at(0.5),
        p99_ms: at(0.99),
        max_ms: ms[ms.len() - 1],
        redis_us,
        total_result: total,
    })
}

/// Times `n` calls of the invitation listing with `filter`, each expected
/// to answer `expect` invitations.
async fn time_invitations(
    redis: &RedisNodes,
    users: &UserService,
    acting: &onboard_domain::Acting,
    what: &str,
    filter: &onboard_domain::InvitationFilter,
    n: usize,
    expect: usize,
) -> Result<Timed, String> {
    users.list_invitations(acting, filter, 100, None).await.map_err(|e| e.to_string())?;
    let before = redis.counters();
    let mut ms = Vec::with_capacity(n);
    let mut more = false;
    for _ in 0..n {
        let started = Instant::now();
        let page = users.list_invitations(acting, filter, 100, None).await.map_err(|e| e.to_string())?;
        ms.push(started.elapsed().as_secs_f64() * 1000.0);
        if page.invitations.len() != expect {
            return Err(format!("{what}: {} invitations answered, not {expect}", page.invitations.len()));
        }
        more = page.next_page_token.is_some();
    }
    let after = redis.counters();
    let cost = crate::redis_cost::cost(1, &before, &after, &after, n as u64);
    if std::env::var_os("LISTING_COMMANDS").is_some() {
        for c in cost.commands.iter().take(6) {
            eprintln!("    {what}: {} {:.1} calls {:.0} µs", c.command, c.calls_per_resend, c.us_per_resend);
        }
    }
    ms.sort_by(f64::total_cmp);
    let at = |q: f64| ms[((ms.len() as f64 * q) as usize).min(ms.len() - 1)];
    Ok(Timed {
        what: what.into(),
        requests: n,
        p50_ms: at(0.5),
        p99_ms: at(0.99),
        max_ms: ms[ms.len() - 1],
        redis_us: cost.command_us_per_resend,
        total_result: u64::from(more),
    })
}

pub async fn run(n: usize) -> Result<ListingReport, String> {
    let server = RedisServer::start();
    let redis = connect(RedisSettings::new(RedisTarget::Url(server.url()))).await?;
    let store = Arc::new(RedisStore::open(redis.clone(), "listing-bench").await?);
    let directory = Arc::new(RedisDirectory::new(redis));
    let first = Administration::new(directory.clone(), Arc::new(SystemClock))
        .first_start()
        .await
        .map_err(|e| e.to_string())?
        .ok_or("a new store")?;
    crate::progress(&format!("listing: loading {n} users into one organization"));
    let started = Instant::now();
    let ids = load_listing_users(store.clone(), &first.org, n, 1_000, 4).await?;
    let load_s = started.elapsed().as_secs_f64();
    let authorizer = Arc::new(TokenAuthorizer::new(directory, Arc::new(SystemClock)));
    let codes = CodeIssuer::new(CodeSecret::new(vec![7; 32]).map_err(|e| e.to_string())?, InitCodeConfig::default());
    let users = UserService::new(
        store.clone(),
        store.clone(),
        authorizer,
        Arc::new(SystemClock),
        codes,
        PasswordPolicy::default(),
    )
    .with_index(store.clone())
    .with_invitations(store.clone(), onboard_domain::invitation::DEFAULT_RETENTION);
    let bearer = format!("Bearer {}", first.admin_token);
    let call = Call::from_lookup(|key| (key == "authorization").then_some(bearer.as_bytes()));

    crate::progress("listing: timing pages");
    let nodes = RedisNodes { ports: vec![server.port] };
    let initial = || vec![state_query(user_pb::UserState::Initial)];
    let deep = 10_000.min((n / 2).saturating_sub(100)) as u64;
    let mut timings = Vec::new();
    timings.push(
        time(
            &nodes,
            &users,
            &call,
            "Initial, by creation, first page of 100",
            request(0, 100, true, initial()),
            200,
            100,
        )
        .await?,
    );
    timings.push(
        time(
            &nodes,
            &users,
            &call,
            "Initial, by creation, newest first, page of 100",
            request(0, 100, false, initial()),
            200,
            100,
        )
        .await?,
    );
    timings.push(
        time(
            &nodes,
            &users,
            &call,
            &format!("Initial, by creation, offset {deep}, page of 100"),
            request(deep, 100, true, initial()),
            50,
            100,
        )
        .await?,
    );
    timings.push(
        time(
            &nodes,
            &users,
            &call,
            "all users, by creation, first page of 100",
            request(0, 100, true, vec![]),
            200,
            100,
        )
        .await?,
    );
    let equals = user_pb::SearchQuery {
        query: Some(user_pb::search_query::Query::EmailQuery(user_pb::EmailQuery {
            email_address: format!("bench.user.{:07}@example-company.com", n / 2),
            method: object_pb::TextQueryMethod::Equals as i32,
        })),
    };
    timings.push(
        time(&nodes, &users, &call, "email equals (address index)", request(0, 100, true, vec![equals]), 200, 1)
            .await?,
    );
    let contains = user_pb::SearchQuery {
        query: Some(user_pb::search_query::Query::DisplayNameQuery(user_pb::DisplayNameQuery {
            display_name: format!("User {}", n - 1),
            method: object_pb::TextQueryMethod::EndsWith as i32,
        })),
    };
    timings.push(
        time(
            &nodes,
            &users,
            &call,
            "display name ends with (scan of the organization)",
            request(0, 100, true, vec![contains]),
            1,
            1,
        )
        .await?,
    );

    crate::progress("listing: timing invitation pages");
    // One Initial user in 500 (every 1,000th user) gets a bounced email.
    let bounced: Vec<onboard_domain::Notification> = ids
        .iter()
        .enumerate()
        .filter(|(i, _)| i % 1000 == 0)
        .map(|(i, id)| onboard_domain::Notification {
            id: onboard_domain::NotificationId::generate(),
            user_id: id.clone(),
            recipient: onboard_domain::EmailAddress::parse(&format!("bench.user.{i:07}@example-company.com"))
                .expect("a valid address"),
            state: onboard_domain::DeliveryState::Bounced,
            created_at: time::OffsetDateTime::now_utc(),
            updated_at: time::OffsetDateTime::now_utc(),
            attempts: 1,
            last_error: Some("550 5.1.1 no such user".into()),
            provider_message_id: None,
            kind: Default::default(),
        })
        .collect();
    onboard_domain::ports::NotificationLog::put_many(&*store, &bounced).await.map_err(|e| e.to_string())?;
    let acting = users
        .authorize(Some(&first.admin_token), None, onboard_domain::Permission::UserRead)
        .await
        .map_err(|e| e.to_string())?;
    let filter = |state, expires, created, opened| {
        onboard_domain::InvitationFilter::new(state, None, expires, created, opened).map_err(|e| e.to_string())
    };
    let bounced_filter = || {
        onboard_domain::InvitationFilter::new(None, Some(onboard_domain::DeliveryState::Bounced), None, None, None)
            .map_err(|e| e.to_string())
    };
    let now = time::OffsetDateTime::now_utc();
    let half = now - time::Duration::milliseconds((n / 2) as i64);
    let pending = Some(onboard_domain::InvitationState::Pending);
    let shapes = [
        ("invitations, newest first, page of 100 (totalResult: more)", filter(None, None, None, None)?, 100),
        ("invitations, state pending, page of 100", filter(pending, None, None, None)?, 100),
        (
            "invitations, expiring within 73 h, page of 100",
            filter(None, Some(now + time::Duration::hours(73)), None, None)?,
            100,
        ),
        ("invitations, created before the middle, page of 100", filter(None, None, Some(half), None)?, 100),
        ("invitations, opened (none): one call's examine budget", filter(None, None, None, Some(true))?, 0),
        ("invitations, latest email bounced (1 in 500), page of 100", bounced_filter()?, 100),
    ];
    for (what, f, expect) in shapes {
        timings.push(time_invitations(&nodes, &users, &acting, what, &f, 100, expect).await?);
    }

    crate::progress("listing: measuring the indexes' memory");
    let bytes = index_bytes(server.port, &ids, onboard_domain::ports::Outbox::partitions(&*store))?;
    Ok(ListingReport { users: n, load_s, index_bytes_per_user: bytes as f64 / n as f64, timings })
}
