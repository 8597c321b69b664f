//! What nodes keep locally: credentials, invalidated by Redis the moment the
//! directory changes, and users for the writes that follow, checked by the
//! write's sequence.

use std::sync::Arc;

use onboard_domain::ports::{AuthenticateError, Authorizer, Directory, UserRepository};
use onboard_domain::usecases::{Administration, NewHumanUser, TokenAuthorizer, UserService};
use onboard_domain::{
    Acting, CodeIssuer, CodeSecret, Grant, GrantScope, InitCodeConfig, OrgId, PasswordPolicy, Principal, Role,
    SystemClock,
};
use onboard_redis::testing::{RedisCluster, RedisServer, info_fields};
use onboard_redis::{RedisDirectory, RedisSettings, RedisTarget, connect};

/// Script calls Redis has run so far, on all of `ports`.
fn script_calls(ports: &[u16]) -> u64 {
    ports
        .iter()
        .map(|&port| {
            let stats = onboard_redis::testing::command(port, "INFO commandstats").unwrap_or_default();
            info_fields(&stats)
                .filter(|(name, _)| *name == "cmdstat_evalsha" || *name == "cmdstat_eval")
                .filter_map(|(_, v)| v.split(',').find_map(|kv| kv.strip_prefix("calls="))?.parse::<u64>().ok())
                .sum::<u64>()
        })
        .sum()
}

/// A node's directory and authorizer on `target`, once its tracking runs.
async fn node(target: &RedisTarget) -> (RedisDirectory, TokenAuthorizer) {
    let directory = RedisDirectory::new(connect(RedisSettings::new(target.clone())).await.unwrap());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !directory.invalidations_applied().await {
        assert!(std::time::Instant::now() < deadline, "tracking did not start");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let authorizer = TokenAuthorizer::new(Arc::new(directory.clone()), Arc::new(SystemClock));
    (directory, authorizer)
}

/// Two nodes: a token authenticates on both from their caches (no script
/// call), and once revoked through one it is refused by the other after one
/// round trip of its own.
async fn revocation_holds_on_every_node_at_once(target: RedisTarget, ports: &[u16]) {
    let (dir_a, _) = node(&target).await;
    let (dir_b, auth_b) = node(&target).await;
    let admin = Administration::new(Arc::new(dir_a.clone()) as Arc<dyn Directory>, Arc::new(SystemClock));
    let op = Principal::local_operator();
    let org = admin.create_organization(&op, "Acme").await.unwrap();
    let token = admin.issue_token(&op, "svc", &org, vec![], None).await.unwrap();
    let other = admin.issue_token(&op, "other", &org, vec![], None).await.unwrap();

    assert_eq!(auth_b.authenticate(&token).await.unwrap().home_org, org);
    assert!(auth_b.authenticate(&other).await.is_ok());
    let before = script_calls(ports);
    for _ in 0..20 {
        assert_eq!(auth_b.authenticate(&token).await.unwrap().home_org, org);
    }
    assert_eq!(script_calls(ports), before, "cached credentials are not read again");

    assert!(admin.revoke_token(&op, &token).await.unwrap());
    assert!(dir_b.invalidations_applied().await);
    assert_eq!(auth_b.authenticate(&token).await, Err(AuthenticateError::InvalidToken));
    // The whole cache went: the other token is read again, and still good.
    let before = script_calls(ports);
    assert!(auth_b.authenticate(&other).await.is_ok());
    assert_eq!(script_calls(ports), before + 1);
}

#[tokio::test]
async fn a_revoked_token_is_refused_by_every_node_within_one_round_trip() {
    let server = RedisServer::start();
    revocation_holds_on_every_node_at_once(RedisTarget::Url(server.url()), &[server.port]).await;
}

#[tokio::test]
async fn a_revoked_token_is_refused_by_every_node_of_a_cluster() {
    let cluster = RedisCluster::start(3);
    let ports: Vec<u16> = cluster.nodes.iter().map(|n| n.port).collect();
    revocation_holds_on_every_node_at_once(RedisTarget::Cluster(cluster.seeds()), &ports).await;
}

#[tokio::test]
async fn without_tracking_credentials_are_read_on_every_call() {
    let mut server = RedisServer::start();
    let (dir, auth) = node(&RedisTarget::Url(server.url())).await;
    let admin = Administration::new(Arc::new(dir.clone()) as Arc<dyn Directory>, Arc::new(SystemClock));
    let op = Principal::local_operator();
    let org = admin.create_organization(&op, "Acme").await.unwrap();
    let token = admin.issue_token(&op, "svc", &org, vec![], None).await.unwrap();
    assert!(auth.authenticate(&token).await.is_ok());
    // Redis goes away: the cache goes dark with its connection, so nothing
    // is answered from it; Redis comes back empty: the token is unknown.
    server.restart();
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        match auth.authenticate(&token).await {
            Err(AuthenticateError::InvalidToken) => break,
            Err(AuthenticateError::Unavailable(_)) => {}
            Ok(_) => panic!("a token Redis no longer has was accepted from the cache"),
        }
        assert!(std::time::Instant::now() < deadline, "Redis did not come back");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

fn service(store: Arc<onboard_redis::RedisStore>) -> UserService {
    UserService::new(
        store.clone(),
        store,
        Arc::new(TokenAuthorizer::new(Arc::new(onboard_memory::InMemoryDirectory::new()), Arc::new(SystemClock))),
        Arc::new(SystemClock),
        CodeIssuer::new(CodeSecret::new(vec![5; 32]).unwrap(), InitCodeConfig::default()),
        PasswordPolicy::default(),
    )
}

fn acting(org: &OrgId) -> Acting {
    Acting {
        principal: Principal {
            subject: "t".into(),
            name: String::new(),
            home_org: org.clone(),
            grants: vec![Grant { scope: GrantScope::Instance, role: Role::IamOwner }],
        },
        org: org.clone(),
    }
}

/// A resend from a node whose cached user another node changed since:
/// the write's sequence fails, the retry reads afresh, and the log shows
/// both resends in order.
#[tokio::test]
async fn a_stale_cached_user_costs_a_retry_never_a_wrong_write() {
    let server = RedisServer::start();
    let a = Arc::new(crate::support::open(&server, "a").await.unwrap());
    let b = Arc::new(crate::support::open(&server, "b").await.unwrap());
    let (on_a, on_b) = (service(a.clone()), service(b.clone()));
    let org = OrgId::generate();
    let cmd = NewHumanUser::new(
        onboard_domain::UserName::parse("cached").unwrap(),
        onboard_domain::PersonName::parse("C").unwrap(),
        onboard_domain::PersonName::parse("U").unwrap(),
        onboard_domain::EmailAddress::parse("cached@example.com").unwrap(),
    );
    let id = on_a.create_human_user(&acting(&org), cmd).await.unwrap().user_id;
    // A caches the user as created; B changes the address.
    let (moved, _) = on_b
        .resend_initialization(
            &acting(&org),
            &id,
            Some(onboard_domain::EmailAddress::parse("new@example.com").unwrap()),
        )
        .await
        .unwrap();
    assert_eq!(moved.sequence, 4);
    assert_eq!(a.get_for_write(&id).await.unwrap().unwrap().sequence, 2, "A still has the user as it wrote it");

    let before = script_calls(&[server.port]);
    let (details, _) = on_a.resend_initialization(&acting(&org), &id, None).await.unwrap();
    // The stale write, the fresh read, the write again.
    assert_eq!(script_calls(&[server.port]) - before, 3);
    assert_eq!(details.sequence, 5);
    let user = a.get(&id).await.unwrap().unwrap();
    assert_eq!(user.email.address.as_str(), "new@example.com", "A's write started from B's change");
    let kinds: Vec<_> = a.events(&id).await.unwrap().iter().map(|e| (e.sequence, e.event.kind())).collect();
    assert_eq!(
        kinds[2..],
        [(3, "user.email.changed"), (4, "user.initialization.code.added"), (5, "user.initialization.code.added")]
    );
    // Now A's cache is current: the next resend is one script call.
    let before = script_calls(&[server.port]);
    on_a.resend_initialization(&acting(&org), &id, None).await.unwrap();
    assert_eq!(script_calls(&[server.port]) - before, 1);
}
