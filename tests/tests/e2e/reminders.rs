//! Reminders (`ONBOARD_REMINDERS=48h,24h`) on Redis, with two nodes at once
//! and a restart between the reminders: each goes out exactly once, lists
//! as a reminder, makes the earlier link say a newer email was sent, and its
//! own link completes the initialization. Time is the test's: both nodes go
//! by one [`TestClock`], moved a day at a time.

use std::time::Duration;

use onboard_redis::RedisTarget;
use onboard_redis::testing::{RedisServer, command};
use onboard_tests::{Mail, PageSession, TestApp, TestClock, on_redis, submit_init_form};
use serde_json::json;

const GOOD: &str = "Str0ng!Passw0rd";

/// The reminders still scheduled in the store, every partition's.
fn scheduled(redis: &RedisServer) -> u64 {
    let port: u16 = redis.addr().rsplit(':').next().and_then(|p| p.parse().ok()).expect("a port");
    let partitions: usize = command(port, "GET onb:{meta}:partitions").and_then(|p| p.parse().ok()).expect("set up");
    (0..partitions)
        .map(|p| {
            let reply = command(port, &format!("ZCARD onb:{{p{p}}}:reminders")).expect("an answer");
            reply.trim_start_matches(':').parse::<u64>().expect("a count")
        })
        .sum()
}

/// Every email to `to` either node wrote, oldest first.
fn mails_to(apps: &[&TestApp], to: &str) -> Vec<Mail> {
    let mut all: Vec<Mail> = apps.iter().flat_map(|a| a.mails()).filter(|m| m.to == to).collect();
    all.sort_by(|a, b| a.file.cmp(&b.file));
    all
}

/// A link's path and query: opened on whichever node is asked (a restarted
/// node listens on another port than the one its earlier links name).
fn path_of(link: &str) -> &str {
    &link[link.find("/ui/").expect("onboard's link")..]
}

async fn wait_for(what: &str, mut check: impl FnMut() -> bool) {
    for _ in 0..400 {
        if check() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("never got there: {what}");
}

#[tokio::test]
async fn each_reminder_goes_out_once_across_a_restart_and_two_nodes_and_its_link_works() {
    let redis = RedisServer::start();
    let store = on_redis(RedisTarget::Url(redis.url()));
    let clock = TestClock::new();
    let server_clock = onboard_server::config::ServerClock(clock.clone());
    let mut one = TestApp::spawn_with(move |config| {
        store(config);
        config.code_lifetime = Duration::from_secs(72 * 3600);
        config.reminders = vec![Duration::from_secs(48 * 3600), Duration::from_secs(24 * 3600)];
        config.clock = server_clock;
    })
    .await;
    let two = one.spawn_peer().await;
    let to = "remind.me@example.com";
    let id = one.create_user("remind.me", to).await;
    // Time moves only once every email so far is settled: a leased email
    // would otherwise come due again as if its sender had died.
    let settled =
        |count: usize| move |l: &[serde_json::Value]| l.len() == count && l.iter().all(|n| n["state"] == "sent");
    wait_for("the invitation", || mails_to(&[&one, &two], to).len() == 1).await;
    one.wait_for_notifications(&id, settled(1)).await;
    assert_eq!(scheduled(&redis), 2, "two reminders scheduled with the code");

    // A day later the first reminder (48 h before expiry; due by the whole
    // second, and this clock stands still between moves); then the first node restarts.
    clock.advance(time::Duration::hours(24) + time::Duration::seconds(1));
    wait_for("the first reminder", || mails_to(&[&one, &two], to).len() >= 2).await;
    one.wait_for_notifications(&id, settled(2)).await;
    one.restart().await;
    // Another day: the second, by whichever node holds the partition now;
    // then nothing is scheduled any more.
    clock.advance(time::Duration::hours(24));
    wait_for("the second reminder and an empty schedule", || {
        mails_to(&[&one, &two], to).len() >= 3 && scheduled(&redis) == 0
    })
    .await;
    let listed = one
        .wait_for_notifications(&id, |l| {
            l.len() == 3 && l.iter().all(|n| n["state"] == "sent" || n["state"] == "delivered")
        })
        .await;
    let mut kinds: Vec<&str> = listed.iter().map(|n| n["kind"].as_str().unwrap()).collect();
    kinds.sort();
    assert_eq!(kinds, ["invitation", "reminder", "reminder"], "{listed:#?}");

    let mails = mails_to(&[&one, &two], to);
    assert_eq!(mails.len(), 3, "each reminder once: {mails:#?}");
    assert_eq!(mails[0].subject, "Initialize User");
    for reminder in &mails[1..] {
        assert_eq!(reminder.subject, "Reminder: Initialize User");
        assert!(reminder.text.contains("A reminder: your invitation is still waiting for you"), "{}", reminder.text);
    }
    let codes: std::collections::HashSet<&str> = mails.iter().map(|m| m.code.as_str()).collect();
    assert_eq!(codes.len(), 3, "each email has a code of its own");

    // The log tells the reminders apart, in English.
    let changes =
        one.post(&format!("/management/v1/users/{id}/changes/_search"), json!({"query": {"asc": true}})).await;
    assert_eq!(changes.status, 200, "{}", changes.body);
    let reminded: Vec<_> = changes.body["result"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["eventType"]["key"] == "EventTypes.user.human.initialization.reminder.issued")
        .collect();
    assert_eq!(reminded.len(), 2, "{}", changes.body);
    assert_eq!(reminded[0]["eventType"]["localizedMessage"], "Initialization reminder sent");

    // The invitation's link says a newer email was sent; the last reminder's completes.
    let mut page = PageSession::new(&one);
    let shown = page.open(path_of(&mails[0].link)).await;
    assert_eq!(shown.status, 400, "{}", shown.html);
    assert!(shown.html.contains("A newer email was sent to you on "), "{}", shown.html);
    let (status, html) = submit_init_form(&two, path_of(&mails[2].link), &mails[2].code, GOOD, GOOD).await;
    assert_eq!(status, 200, "{html}");
    let user = one.get(&format!("/management/v1/users/{id}")).await;
    assert_eq!(user.body["user"]["state"], "USER_STATE_ACTIVE", "{}", user.body);
    two.stop().await;
    one.stop().await;
}
