//! 100 concurrent resends for one user, through the real use cases on a
//! real Redis: every answer is a success or a clean retryable error, the log
//! has no gaps, and exactly one code — the newest — verifies.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use onboard_domain::ports::{Outbox, SaveError, Unavailable, UserRepository, UserWrite};
use onboard_domain::usecases::{NewHumanUser, ResendError, UserService};
use onboard_domain::{
    Acting, CodeIssuer, CodeSecret, Grant, GrantScope, InitCodeConfig, OrgId, PasswordPolicy, PlainCode, Principal,
    RecordedEvent, Role, SystemClock, User, UserId,
};
use onboard_memory::InMemoryDirectory;
use onboard_redis::RedisStore;
use onboard_redis::testing::RedisServer;

use crate::support;

/// Records the code of every write the store accepted, with its sequence.
struct Recording {
    inner: Arc<RedisStore>,
    codes: Mutex<Vec<(u64, PlainCode)>>,
}

#[async_trait]
impl UserRepository for Recording {
    async fn get(&self, id: &UserId) -> Result<Option<User>, Unavailable> {
        self.inner.get(id).await
    }
    async fn events(&self, id: &UserId) -> Result<Vec<RecordedEvent>, Unavailable> {
        self.inner.events(id).await
    }
    async fn save(&self, write: UserWrite) -> Result<(), SaveError> {
        let code = write.outbox.as_ref().map(|e| (write.user.sequence, e.code.clone()));
        self.inner.save(write).await?;
        self.codes.lock().unwrap().extend(code);
        Ok(())
    }
    async fn ping(&self) -> Result<(), Unavailable> {
        self.inner.ping().await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hundred_concurrent_resends_leave_one_valid_code() {
    let server = RedisServer::start();
    let store = Arc::new(support::open(&server, "node-a").await.unwrap());
    let recording = Arc::new(Recording { inner: store.clone(), codes: Mutex::new(Vec::new()) });
    let codes = CodeIssuer::new(CodeSecret::new(vec![5; 32]).unwrap(), InitCodeConfig::default());
    let users = UserService::new(
        recording.clone(),
        store.clone(),
        Arc::new(onboard_domain::usecases::TokenAuthorizer::new(
            Arc::new(InMemoryDirectory::new()),
            Arc::new(SystemClock),
        )),
        Arc::new(SystemClock),
        codes.clone(),
        PasswordPolicy::default(),
    );
    let org = OrgId::generate();
    let acting = Acting {
        principal: Principal {
            subject: "t".into(),
            name: String::new(),
            home_org: org.clone(),
            grants: vec![Grant { scope: GrantScope::Instance, role: Role::IamOwner }],
        },
        org,
    };
    let cmd = NewHumanUser::new(
        onboard_domain::UserName::parse("busy").unwrap(),
        onboard_domain::PersonName::parse("B").unwrap(),
        onboard_domain::PersonName::parse("U").unwrap(),
        onboard_domain::EmailAddress::parse("busy@example.com").unwrap(),
    );
    let id = users.create_human_user(&acting, cmd).await.unwrap().user_id;

    let tasks: Vec<_> = (0..100)
        .map(|_| {
            let (users, acting, id) = (users.clone(), acting.clone(), id.clone());
            tokio::spawn(async move { users.resend_initialization(&acting, &id, None).await })
        })
        .collect();
    let mut ok = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => ok += 1,
            Err(ResendError::Contention | ResendError::Unavailable(_)) => {}
            Err(other) => panic!("not a clean retryable error: {other:?}"),
        }
    }
    assert!(ok >= 1);

    let user = store.get(&id).await.unwrap().unwrap();
    let log = store.events(&id).await.unwrap();
    // Created (2 events) plus one event per successful resend, without gaps.
    assert_eq!(log.len(), 2 + ok, "{ok} successful resends");
    assert_eq!(user.sequence as usize, log.len());
    assert!(log.iter().enumerate().all(|(i, e)| e.sequence == i as u64 + 1));

    let recorded = recording.codes.lock().unwrap().clone();
    assert_eq!(recorded.len(), 1 + ok);
    let hash = &user.init_code.as_ref().unwrap().hash;
    let valid: Vec<u64> =
        recorded.iter().filter(|(_, c)| codes.matches(&id, c.expose(), hash)).map(|(s, _)| *s).collect();
    assert_eq!(valid, vec![user.sequence], "exactly the newest code is valid");

    // The outbox holds that one email only.
    let mut pending = Vec::new();
    for p in 0..store.partitions() {
        pending.extend(
            store.claim_due(p, time::OffsetDateTime::now_utc(), 1000, time::Duration::seconds(30)).await.unwrap(),
        );
    }
    assert_eq!(pending.len(), 1);
    assert!(codes.matches(&id, pending[0].code.expose(), hash));
}
