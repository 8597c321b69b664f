//! Resending many invitations at once: each user through the one resend
//! use case ([`UserService::resend_initialization`]), so each gets the same
//! throttles, the same new code and the same email as a single resend.

use std::time::Duration;

use futures_util::stream::{self, StreamExt};

use crate::authz::Acting;
use crate::ids::{NotificationId, UserId};
use crate::invitation::InvitationFilter;
use crate::ports::Unavailable;
use crate::throttle::Throttled;

use super::{ListInvitationsError, MAX_INVITATION_PAGE, ResendError, UserService};

/// The most users one call names.
pub const MAX_BULK_IDS: usize = 1000;
/// How many of a bulk resend's users are resent at once.
const BULK_CONCURRENCY: usize = 16;

/// The most invitations a filter may match for one call.
pub const MAX_BULK_MATCHED: usize = 10_000;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BulkResendError {
    #[error("name at least one user")]
    NoUsers,
    #[error("{0} users named; at most {MAX_BULK_IDS} per call")]
    TooManyIds(usize),
    /// Nothing was resent: the filter matches more than one call may take.
    #[error("the filter matches more than {MAX_BULK_MATCHED} invitations; narrow it")]
    TooManyMatched,
    #[error(transparent)]
    Listing(#[from] ListInvitationsError),
    #[error(transparent)]
    Unavailable(#[from] Unavailable),
}

/// Whom a bulk resend is for: named users (duplicates collapsed, first
/// occurrence kept), or the invitations a filter matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResendTargets {
    Ids(Vec<UserId>),
    Filter(InvitationFilter),
}

impl ResendTargets {
    pub fn ids(ids: Vec<UserId>) -> Result<Self, BulkResendError> {
        let mut seen = std::collections::HashSet::with_capacity(ids.len());
        let unique: Vec<UserId> = ids.into_iter().filter(|id| seen.insert(id.clone())).collect();
        match unique.len() {
            0 => Err(BulkResendError::NoUsers),
            n if n > MAX_BULK_IDS => Err(BulkResendError::TooManyIds(n)),
            _ => Ok(Self::Ids(unique)),
        }
    }
}

/// What became of one user's resend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BulkOutcome {
    /// A new code and email, whose id this is.
    Resent(NotificationId),
    Throttled(Throttled),
    /// The user is no longer Initial.
    NotPending,
    /// Not in the acting organization, removed, or not there at all.
    NotFound,
    /// The store failed for this user (or kept colliding): nothing changed
    /// for it, and trying it again may work.
    Failed(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulkResult {
    pub user_id: UserId,
    pub outcome: BulkOutcome,
}

impl BulkResult {
    /// How long the caller should wait before trying this user again.
    pub fn retry_after(&self) -> Option<Duration> {
        match &self.outcome {
            BulkOutcome::Throttled(t) => Some(t.retry_after),
            _ => None,
        }
    }
}

impl UserService {
    /// Resends the invitation of each of `targets`, a few at a time, and
    /// says what became of each. A filter is walked to its end first (the
    /// listing's pages, at most [`MAX_BULK_MATCHED`] invitations) so an
    /// over-broad one changes nothing.
    #[tracing::instrument(skip_all, fields(org = %acting.org))]
    pub async fn resend_invitations(
        &self,
        acting: &Acting,
        targets: &ResendTargets,
    ) -> Result<Vec<BulkResult>, BulkResendError> {
        let ids = match targets {
            ResendTargets::Ids(ids) => ids.clone(),
            ResendTargets::Filter(filter) => self.matched(acting, filter).await?,
        };
        // A few at a time (the ids are distinct, so no two race for one user):
        // the emails then become due together, and the mailer's gathering
        // makes few provider calls of them. Results keep the ids' order.
        let results = stream::iter(ids)
            .map(|user_id| async move {
                let outcome = match self.resend_initialization(acting, &user_id, None).await {
                    Ok((_, notification)) => BulkOutcome::Resent(notification),
                    Err(ResendError::Throttled(t)) => BulkOutcome::Throttled(t),
                    Err(ResendError::NotInitial) => BulkOutcome::NotPending,
                    Err(ResendError::NotFound) => BulkOutcome::NotFound,
                    Err(e @ (ResendError::Contention | ResendError::Unavailable(_))) => {
                        BulkOutcome::Failed(e.to_string())
                    }
                };
                BulkResult { user_id, outcome }
            })
            .buffered(BULK_CONCURRENCY)
            .collect()
            .await;
        Ok(results)
    }

    /// The users of every invitation `filter` matches, newest first.
    async fn matched(&self, acting: &Acting, filter: &InvitationFilter) -> Result<Vec<UserId>, BulkResendError> {
        let (mut ids, mut token) = (Vec::new(), None::<String>);
        loop {
            let page = self.list_invitations(acting, filter, MAX_INVITATION_PAGE, token.as_deref()).await?;
            ids.extend(page.invitations.into_iter().map(|i| i.user_id));
            if ids.len() > MAX_BULK_MATCHED {
                return Err(BulkResendError::TooManyMatched);
            }
            match page.next_page_token {
                Some(t) => token = Some(t),
                None => return Ok(ids),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;
    use crate::invitation::Position;
    use crate::ports::{MockInvitationIndex, MockUserRepository};
    use crate::throttle::{ThrottleConfig, ThrottleReason};
    use crate::usecases::test_support::*;
    use crate::user::{User, UserState};

    fn id(n: u32) -> UserId {
        UserId::parse(&n.to_string()).unwrap()
    }

    /// A repository of Initial users `1..=initial` and Active user `active`,
    /// recording the users each save was for.
    fn repo(initial: u32, active: u32) -> (MockUserRepository, Arc<Mutex<Vec<UserId>>>) {
        let (base, _) = initial_user();
        let mut repo = MockUserRepository::new();
        repo.expect_get().returning(move |wanted| {
            let n: u32 = wanted.as_str().parse().unwrap_or(0);
            let mut u: User = base.clone();
            u.id = wanted.clone();
            u.created_at += time::Duration::milliseconds(n.into());
            match n {
                n if n == active => u.state = UserState::Active,
                n if (1..=initial).contains(&n) => {}
                _ => return Ok(None),
            }
            Ok(Some(u))
        });
        repo.expect_events().returning(|_| Ok(vec![]));
        let saved = Arc::new(Mutex::new(Vec::new()));
        let log = saved.clone();
        repo.expect_save().returning(move |w| {
            log.lock().unwrap().push(w.user.id.clone());
            Ok(())
        });
        (repo, saved)
    }

    #[test]
    fn named_users_collapse_and_are_bounded() {
        assert_eq!(ResendTargets::ids(vec![id(2), id(1), id(2)]), Ok(ResendTargets::Ids(vec![id(2), id(1)])));
        assert_eq!(ResendTargets::ids(vec![]), Err(BulkResendError::NoUsers));
        let many: Vec<UserId> = (0..1001).map(id).collect();
        assert_eq!(ResendTargets::ids(many), Err(BulkResendError::TooManyIds(1001)));
        let dupes: Vec<UserId> = (0..2000).map(|n| id(n % 1000)).collect();
        assert!(ResendTargets::ids(dupes).is_ok(), "1000 once each");
    }

    #[tokio::test]
    async fn each_user_gets_its_own_outcome() {
        let (repo, saved) = repo(2, 3);
        let svc = service(repo, T0);
        let targets = ResendTargets::ids(vec![id(1), id(3), id(9), id(2)]).unwrap();
        let results = svc.resend_invitations(&acting(), &targets).await.unwrap();
        let outcomes: Vec<_> = results.iter().map(|r| (r.user_id.clone(), &r.outcome)).collect();
        assert!(matches!(outcomes[0], (ref u, BulkOutcome::Resent(_)) if *u == id(1)));
        assert_eq!(outcomes[1], (id(3), &BulkOutcome::NotPending));
        assert_eq!(outcomes[2], (id(9), &BulkOutcome::NotFound));
        assert!(matches!(outcomes[3], (ref u, BulkOutcome::Resent(_)) if *u == id(2)));
        assert_eq!(*saved.lock().unwrap(), [id(1), id(2)]);
    }

    #[tokio::test]
    async fn throttles_apply_per_user_as_for_one_resend() {
        let (repo, saved) = repo(2, 0);
        let svc = service(repo, T0).with_throttling(limiter_denying("resend:user:2"), ThrottleConfig::default());
        let targets = ResendTargets::ids(vec![id(1), id(2)]).unwrap();
        let results = svc.resend_invitations(&acting(), &targets).await.unwrap();
        assert!(matches!(results[0].outcome, BulkOutcome::Resent(_)));
        assert_eq!(
            results[1].outcome,
            BulkOutcome::Throttled(Throttled {
                reason: ThrottleReason::ResendCooldown,
                retry_after: Duration::from_secs(7)
            })
        );
        assert_eq!(results[1].retry_after(), Some(Duration::from_secs(7)));
        assert_eq!(*saved.lock().unwrap(), [id(1)]);
    }

    /// An index whose waiting invitations are users `1..=n`.
    fn index_of(n: u32) -> MockInvitationIndex {
        let mut index = MockInvitationIndex::new();
        index.expect_invitations().returning(move |_, source, _, after, count| {
            if source != crate::invitation::InvitationSource::Waiting {
                return Ok(vec![]);
            }
            Ok((1..=n)
                .rev()
                .map(|i| (Position { created_ms: ms(T0) + i64::from(i), key: format!("{i:08}") }, id(i)))
                .filter(|(p, _)| after.as_ref().is_none_or(|a| p < a))
                .take(count as usize)
                .collect())
        });
        let (_, _, log) = logged_user();
        index.expect_facts().returning(move |ids| Ok(ids.iter().map(|_| (log.clone(), Vec::new())).collect()));
        index
    }

    fn ms(t: time::OffsetDateTime) -> i64 {
        (t.unix_timestamp_nanos() / 1_000_000) as i64
    }

    #[tokio::test]
    async fn a_filter_resends_what_it_matches() {
        let (repo, saved) = repo_with_log(5);
        let svc = service(repo, T0).with_invitations(Arc::new(index_of(5)), crate::invitation::DEFAULT_RETENTION);
        let results = svc.resend_invitations(&acting(), &ResendTargets::Filter(Default::default())).await.unwrap();
        let ids: Vec<UserId> = results.iter().map(|r| r.user_id.clone()).collect();
        assert_eq!(ids, [id(5), id(4), id(3), id(2), id(1)]);
        assert!(results.iter().all(|r| matches!(r.outcome, BulkOutcome::Resent(_))));
        assert_eq!(saved.lock().unwrap().len(), 5);
    }

    #[tokio::test]
    async fn an_over_broad_filter_changes_nothing() {
        let (repo, saved) = repo_with_log(MAX_BULK_MATCHED as u32 + 1);
        let svc = service(repo, T0)
            .with_invitations(Arc::new(index_of(MAX_BULK_MATCHED as u32 + 1)), crate::invitation::DEFAULT_RETENTION);
        let refused = svc.resend_invitations(&acting(), &ResendTargets::Filter(Default::default())).await;
        assert_eq!(refused, Err(BulkResendError::TooManyMatched));
        assert!(saved.lock().unwrap().is_empty());
    }

    /// Initial users `1..=n` with the log of an invitation (Added, code), saves recorded.
    fn repo_with_log(n: u32) -> (MockUserRepository, Arc<Mutex<Vec<UserId>>>) {
        let (base, _, log) = logged_user();
        let mut repo = MockUserRepository::new();
        repo.expect_get().returning(move |wanted| {
            let k: u32 = wanted.as_str().parse().unwrap_or(0);
            if !(1..=n).contains(&k) {
                return Ok(None);
            }
            let mut u = base.clone();
            u.id = wanted.clone();
            Ok(Some(u))
        });
        repo.expect_events().returning(move |_| Ok(log.clone()));
        let saved = Arc::new(Mutex::new(Vec::new()));
        let s = saved.clone();
        repo.expect_save().returning(move |w| {
            s.lock().unwrap().push(w.user.id.clone());
            Ok(())
        });
        (repo, saved)
    }
}
