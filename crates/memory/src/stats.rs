//! Outbox figures of the embedded store.

use async_trait::async_trait;
use onboard_domain::ports::{OutboxDepth, OutboxStats, Unavailable};

use crate::InMemoryStore;

#[async_trait]
impl OutboxStats for InMemoryStore {
    /// The count is exact. The oldest entry's age is not reported: the store
    /// indexes entries by due time, not by enqueue time, and finding the
    /// oldest would scan every pending entry under the store's one lock.
    async fn depth(&self) -> Result<OutboxDepth, Unavailable> {
        Ok(OutboxDepth { entries: self.pending_emails() as u64, oldest_age: None })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use onboard_domain::OrgId;
    use onboard_domain::ports::UserRepository;

    #[tokio::test]
    async fn counts_pending_emails() {
        let store = InMemoryStore::new();
        assert_eq!(store.depth().await.unwrap().entries, 0);
        let (_, write) = onboard_domain::testkit::new_user(&OrgId::generate(), "counted");
        store.save(write).await.unwrap();
        assert_eq!(store.depth().await.unwrap().entries, 1);
    }
}
