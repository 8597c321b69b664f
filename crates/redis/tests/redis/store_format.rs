//! The store's format record (docs/redis.md, "Stored format"): made at a
//! store's first start, checked at every start.

use onboard_domain::ports::UserRepository;
use onboard_redis::testing::RedisServer;
use onboard_redis::testing::format::FORMAT;

use crate::support::{self, raw};

async fn recorded_format(server: &RedisServer) -> Option<String> {
    redis::cmd("GET").arg("onb:{meta}:format").query_async(&mut raw(server).await).await.unwrap()
}

#[tokio::test]
async fn a_new_store_records_the_format_it_holds() {
    let server = RedisServer::start();
    support::open(&server, "format-test").await.unwrap();
    assert_eq!(recorded_format(&server).await, Some(FORMAT.to_string()));
    support::open(&server, "format-test-2").await.unwrap();
}

#[tokio::test]
async fn a_store_from_before_the_format_was_recorded_holds_format_1() {
    let server = RedisServer::start();
    let store = support::open(&server, "format-test").await.unwrap();
    let (user, write) = onboard_domain::testkit::new_user(&onboard_domain::OrgId::generate(), "earlier");
    store.save(write).await.unwrap();
    // As the version before the record left it: data, and no format.
    redis::cmd("DEL").arg("onb:{meta}:format").query_async::<()>(&mut raw(&server).await).await.unwrap();
    let reopened = support::open(&server, "format-test-2").await.unwrap();
    assert_eq!(recorded_format(&server).await.as_deref(), Some("1"));
    assert_eq!(reopened.get(&user.id).await.unwrap(), Some(user));
}

#[tokio::test]
async fn a_store_in_another_format_is_refused() {
    let server = RedisServer::start();
    support::open(&server, "format-test").await.unwrap();
    for (stored, says) in [("2", "format 2"), ("one", "\"one\"")] {
        redis::cmd("SET")
            .arg("onb:{meta}:format")
            .arg(stored)
            .query_async::<()>(&mut raw(&server).await)
            .await
            .unwrap();
        let err = support::open(&server, "format-test-2").await.unwrap_err();
        assert!(err.contains(says) && err.contains("only format 1"), "{err}");
        assert_eq!(recorded_format(&server).await.as_deref(), Some(stored), "the record is left as it was");
    }
}
