//! Branding read through a short-lived cache: every email and every view of
//! the init page needs its organization's branding, and it changes rarely.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use time::{Duration, OffsetDateTime};

use super::Branding;
use crate::ids::OrgId;
use crate::ports::{Clock, Directory, Unavailable};

/// How long a node keeps what it read. Administration on this node drops
/// the entry at once; a change made elsewhere (another node, the command
/// line) shows here within this long.
pub const BRANDING_TTL: Duration = Duration::seconds(30);

/// Past this many organizations the cache starts afresh, so it stays small
/// whatever links are visited.
const MAX_ENTRIES: usize = 10_000;

type Entry = (OffsetDateTime, Option<Arc<Branding>>);

/// The directory's branding, cached per organization for [`BRANDING_TTL`]
/// (absent branding too). Clones share one cache.
#[derive(Clone)]
pub struct Brandings {
    directory: Arc<dyn Directory>,
    clock: Arc<dyn Clock>,
    ttl: Duration,
    entries: Arc<Mutex<HashMap<OrgId, Entry>>>,
}

impl std::fmt::Debug for Brandings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Brandings").field("ttl", &self.ttl).finish_non_exhaustive()
    }
}

impl Brandings {
    pub fn new(directory: Arc<dyn Directory>, clock: Arc<dyn Clock>, ttl: Duration) -> Self {
        Self { directory, clock, ttl, entries: Arc::default() }
    }

    /// The branding of `org`, `None` when it has none (or does not exist).
    pub async fn get(&self, org: &OrgId) -> Result<Option<Arc<Branding>>, Unavailable> {
        let now = self.clock.now();
        if let Some((at, branding)) = self.lock().get(org)
            && now < *at + self.ttl
        {
            return Ok(branding.clone());
        }
        let branding = self.directory.branding(org).await?.map(Arc::new);
        let mut entries = self.lock();
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(org.clone(), (now, branding.clone()));
        Ok(branding)
    }

    /// The completion URL of `org`, read from the directory each time (only
    /// a finished initialization asks, so it need not be cached).
    pub async fn completion_url(&self, org: &OrgId) -> Result<Option<crate::completion::CompletionUrl>, Unavailable> {
        self.directory.completion_url(org).await
    }

    /// Forgets what was read of `org`: after a change made through this node.
    pub fn invalidate(&self, org: &OrgId) {
        self.lock().remove(org);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<OrgId, Entry>> {
        // A panic while holding the lock leaves a map that is still whole.
        self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::MockDirectory;
    use crate::usecases::test_support::{T0, clock_at};

    fn branding() -> Branding {
        Branding {
            display_name: Some("Acme".into()),
            palette: None,
            sender_name: None,
            sender_address: None,
            reply_to: None,
            default_language: None,
            overrides: Default::default(),
            logo: None,
            updated_at: T0,
        }
    }

    #[tokio::test]
    async fn reads_are_kept_for_the_ttl_and_dropped_on_invalidation() {
        let mut directory = MockDirectory::new();
        // Two reads: the first, and the one after the invalidation.
        directory.expect_branding().times(2).returning(|_| Ok(Some(branding())));
        let org = OrgId::parse("100").unwrap();
        let cache = Brandings::new(Arc::new(directory), clock_at(T0), BRANDING_TTL);
        for _ in 0..3 {
            assert_eq!(cache.get(&org).await.unwrap().unwrap().display_name.as_deref(), Some("Acme"));
        }
        cache.invalidate(&org);
        assert!(cache.get(&org).await.unwrap().is_some());
    }

    struct Stepping(Mutex<OffsetDateTime>);

    impl Clock for Stepping {
        fn now(&self) -> OffsetDateTime {
            *self.0.lock().unwrap()
        }
    }

    #[tokio::test]
    async fn entries_expire() {
        let mut directory = MockDirectory::new();
        directory.expect_branding().times(2).returning(|_| Ok(None));
        let org = OrgId::parse("100").unwrap();
        let clock = Arc::new(Stepping(Mutex::new(T0)));
        let cache = Brandings::new(Arc::new(directory), clock.clone(), BRANDING_TTL);
        assert!(cache.get(&org).await.unwrap().is_none());
        *clock.0.lock().unwrap() += BRANDING_TTL - Duration::seconds(1);
        assert!(cache.get(&org).await.unwrap().is_none(), "still cached");
        *clock.0.lock().unwrap() += Duration::seconds(1);
        assert!(cache.get(&org).await.unwrap().is_none(), "read again");
    }

    #[tokio::test]
    async fn an_unavailable_directory_is_reported_and_not_cached() {
        let mut directory = MockDirectory::new();
        let mut calls = 0;
        directory.expect_branding().times(2).returning(move |_| {
            calls += 1;
            if calls == 1 { Err(Unavailable("down".into())) } else { Ok(None) }
        });
        let org = OrgId::parse("100").unwrap();
        let cache = Brandings::new(Arc::new(directory), clock_at(T0), BRANDING_TTL);
        assert_eq!(cache.get(&org).await, Err(Unavailable("down".into())));
        assert_eq!(cache.get(&org).await, Ok(None));
    }
}
