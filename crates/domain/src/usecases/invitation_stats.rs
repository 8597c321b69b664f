//! How an organization's invitations stand, all from the store's indexes
//! and counters, so a request never reads a user: exact totals, the waiting
//! ones split into pending, expired and locked and by their latest email's
//! delivery state, the funnel's counts and its median times (the medians to
//! their histograms' resolution).

use std::time::Duration;

use crate::authz::Acting;
use crate::invitation::{InvitationSource, InvitationState};
use crate::notifications::DeliveryState;
use crate::ports::{InvitationCounts, Milestone, WaitingSplit};

use super::{ListInvitationsError, UserService};

/// One step of the funnel: how many of the organization's invitations ever
/// got there (exact, the store's counters), and the median time from the
/// step before, exact for the organization to its histogram's resolution
/// (the middle of the bucket holding the middle observation, within 12%;
/// see [`duration_bucket`](crate::ports::duration_bucket)); none when no
/// invitation's step was timed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunnelStep {
    pub count: u64,
    pub median_from_previous: Option<Duration>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvitationStats {
    /// Users in state Initial (pending, expired and locked together), exact.
    pub waiting: u64,
    /// Completed and withdrawn within the retention period, exact up to the
    /// index's week granularity; `by_state` holds them too.
    pub completed: u64,
    pub withdrawn: u64,
    /// Every state's count, exact: the waiting split by the store's
    /// counters (see [`InvitationIndex::waiting_split`](crate::ports::InvitationIndex::waiting_split);
    /// an expiry counted when the expiry schedule tells it), pending the
    /// waiting ones neither expired nor locked.
    pub by_state: Vec<(InvitationState, u64)>,
    /// The waiting invitations by their latest email's state, exact (the
    /// store's counters, see [`InvitationIndex::delivery_counts`](crate::ports::InvitationIndex::delivery_counts));
    /// those without an email are left out.
    pub by_delivery: Vec<(DeliveryState, u64)>,
    pub created: FunnelStep,
    pub delivered: FunnelStep,
    pub opened: FunnelStep,
    pub finished: FunnelStep,
}

/// Every state's count from the totals `[waiting, completed, withdrawn]`
/// and the waiting ones' split; pending is the rest of the waiting ones
/// (none below zero, should the counts be read between two partitions'
/// writes).
pub fn count_by_state(totals: [u64; 3], split: WaitingSplit) -> Vec<(InvitationState, u64)> {
    let pending = totals[0].saturating_sub(split.expired + split.locked);
    InvitationState::ALL
        .iter()
        .map(|s| {
            let n = match s {
                InvitationState::Pending => pending,
                InvitationState::Expired => split.expired,
                InvitationState::Locked => split.locked,
                InvitationState::Completed => totals[1],
                InvitationState::Withdrawn => totals[2],
            };
            (*s, n)
        })
        .collect()
}

impl UserService {
    /// The acting organization's invitation statistics: totals counted in
    /// the indexes, the rest by the store's counters.
    #[tracing::instrument(skip_all, fields(org = %acting.org))]
    pub async fn invitation_stats(&self, acting: &Acting) -> Result<InvitationStats, ListInvitationsError> {
        let index = self.invitation_index()?;
        let now = self.clock.now();
        let window = (now - self.invitation_rules.retention, now);
        let mut totals = [0u64; 3];
        for (total, source) in totals.iter_mut().zip(InvitationSource::ALL) {
            *total = index.count(&acting.org, source, window).await?;
        }
        let InvitationCounts { deliveries: by_delivery, funnel, durations, split } =
            index.invitation_counts(&acting.org).await?;
        let by_state = count_by_state(totals, split);
        // The counts and the medians are the store's, exact for the whole
        // organization (the medians to their histogram's resolution).
        let [created, delivered, opened, finished] = Milestone::ALL.map(|m| FunnelStep {
            count: funnel.get(m),
            median_from_previous: durations.of(m).and_then(|h| h.median()),
        });
        Ok(InvitationStats {
            waiting: totals[0],
            completed: totals[1],
            withdrawn: totals[2],
            by_state,
            by_delivery,
            created,
            delivered,
            opened,
            finished,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::email::EmailAddress;
    use crate::ids::UserId;
    use time::macros::datetime;

    const T0: time::OffsetDateTime = datetime!(2026-01-01 12:00 UTC);

    /// A service whose index counts `waiting` users (7 of them expired, 3
    /// locked; 11 completed, 2 withdrawn) and answers `counts` as its
    /// delivery counts and counts of a larger funnel; it is never asked for
    /// a page of invitations or their facts.
    fn over(waiting: u64, counts: Result<Vec<(DeliveryState, u64)>, crate::ports::Unavailable>) -> UserService {
        use crate::ports::{MockInvitationIndex, MockUserRepository};
        let mut index = MockInvitationIndex::new();
        index.expect_count().returning(move |_, s, _| {
            Ok(match s {
                InvitationSource::Waiting => waiting,
                InvitationSource::Completed => 11,
                _ => 2,
            })
        });
        index.expect_invitations().never();
        index.expect_facts().never();
        index.expect_waiting_split().returning(|org| {
            assert_eq!(org, &crate::usecases::test_support::org());
            Ok(WaitingSplit { expired: 7, locked: 3 })
        });
        index.expect_delivery_counts().times(1).returning(move |org| {
            assert_eq!(org, &crate::usecases::test_support::org());
            counts.clone()
        });
        let funnel = crate::ports::FunnelCounts {
            created: 1_200_000,
            delivered: 1_150_000,
            opened: 400_000,
            completed: 200_000,
        };
        index.expect_funnel_counts().returning(move |_| Ok(funnel));
        // Opened → completed timed for 3: 59 s, 60 s and 1 h.
        let mut durations = crate::ports::FunnelDurations::default();
        for s in [59, 60, 3_600] {
            durations.of_mut(Milestone::Completed).unwrap().add(crate::ports::duration_bucket(s), 1);
        }
        index.expect_funnel_durations().returning(move |_| Ok(durations.clone()));
        crate::usecases::test_support::service(MockUserRepository::new(), T0)
            .with_invitations(std::sync::Arc::new(index), crate::invitation::DEFAULT_RETENTION)
    }

    #[tokio::test]
    async fn every_count_comes_from_the_stores_counters_none_from_a_sample() {
        let counts = vec![(DeliveryState::Bounced, 7_000), (DeliveryState::Delivered, 993_000)];
        let stats = over(1_000_000, Ok(counts.clone()))
            .invitation_stats(&crate::usecases::test_support::acting())
            .await
            .unwrap();
        assert_eq!((stats.waiting, stats.by_delivery), (1_000_000, counts));
        use InvitationState::{Completed, Expired, Locked, Pending, Withdrawn};
        assert_eq!(
            stats.by_state,
            vec![(Pending, 999_990), (Expired, 7), (Locked, 3), (Completed, 11), (Withdrawn, 2)]
        );
        // The funnel's counts and medians are the store's too.
        let steps = [&stats.created, &stats.delivered, &stats.opened, &stats.finished];
        assert_eq!(steps.map(|s| s.count), [1_200_000, 1_150_000, 400_000, 200_000]);
        let medians = steps.map(|s| s.median_from_previous);
        assert_eq!(medians[..3], [None, None, None], "untimed steps have none");
        let median = medians[3].unwrap().as_secs_f64();
        assert!((54.0..=62.0).contains(&median), "the middle of 59 s and 60 s's bucket: {median}");
        let down = over(1, Err(crate::ports::Unavailable("down".into())))
            .invitation_stats(&crate::usecases::test_support::acting())
            .await;
        assert!(matches!(down, Err(ListInvitationsError::Unavailable(_))), "{down:?}");
    }

    #[test]
    fn pending_is_the_rest_of_the_waiting_every_state_listed() {
        use InvitationState::{Completed, Expired, Locked, Pending, Withdrawn};
        let split = WaitingSplit { expired: 2, locked: 1 };
        assert_eq!(
            count_by_state([5, 4, 3], split),
            vec![(Pending, 2), (Expired, 2), (Locked, 1), (Completed, 4), (Withdrawn, 3)]
        );
        // Counts read between two partitions' writes: never below zero.
        assert_eq!(count_by_state([2, 0, 0], split)[0], (Pending, 0));
        assert!(count_by_state([0; 3], WaitingSplit::default()).iter().all(|(_, n)| *n == 0));
    }

    #[test]
    fn a_write_locks_expires_clears_or_keeps_the_mark() {
        use crate::ports::{MarkChange, WaitingMark};
        let (l, e) = (Some(WaitingMark::Locked), Some(WaitingMark::Expired));
        assert_eq!(MarkChange::Set(WaitingMark::Expired).apply(l), l, "locked takes precedence");
        assert_eq!(MarkChange::Set(WaitingMark::Expired).apply(None), e);
        assert_eq!(MarkChange::Set(WaitingMark::Locked).apply(e), l);
        assert_eq!((MarkChange::Clear.apply(l), MarkChange::Keep.apply(e)), (None, e));
    }

    #[test]
    fn a_median_is_the_middle_observations_bucket() {
        use crate::ports::{DurationHistogram, bucket_middle, duration_bucket};
        let of = |seconds: &[u64]| {
            let mut h = DurationHistogram::default();
            for s in seconds {
                h.add(duration_bucket(*s), 1);
            }
            h
        };
        assert_eq!(of(&[]).median(), None);
        // Odd: the middle one's bucket; its middle is within 12% of it.
        let odd = of(&[5, 600, 3_600, 86_400, 90_000]).median().unwrap();
        assert_eq!(odd, bucket_middle(duration_bucket(3_600)));
        assert!((odd.as_secs_f64() / 3_601.0 - 1.0).abs() < 0.12, "{odd:?}");
        // Even: the lower middle's (as the sample's medians were).
        assert_eq!(of(&[10, 100, 1_000, 10_000]).median(), Some(bucket_middle(duration_bucket(100))));
        assert_eq!(of(&[7, 7_000]).median(), Some(bucket_middle(duration_bucket(7))));
        // Many in one bucket: the counts decide, not the buckets.
        let mut h = of(&[1]);
        h.add(duration_bucket(1_000_000), 3);
        assert_eq!(h.median(), Some(bucket_middle(duration_bucket(1_000_000))));
    }

    #[test]
    fn buckets_are_a_quarter_doubling_wide_and_cover_every_duration() {
        use crate::ports::{bucket_middle, duration_bucket};
        // Four per doubling of seconds + 1: 0 s is bucket 0, 1 s (n = 2) bucket 4.
        assert_eq!([0, 1, 2, 3, 6, 7].map(duration_bucket), [0, 4, 6, 8, 11, 12]);
        assert_eq!(duration_bucket(86_399), 4 * 16 + 1, "a day: 86,400 = 2^16 · 1.318");
        let mut last = 0;
        for s in (0..2_000_000u64).step_by(997).chain([u32::MAX as u64]) {
            let b = duration_bucket(s);
            assert!(b >= last, "monotonic at {s}");
            last = b;
            let middle = bucket_middle(b).as_secs_f64() + 1.0;
            let n = s as f64 + 1.0;
            assert!(middle / n < 1.12 && n / middle < 1.12, "{s} s in bucket {b}, middle {middle}");
        }
    }

    #[test]
    fn a_backfill_replays_the_steps_as_the_writes_time_them() {
        use crate::events::{RecordedEvent, UserEvent};
        use crate::ports::{Milestone, duration_bucket, replay_steps};
        let at = |s: i64| T0 + time::Duration::seconds(s);
        let event = |s, event| RecordedEvent { sequence: 1, at: at(s), event, editor: None };
        let added = |s| event(s, UserEvent::InitCheckFailed);
        let delivered = |s| crate::Notification {
            id: crate::NotificationId::parse("n-1").unwrap(),
            user_id: UserId::generate(),
            recipient: EmailAddress::parse("u@example.com").unwrap(),
            state: DeliveryState::Delivered,
            created_at: T0,
            updated_at: at(s),
            attempts: 1,
            last_error: None,
            provider_message_id: None,
            kind: Default::default(),
        };
        let opened = |s| event(s, UserEvent::LinkOpened { generation: 1 });
        let done = |s| event(s, UserEvent::InitCheckSucceeded);
        let b = duration_bucket;
        let epoch = |s: i64| Some(at(s).unix_timestamp());
        // Delivered, opened, completed: each from the step before; nothing kept.
        let r = replay_steps(&[added(0), opened(630), done(4_230)], &[delivered(30)]);
        let steps = vec![(Milestone::Delivered, b(30)), (Milestone::Opened, b(600)), (Milestone::Completed, b(3_600))];
        assert_eq!((r.buckets, r.kept), (steps, [None, None]));
        // Opened before the delivery: from the creation, the opening kept.
        let r = replay_steps(&[added(0), opened(100), opened(150)], &[delivered(199), delivered(300)]);
        assert_eq!(
            (r.buckets, r.kept),
            (vec![(Milestone::Opened, b(100)), (Milestone::Delivered, b(199))], [None, epoch(100)])
        );
        // Delivered while waiting: kept for the opening; after the end: counted, not timed.
        assert_eq!(replay_steps(&[added(0)], &[delivered(45)]).kept, [epoch(45), None]);
        let r = replay_steps(&[added(0), done(70)], &[delivered(80)]);
        assert_eq!((r.buckets, r.kept), (vec![(Milestone::Completed, b(70))], [None, None]));
        assert_eq!(replay_steps(&[], &[delivered(1)]), Default::default());
    }
}
