//! ListUserChanges: a user's own event log.

use crate::authz::Acting;
use crate::events::RecordedEvent;
use crate::ids::{OrgId, UserId};
use crate::ports::Unavailable;
use crate::user_query::{LimitExceeded, PageLimits};

use super::UserService;

/// Which events of the log to answer (`zitadel.change.v1.ChangeQuery`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChangeQuery {
    /// Only events after this sequence.
    pub after_sequence: u64,
    pub limit: u32,
    /// Oldest first; ZITADEL's default is newest first.
    pub asc: bool,
}

impl ChangeQuery {
    /// The query as asked for, `limit` 0 taking the default of `limits`.
    pub fn new(after_sequence: u64, limit: u32, asc: bool, limits: PageLimits) -> Result<Self, LimitExceeded> {
        let page = crate::user_query::Page::new(0, limit, asc, limits)?;
        Ok(Self { after_sequence, limit: page.limit, asc })
    }
}

/// The events asked for and the organization they belong to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Changes {
    pub resource_owner: OrgId,
    pub events: Vec<RecordedEvent>,
}

impl UserService {
    /// The events of the user `id` of the acting organization, as `query`
    /// asks. A removed user's log is still there (ending in its removal);
    /// for an id the organization has no user of, the list is empty, as
    /// ZITADEL answers it.
    #[tracing::instrument(skip_all, fields(org = %acting.org, user_id = %id))]
    pub async fn list_user_changes(
        &self,
        acting: &Acting,
        id: &UserId,
        query: ChangeQuery,
    ) -> Result<Changes, Unavailable> {
        let owned = self.users.get(id).await?.is_some_and(|u| u.org == acting.org);
        let mut events = if owned { self.users.events(id).await? } else { Vec::new() };
        events.retain(|e| e.sequence > query.after_sequence);
        if !query.asc {
            events.reverse();
        }
        events.truncate(query.limit as usize);
        Ok(Changes { resource_owner: acting.org.clone(), events })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::usecases::test_support::*;

    fn uid() -> UserId {
        UserId::parse("200").unwrap()
    }

    fn service_with_log() -> UserService {
        let (mut user, _) = initial_user();
        let mut log =
            vec![
                RecordedEvent { sequence: 1, at: T0, event: crate::events::UserEvent::EmailVerified, editor: None };
                4
            ];
        for (i, e) in log.iter_mut().enumerate() {
            e.sequence = i as u64 + 1;
        }
        user.sequence = 4;
        let (repo, _) = logged_repo(user, log);
        service(repo, T0)
    }

    fn seqs(c: &Changes) -> Vec<u64> {
        c.events.iter().map(|e| e.sequence).collect()
    }

    #[tokio::test]
    async fn newest_first_by_default_after_the_sequence_and_limited() {
        let svc = service_with_log();
        let q = |after, limit, asc| ChangeQuery::new(after, limit, asc, PageLimits::V1).unwrap();
        assert_eq!(seqs(&svc.list_user_changes(&acting(), &uid(), q(0, 0, false)).await.unwrap()), [4, 3, 2, 1]);
        assert_eq!(seqs(&svc.list_user_changes(&acting(), &uid(), q(0, 2, true)).await.unwrap()), [1, 2]);
        assert_eq!(seqs(&svc.list_user_changes(&acting(), &uid(), q(2, 0, true)).await.unwrap()), [3, 4]);
        let changes = svc.list_user_changes(&acting(), &uid(), q(2, 1, false)).await.unwrap();
        assert_eq!((seqs(&changes), changes.resource_owner), (vec![4], org()));
        assert_eq!(ChangeQuery::new(0, 1001, true, PageLimits::V1), Err(LimitExceeded { given: 1001, allowed: 1000 }));
    }

    #[tokio::test]
    async fn other_organizations_see_an_empty_log() {
        let svc = service_with_log();
        let other = Acting { org: OrgId::parse("other").unwrap(), ..acting() };
        let q = ChangeQuery::new(0, 0, true, PageLimits::V1).unwrap();
        assert!(svc.list_user_changes(&other, &uid(), q).await.unwrap().events.is_empty());
        let (repo, _) = repo_with(None);
        assert!(service(repo, T0).list_user_changes(&acting(), &uid(), q).await.unwrap().events.is_empty());
    }
}
