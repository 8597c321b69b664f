//! How an organization's invitations stand: exact totals from the indexes,
//! the waiting ones by their latest email's delivery state and the funnel's
//! counts exact from the store's counters, and the split by state and the
//! funnel's median times from a bounded sample of the newest invitations,
//! so a request never reads every user.

use std::time::Duration;

use time::OffsetDateTime;

use crate::authz::Acting;
use crate::invitation::{Invitation, InvitationFilter, InvitationSource, InvitationState};
use crate::notifications::DeliveryState;
use crate::ports::Milestone;

use super::{ListInvitationsError, MAX_INVITATION_PAGE, UserService};

/// The newest invitations the split and the funnel's medians are computed over.
pub const STATS_SAMPLE: usize = 5_000;

/// One step of the funnel: how many of the organization's invitations ever
/// got there (exact, the store's counters), and the median time from the
/// step before over the sample (none when no invitation of it made both).
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
    /// How many invitations (newest first) `by_state` and the funnel's
    /// medians are computed over.
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

/// The median of `spans` (the lower middle of an even count).
fn median(mut spans: Vec<Duration>) -> Option<Duration> {
    spans.sort();
    let n = spans.len();
    (n > 0).then(|| spans[(n - 1) / 2])
}

fn span(from: OffsetDateTime, to: OffsetDateTime) -> Duration {
    Duration::try_from(to - from).unwrap_or(Duration::ZERO)
}

/// What a sample shows: its split by state and latest delivery, and the
/// funnel's four steps (created, delivered, opened, completed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub by_state: Vec<(InvitationState, u64)>,
    pub by_delivery: Vec<(DeliveryState, u64)>,
    pub steps: [FunnelStep; 4],
}

/// The split and the funnel of `sample`.
pub fn summarize(sample: &[Invitation]) -> Summary {
    let by_state =
        InvitationState::ALL.iter().map(|s| (*s, sample.iter().filter(|i| i.state == *s).count() as u64)).collect();
    let mut by_delivery: Vec<(DeliveryState, u64)> = Vec::new();
    for d in sample.iter().filter_map(|i| i.delivery.as_ref()) {
        match by_delivery.iter_mut().find(|(s, _)| *s == d.state) {
            Some((_, n)) => *n += 1,
            None => by_delivery.push((d.state, 1)),
        }
    }
    by_delivery.sort_by_key(|(s, _)| s.as_str());
    let delivered: Vec<&Invitation> = sample.iter().filter(|i| i.delivered_at.is_some()).collect();
    // Opened counts every opened link; its time runs from the delivery when
    // known, else from the creation.
    let opened: Vec<&Invitation> = sample.iter().filter(|i| i.opened.is_some()).collect();
    let finished: Vec<&Invitation> = sample.iter().filter(|i| i.state == InvitationState::Completed).collect();
    let steps = [
        FunnelStep { count: sample.len() as u64, median_from_previous: None },
        FunnelStep {
            count: delivered.len() as u64,
            median_from_previous: median(
                delivered.iter().map(|i| span(i.created_at, i.delivered_at.unwrap())).collect(),
            ),
        },
        FunnelStep {
            count: opened.len() as u64,
            median_from_previous: median(
                opened.iter().map(|i| span(i.delivered_at.unwrap_or(i.created_at), i.opened.unwrap())).collect(),
            ),
        },
        FunnelStep {
            count: finished.len() as u64,
            median_from_previous: median(
                finished
                    .iter()
                    .filter_map(|i| Some(span(i.opened.or(i.delivered_at).unwrap_or(i.created_at), i.ended_at?)))
                    .collect(),
            ),
        },
    ];
    Summary { by_state, by_delivery, steps }
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
        let Summary { by_state, steps, .. } = summarize(&sample);
        // The counts are the store's, exact; the medians the sample's.
        let [created, delivered, opened, finished] =
            std::array::from_fn(|i| FunnelStep { count: funnel.get(Milestone::ALL[i]), ..steps[i].clone() });
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

    const T0: OffsetDateTime = datetime!(2026-01-01 12:00 UTC);

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
            delivered_at: at(minutes[0]),
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
        // The funnel's counts are the store's too; an empty sample has no medians.
        let steps = [&stats.created, &stats.delivered, &stats.opened, &stats.finished];
        assert_eq!(steps.map(|s| s.count), [1_200_000, 1_150_000, 400_000, 200_000]);
        assert!(steps.iter().all(|s| s.median_from_previous.is_none()));
        let down = over(1, Err(crate::ports::Unavailable("down".into())))
            .invitation_stats(&crate::usecases::test_support::acting())
            .await;
        assert!(matches!(down, Err(ListInvitationsError::Unavailable(_))), "{down:?}");
    }

    #[test]
    fn the_funnel_counts_each_step_and_its_median_time() {
        use DeliveryState::{Bounced, Delivered};
        use InvitationState::{Completed, Expired, Locked, Pending, Withdrawn};
        let sample = [
            invitation(Completed, [Some(1), Some(10), Some(20)], Some(Delivered)),
            invitation(Completed, [Some(3), Some(5), Some(65)], Some(Delivered)),
            invitation(Pending, [Some(2), Some(4), None], Some(Delivered)),
            invitation(Pending, [None, None, None], Some(Bounced)),
            invitation(Expired, [None, None, None], None),
        ];
        let Summary { by_state, by_delivery, steps } = summarize(&sample);
        assert_eq!(by_state, vec![(Pending, 2), (Expired, 1), (Locked, 0), (Completed, 2), (Withdrawn, 0)]);
        assert_eq!(by_delivery, vec![(Bounced, 1), (Delivered, 3)]);
        let min = |m: u64| Some(Duration::from_secs(60 * m));
        assert_eq!(steps[0], FunnelStep { count: 5, median_from_previous: None });
        assert_eq!(steps[1], FunnelStep { count: 3, median_from_previous: min(2) }, "1, 2, 3 minutes");
        assert_eq!(steps[2], FunnelStep { count: 3, median_from_previous: min(2) }, "9, 2, 2 minutes");
        assert_eq!(steps[3], FunnelStep { count: 2, median_from_previous: min(10) }, "10 and 60: the lower middle");
        let empty = summarize(&[]).steps;
        assert_eq!(empty[1], FunnelStep { count: 0, median_from_previous: None });
    }
}
