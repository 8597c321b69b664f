//! How an organization's invitations stand: exact totals from the indexes,
//! the waiting ones by their latest email's delivery state, the funnel's
//! counts and its median times exact from the store's counters (the medians
//! to their histograms' resolution), and the split by state from a bounded
//! sample of the newest invitations, so a request never reads every user.

use std::time::Duration;

use crate::authz::Acting;
use crate::invitation::{Invitation, InvitationFilter, InvitationSource, InvitationState};
use crate::notifications::DeliveryState;
use crate::ports::Milestone;

use super::{ListInvitationsError, MAX_INVITATION_PAGE, UserService};

/// The newest invitations the split by state is computed over.
pub const STATS_SAMPLE: usize = 5_000;

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
    /// index's week granularity (the use case's retention judges the sample).
    pub completed: u64,
    pub withdrawn: u64,
    /// How many invitations (newest first) `by_state` is computed over.
    pub sample_size: u64,
    /// Whether the organization has more invitations than the sample.
    pub sampled: bool,
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

/// How many of `sample` are in each state, every state listed.
pub fn count_by_state(sample: &[Invitation]) -> Vec<(InvitationState, u64)> {
    InvitationState::ALL.iter().map(|s| (*s, sample.iter().filter(|i| i.state == *s).count() as u64)).collect()
}

impl UserService {
    /// The acting organization's invitation statistics: totals counted in
    /// the indexes, the waiting ones' deliveries by the store's counters,
    /// the rest over the newest [`STATS_SAMPLE`] invitations.
    #[tracing::instrument(skip_all, fields(org = %acting.org))]
    pub async fn invitation_stats(&self, acting: &Acting) -> Result<InvitationStats, ListInvitationsError> {
        let index = self.invitation_index()?;
        let now = self.clock.now();
        let window = (now - self.invitation_rules.retention, now);
        let mut totals = [0u64; 3];
        for (total, source) in totals.iter_mut().zip(InvitationSource::ALL) {
            *total = index.count(&acting.org, source, window).await?;
        }
        let by_delivery = index.delivery_counts(&acting.org).await?;
        let funnel = index.funnel_counts(&acting.org).await?;
        let durations = index.funnel_durations(&acting.org).await?;
        let mut sample = Vec::new();
        let mut token = None::<String>;
        let all = InvitationFilter::default();
        let sampled = loop {
            let page = self.list_invitations(acting, &all, MAX_INVITATION_PAGE, token.as_deref()).await?;
            sample.extend(page.invitations);
            match page.next_page_token {
                Some(_) if sample.len() >= STATS_SAMPLE => break true,
                Some(t) => token = Some(t),
                None => break false,
            }
        };
        sample.truncate(STATS_SAMPLE);
        let by_state = count_by_state(&sample);
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
            sample_size: sample.len() as u64,
            sampled,
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
    use crate::ids::{OrgId, UserId};
    use crate::invitation::Delivery;
    use time::macros::datetime;

    const T0: time::OffsetDateTime = datetime!(2026-01-01 12:00 UTC);

    fn invitation(state: InvitationState, minutes: [Option<i64>; 3], delivery: Option<DeliveryState>) -> Invitation {
        let at = |m: Option<i64>| m.map(|m| T0 + time::Duration::minutes(m));
        Invitation {
            user_id: UserId::generate(),
            login_name: "u".into(),
            email: EmailAddress::parse("u@example.com").unwrap(),
            org_id: OrgId::parse("1").unwrap(),
            state,
            created_at: T0,
            code_expires_at: None,
            resends: 0,
            last_resent_at: None,
            delivery: delivery.map(|state| Delivery { state, at: T0, reason: None }),
            opened: at(minutes[1]),
            reminders_sent: 0,
            ended_at: at(minutes[2]),
        }
    }

    /// A service whose index holds `waiting` users in none of its pages (so
    /// the sample is empty) and answers `counts` as its delivery counts and
    /// counts of a larger funnel.
    fn over(waiting: u64, counts: Result<Vec<(DeliveryState, u64)>, crate::ports::Unavailable>) -> UserService {
        use crate::ports::{MockInvitationIndex, MockUserRepository};
        let mut index = MockInvitationIndex::new();
        index.expect_count().returning(move |_, s, _| Ok(if s == InvitationSource::Waiting { waiting } else { 0 }));
        index.expect_invitations().returning(|_, _, _, _, _| Ok(Vec::new()));
        index.expect_facts().returning(|_| Ok(Vec::new()));
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
    async fn deliveries_and_the_funnel_come_from_the_stores_counts_not_the_sample() {
        let counts = vec![(DeliveryState::Bounced, 7_000), (DeliveryState::Delivered, 993_000)];
        let stats = over(1_000_000, Ok(counts.clone()))
            .invitation_stats(&crate::usecases::test_support::acting())
            .await
            .unwrap();
        assert_eq!((stats.waiting, stats.sample_size, stats.by_delivery), (1_000_000, 0, counts));
        // The funnel's counts and medians are the store's too (the sample is empty).
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
    fn the_sample_is_split_by_state_every_state_listed() {
        use DeliveryState::{Bounced, Delivered};
        use InvitationState::{Completed, Expired, Locked, Pending, Withdrawn};
        let sample = [
            invitation(Completed, [Some(1), Some(10), Some(20)], Some(Delivered)),
            invitation(Completed, [Some(3), Some(5), Some(65)], Some(Delivered)),
            invitation(Pending, [Some(2), Some(4), None], Some(Delivered)),
            invitation(Pending, [None, None, None], Some(Bounced)),
            invitation(Expired, [None, None, None], None),
        ];
        assert_eq!(
            count_by_state(&sample),
            vec![(Pending, 2), (Expired, 1), (Locked, 0), (Completed, 2), (Withdrawn, 0)]
        );
        assert!(count_by_state(&[]).iter().all(|(_, n)| *n == 0));
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
