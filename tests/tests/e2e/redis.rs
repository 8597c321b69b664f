//! onboard on Redis as its users run it: several nodes on one store, Redis
//! dying under load, onboard restarting with work pending.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use onboard_redis::RedisTarget;
use onboard_redis::testing::RedisServer;
use onboard_tests::{TestApp, on_redis, submit_init_form};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_nodes_share_users_and_deliver_each_email_once() {
    let redis = RedisServer::start();
    let a = TestApp::spawn_with(on_redis(RedisTarget::Url(redis.url()))).await;
    let b = a.spawn_peer().await;

    // Created through A, resent through B.
    let mut ids = Vec::new();
    for i in 0..60 {
        ids.push(a.create_user(&format!("shared{i}"), &format!("shared{i}@example.com")).await);
    }
    for id in &ids {
        let r = b.post(&format!("/management/v1/users/{id}/_resend_initialization"), json!({})).await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let got = b.get(&format!("/management/v1/users/{}", ids[0])).await;
    assert_eq!(got.status, 200);

    // Every user ends up with its newest code mailed exactly once, by one node or the other.
    let deadline = Instant::now() + Duration::from_secs(20);
    let (from_a, from_b) = loop {
        let (from_a, from_b) = (a.mails(), b.mails());
        let mut newest: HashMap<String, u64> = HashMap::new();
        for id in &ids {
            let user = a.get(&format!("/management/v1/users/{id}")).await;
            newest.insert(id.clone(), user.body["user"]["details"]["sequence"].as_str().unwrap().parse().unwrap());
        }
        // Each user's last event is "code sent" once the newest code went out.
        let all_sent = ids.iter().all(|id| {
            [&from_a, &from_b].iter().flat_map(|m| m.iter()).any(|m| m.link.contains(&format!("userID={id}&")))
        }) && newest.values().all(|&seq| seq >= 5);
        if all_sent {
            break (from_a, from_b);
        }
        assert!(Instant::now() < deadline, "not every user was mailed in time");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let mut all: Vec<_> = from_a.iter().chain(from_b.iter()).collect();
    all.sort_by(|x, y| x.file.cmp(&y.file));
    let mut seen = std::collections::HashSet::new();
    for m in &all {
        assert!(seen.insert(m.notification_id.clone()), "email {} delivered twice", m.notification_id);
    }
    assert!(!from_a.is_empty() && !from_b.is_empty(), "deliveries split: a {} b {}", from_a.len(), from_b.len());
    // At most two emails per user (creation, resend), and each user's last email has the code that works.
    assert!(all.len() <= 2 * ids.len());
    for (i, id) in ids.iter().take(3).enumerate() {
        let mail = mails_for(&all, id).last().copied().unwrap();
        let (status, html) = submit_init_form(
            if i % 2 == 0 { &a } else { &b },
            &mail.link,
            &mail.code,
            "Good-passw0rd",
            "Good-passw0rd",
        )
        .await;
        assert_eq!(status, 200, "{html}");
    }
    b.stop().await;
    a.stop().await;
}

/// The emails to user `id`, in the order of `all` (by time of writing).
fn mails_for<'a>(all: &[&'a onboard_tests::Mail], id: &str) -> Vec<&'a onboard_tests::Mail> {
    all.iter().copied().filter(|m| m.link.contains(&format!("userID={id}&"))).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn redis_dying_under_load_loses_no_acknowledged_write() {
    let mut redis = RedisServer::start_persistent();
    let app = TestApp::spawn_with(on_redis(RedisTarget::Url(redis.url()))).await;
    let app = std::sync::Arc::new(app);

    // A bounded load: creates for at most 12 s or 400 requests.
    let load = {
        let app = app.clone();
        tokio::spawn(async move {
            let mut created = Vec::new();
            let mut failures = Vec::new();
            let started = Instant::now();
            for i in 0..400 {
                if started.elapsed() > Duration::from_secs(12) {
                    break;
                }
                let r = app
                    .call(
                        reqwest::Method::POST,
                        "/management/v1/users/human",
                        Some(&app.token),
                        None,
                        Some(json!({"userName": format!("load{i}"), "profile": {"firstName": "L", "lastName": "D"},
                                    "email": {"email": format!("load{i}@example.com")}})),
                    )
                    .await;
                if r.status == 200 {
                    created.push((Instant::now(), r.body["userId"].as_str().unwrap().to_owned()));
                } else {
                    failures.push((Instant::now(), r.status.as_u16(), r.body["code"].as_i64()));
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            (created, failures)
        })
    };
    tokio::time::sleep(Duration::from_millis(800)).await;
    let dead_at = Instant::now();
    redis.kill();
    // Meanwhile the service says it is not ready.
    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 503);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    redis.restart();
    let back_at = Instant::now();
    let (created, failures) = load.await.unwrap();

    assert!(!failures.is_empty(), "the outage was seen");
    for (at, status, code) in &failures {
        assert_eq!((*status, *code), (503, Some(14)), "only 503 with code 14 during the outage");
        assert!(*at >= dead_at, "no failure before the outage");
    }
    let first_after = created.iter().map(|(t, _)| *t).find(|t| *t > back_at).expect("service resumed");
    let resumed_in = first_after - back_at;
    println!("resumed {resumed_in:?} after Redis came back");
    assert!(resumed_in <= Duration::from_secs(2) + Duration::from_millis(500), "resumed in {resumed_in:?}");
    // Every write a client saw succeed is there.
    for (_, id) in &created {
        let r = app.get(&format!("/management/v1/users/{id}")).await;
        assert_eq!(r.status, 200, "user {id} lost: {}", r.body);
    }
    assert_eq!(app.client.get(app.url("/readyz")).send().await.unwrap().status(), 200);
    std::sync::Arc::try_unwrap(app).unwrap().stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_restart_keeps_users_codes_tokens_and_pending_emails() {
    let mut redis = RedisServer::start_persistent();
    let mut app = TestApp::spawn_with(on_redis(RedisTarget::Url(redis.url()))).await;
    // The mail folder is blocked: emails stay pending (retried later).
    std::fs::write(&app.mail_dir, b"not a folder").unwrap();
    let id = app.create_user("patient", "patient@example.com").await;
    let viewer = app.token_with(&app.org, onboard_domain::Role::OrgOwnerViewer, &app.org).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(app.mails().is_empty());

    // Redis and onboard both restart; the folder is fixed meanwhile.
    redis.restart();
    std::fs::remove_file(&app.mail_dir).unwrap();
    app.restart().await;

    let user = app.call(reqwest::Method::GET, &format!("/management/v1/users/{id}"), Some(&viewer), None, None).await;
    assert_eq!(user.status, 200, "the token and the user survived: {}", user.body);
    assert_eq!(user.body["user"]["state"], "USER_STATE_INITIAL");
    let mail = app.wait_for_mails("patient@example.com", 1).await.remove(0);
    let (status, html) = submit_init_form(&app, &mail.link, &mail.code, "Good-passw0rd", "Good-passw0rd").await;
    assert_eq!(status, 200, "the code survived: {html}");
    let user = app.get(&format!("/management/v1/users/{id}")).await;
    assert_eq!(user.body["user"]["state"], "USER_STATE_ACTIVE");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hundred_concurrent_resends_over_http_answer_cleanly() {
    let redis = RedisServer::start();
    let app = std::sync::Arc::new(TestApp::spawn_with(on_redis(RedisTarget::Url(redis.url()))).await);
    let id = app.create_user("crowd", "crowd@example.com").await;
    let calls: Vec<_> = (0..100)
        .map(|_| {
            let (app, id) = (app.clone(), id.clone());
            tokio::spawn(async move {
                app.post(&format!("/management/v1/users/{id}/_resend_initialization"), json!({})).await
            })
        })
        .collect();
    let mut ok = 0;
    for call in calls {
        let r = call.await.unwrap();
        match r.status.as_u16() {
            200 => ok += 1,
            // Retryable: the write kept losing to concurrent ones (Aborted), or Redis was too slow.
            409 => assert_eq!(r.body["code"], 10, "{}", r.body),
            503 => assert_eq!(r.body["code"], 14, "{}", r.body),
            other => panic!("unexpected {other}: {}", r.body),
        }
    }
    assert!(ok >= 1);
    // Once delivery settles, the last email carries the one code that works.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let user = app.get(&format!("/management/v1/users/{id}")).await;
        let seq: u64 = user.body["user"]["details"]["sequence"].as_str().unwrap().parse().unwrap();
        let mails = app.mails();
        if mails.last().is_some_and(|m| m.link.contains(&format!("userID={id}&"))) && seq as usize > 2 + ok {
            let newest = mails.last().unwrap().clone();
            tokio::time::sleep(Duration::from_millis(300)).await;
            if app.mails().len() == mails.len() {
                let (status, html) =
                    submit_init_form(&app, &newest.link, &newest.code, "Good-passw0rd", "Good-passw0rd").await;
                assert_eq!(status, 200, "{html}");
                break;
            }
        }
        assert!(Instant::now() < deadline, "delivery did not settle");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    std::sync::Arc::try_unwrap(app).unwrap().stop().await;
}

/// What one failover run saw.
#[derive(Debug)]
struct Failover {
    /// Answered 200: creates (user id) and resends (user id, sequence).
    created: Vec<String>,
    resent: Vec<(String, u64)>,
    /// Other answers: status and code.
    failures: Vec<(u16, Option<i64>)>,
    /// Acknowledged creates and resends that are not in the store afterwards.
    lost: usize,
    /// From the replica's promotion to the first write answered 200 after it.
    resumed_in: Duration,
    /// Users whose newest code (the one live code) was mailed, of the acknowledged ones present.
    mailed: usize,
    present: usize,
}

/// A Cluster of 3 primaries with a replica each; one onboard node writing
/// with `min_replicas_ack`. Four clients create users and resend to them
/// while the primary serving most outbox partitions is killed (SIGKILL) and
/// its replica takes over; they go on for 4 s after the promotion.
async fn failover(min_replicas_ack: usize) -> Failover {
    use onboard_domain::ports::UserRepository;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    let mut cluster = onboard_redis::testing::RedisCluster::start_with(3, 1, 1000);
    let seeds = cluster.seeds();
    let app = Arc::new(
        TestApp::spawn_with(|config| {
            on_redis(RedisTarget::Cluster(seeds.clone()))(config);
            config.redis_min_replicas_ack = min_replicas_ack;
            // A message a dead primary had handed out is taken up again soon.
            config.outbox_reclaim_after = Duration::from_secs(2);
        })
        .await,
    );
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let clients: Vec<_> = (0..4)
        .map(|c| {
            let (app, stop) = (app.clone(), stop.clone());
            tokio::spawn(async move {
                let (mut created, mut resent, mut failures) = (Vec::new(), Vec::new(), Vec::new());
                let mut at = Vec::new();
                for i in 0..600 {
                    if stop.load(Ordering::Relaxed) || started.elapsed() > Duration::from_secs(25) {
                        break;
                    }
                    let r = if i % 3 == 0 || created.is_empty() {
                        let name = format!("fail{c}x{i}");
                        app.post(
                            "/management/v1/users/human",
                            json!({"userName": name, "profile": {"firstName": "F", "lastName": "O"},
                                   "email": {"email": format!("{name}@example.com")}}),
                        )
                        .await
                    } else {
                        let id: &String = &created[i % created.len()];
                        app.post(&format!("/management/v1/users/{id}/_resend_initialization"), json!({})).await
                    };
                    if r.status == 200 {
                        at.push(Instant::now());
                        match r.body["userId"].as_str() {
                            Some(id) => created.push(id.to_owned()),
                            None => {
                                let id = created[i % created.len()].clone();
                                let seq = r.body["details"]["sequence"].as_str().unwrap().parse().unwrap();
                                resent.push((id, seq));
                            }
                        }
                    } else {
                        failures.push((r.status.as_u16(), r.body["code"].as_i64()));
                    }
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                (created, resent, failures, at)
            })
        })
        .collect();

    tokio::time::sleep(Duration::from_millis(1500)).await;
    // The primary with the most of the 16 outbox partitions' slots.
    let victim = (0..cluster.nodes.len())
        .max_by_key(|&n| {
            (0..16).filter(|p| cluster.primary_of(cluster.slot_of(&format!("{{p{p}}}"))) == Some(n)).count()
        })
        .unwrap();
    cluster.nodes[victim].kill();
    let promoted_at = tokio::task::block_in_place(|| cluster.wait_until_served(Duration::from_secs(20)))
        .expect("the replica took over");
    tokio::time::sleep(Duration::from_secs(4)).await;
    stop.store(true, Ordering::Relaxed);

    let (mut created, mut resent, mut failures, mut answered) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for client in clients {
        let (c, r, f, at) = client.await.unwrap();
        created.extend(c);
        resent.extend(r);
        failures.extend(f);
        answered.extend(at);
    }
    let resumed_in = answered.iter().filter(|t| **t > promoted_at).min().map_or(Duration::MAX, |t| *t - promoted_at);

    // What the store holds now, read past the node.
    let redis =
        onboard_redis::connect(onboard_redis::RedisSettings::new(RedisTarget::Cluster(cluster.seeds()))).await.unwrap();
    let store = onboard_redis::RedisStore::open(redis, "checker").await.unwrap();
    let mut lost = 0;
    let mut present = Vec::new();
    for id in &created {
        match store.get(&onboard_domain::UserId::parse(id).unwrap()).await.unwrap() {
            Some(user) => present.push(user),
            None => lost += 1,
        }
    }
    for (id, seq) in &resent {
        let log = store.events(&onboard_domain::UserId::parse(id).unwrap()).await.unwrap();
        let there = log.iter().any(|e| e.sequence == *seq && e.event.kind() == "user.initialization.code.added");
        lost += usize::from(!there);
    }

    // Every present user's one live code reaches its mailbox (at least once).
    let secret = std::fs::read_to_string(app.mail_dir.parent().unwrap().join("code.secret")).unwrap();
    let secret: Vec<u8> =
        (0..64).step_by(2).map(|i| u8::from_str_radix(&secret.trim()[i..i + 2], 16).unwrap()).collect();
    let codes = onboard_domain::CodeIssuer::new(
        onboard_domain::CodeSecret::new(secret).unwrap(),
        onboard_domain::InitCodeConfig::default(),
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    let mailed = loop {
        let mails = app.mails();
        let mut mailed = 0;
        for user in &present {
            let user = store.get(&user.id).await.unwrap().unwrap();
            let live = user.init_code.as_ref().expect("an Initial user has its code");
            let newest_added = store
                .events(&user.id)
                .await
                .unwrap()
                .iter()
                .rev()
                .find(|e| e.event.kind() == "user.initialization.code.added")
                .map(|e| e.sequence);
            assert_eq!(newest_added, Some(live.generation), "the live code is the newest one issued");
            let link = format!("userID={}&", user.id);
            mailed += usize::from(
                mails.iter().any(|m| m.link.contains(&link) && codes.matches(&user.id, &m.code, &live.hash)),
            );
        }
        if mailed == present.len() || Instant::now() > deadline {
            break mailed;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let present = present.len();
    Arc::try_unwrap(app).unwrap().stop().await;
    Failover { created, resent, failures, lost, resumed_in, mailed, present }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_primary_failing_over_loses_no_write_acknowledged_by_a_replica() {
    let run = failover(1).await;
    println!(
        "min_replicas_ack 1: {} creates and {} resends answered 200, {} refused, {} lost; resumed {:?} after the \
         promotion; {} of {} users got their live code",
        run.created.len(),
        run.resent.len(),
        run.failures.len(),
        run.lost,
        run.resumed_in,
        run.mailed,
        run.present
    );
    assert!(run.created.len() >= 20 && !run.resent.is_empty(), "the load ran: {run:?}");
    assert_eq!(run.lost, 0, "acknowledged writes lost");
    for failure in &run.failures {
        assert_eq!(*failure, (503, Some(14)), "only 503 with code 14 while the primary is away");
    }
    assert!(run.resumed_in <= Duration::from_secs(5), "service resumed {:?} after the promotion", run.resumed_in);
    assert_eq!(run.mailed, run.present, "every acknowledged user's live code was mailed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_primary_failing_over_without_waiting_for_replicas_reports_what_it_lost() {
    let run = failover(0).await;
    // A figure, not a promise: asynchronous replication on loopback rarely
    // trails by more than a write or two.
    println!(
        "min_replicas_ack 0: {} creates and {} resends answered 200, {} refused, {} acknowledged writes lost; \
         resumed {:?} after the promotion; {} of {} users got their live code",
        run.created.len(),
        run.resent.len(),
        run.failures.len(),
        run.lost,
        run.resumed_in,
        run.mailed,
        run.present
    );
    assert!(run.created.len() >= 20, "the load ran: {run:?}");
}
