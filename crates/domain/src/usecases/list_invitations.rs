//! The invitations of an organization: a page of them, newest first, found
//! through the store's [`InvitationIndex`](crate::ports::InvitationIndex).

use std::sync::Arc;

use crate::authz::Acting;
use crate::invitation::{BadPageToken, Invitation, InvitationFilter, InvitationPage, PageToken, Position};
use crate::ports::{InvitationIndex, Unavailable};

use super::UserService;

/// Page size when none is asked for, and the most a page holds.
pub const DEFAULT_INVITATION_PAGE: u32 = 100;
pub const MAX_INVITATION_PAGE: u32 = 1000;

/// How many index entries one call looks at, at most: a filter that few
/// invitations meet answers a shorter page (possibly empty) with a token to
/// go on from, rather than walking the whole organization in one request.
/// Sized so such a call stays within 10 ms on Redis (an entry whose log and
/// emails are read costs about 24 µs there; see docs/performance.md).
pub const EXAMINE_BUDGET: u32 = 300;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ListInvitationsError {
    #[error("the page size {0} is above the allowed {MAX_INVITATION_PAGE}")]
    PageTooLarge(u32),
    #[error(transparent)]
    BadPageToken(#[from] BadPageToken),
    #[error(transparent)]
    Unavailable(#[from] Unavailable),
}

impl UserService {
    pub(super) fn invitation_index(&self) -> Result<&Arc<dyn InvitationIndex>, Unavailable> {
        self.invitations.as_ref().ok_or_else(|| Unavailable("the store keeps no invitation index".into()))
    }

    /// One page of the acting organization's invitations that `filter`
    /// lets through, newest first (creation time, then id), from where
    /// `page_token` says. Reads the indexes of the filter's states in
    /// chunks, merged by position, and judges each invitation on its own
    /// (user first, then log and emails). Looks at no more than
    /// [`EXAMINE_BUDGET`] entries: the page may then be shorter than asked,
    /// with a token to the rest. Every invitation is looked at once per walk,
    /// so none is skipped or shown twice.
    #[tracing::instrument(skip_all, fields(org = %acting.org, page_size))]
    pub async fn list_invitations(
        &self,
        acting: &Acting,
        filter: &InvitationFilter,
        page_size: u32,
        page_token: Option<&str>,
    ) -> Result<InvitationPage, ListInvitationsError> {
        if page_size > MAX_INVITATION_PAGE {
            return Err(ListInvitationsError::PageTooLarge(page_size));
        }
        let size = if page_size == 0 { DEFAULT_INVITATION_PAGE } else { page_size } as usize;
        let mut cursor = page_token.filter(|t| !t.is_empty()).map(PageToken::decode).transpose()?.map(|t| t.0);
        // createdBefore is where a walk starts: before the millisecond after
        // it (the index keeps milliseconds; the filter itself judges within).
        if let Some(before) = filter.created_before() {
            let start = Position { created_ms: ms(before) + 1, key: String::new() };
            if cursor.as_ref().is_none_or(|c| *c > start) {
                cursor = Some(start);
            }
        }
        let index = self.invitation_index()?;
        let now = self.clock.now();
        let rules = self.invitation_rules;
        let window = (now - rules.retention, now);
        let sources = filter.sources();
        let mut found = Vec::with_capacity(size);
        let mut budget = EXAMINE_BUDGET as usize;
        // Chunks grow while a filter keeps finding little, so a rare match
        // costs few round trips.
        let mut chunk = size.clamp(50, 500);
        loop {
            let want = chunk.min(budget);
            chunk = (chunk * 2).min(1000);
            let mut entries = Vec::new();
            let mut exhausted = true;
            for source in &sources {
                let got = index.invitations(&acting.org, *source, window, cursor.clone(), want as u32).await?;
                exhausted &= got.len() < want;
                entries.extend(got.into_iter().map(|(p, id)| (p, id, *source)));
            }
            // Newest first across the indexes; only the first `want` are
            // sure to have no entry of another index between them.
            entries.sort_by(|a, b| b.0.cmp(&a.0));
            exhausted &= entries.len() <= want;
            entries.truncate(want);
            budget -= entries.len();
            let ids: Vec<_> = entries.iter().map(|(_, id, _)| id.clone()).collect();
            let users = self.users.get_many(&ids).await?;
            let candidates: Vec<usize> = (0..entries.len())
                .filter(|&i| {
                    users[i].as_ref().is_some_and(|u| u.org == acting.org && filter.may_match_user(u, now, &rules))
                })
                .collect();
            let wanted: Vec<_> = candidates.iter().map(|&i| ids[i].clone()).collect();
            let facts = index.facts(&wanted).await?;
            let mut views = vec![None; entries.len()];
            for (&i, (events, notifications)) in candidates.iter().zip(facts) {
                let user = users[i].as_ref().expect("candidates have their user");
                views[i] = Invitation::of(user, &events, &notifications, now, &rules)
                    // Shown from the index of its state only: a user that
                    // moved meanwhile is in two, and shows once.
                    .filter(|v| entries[i].2.holds(v.state) && filter.matches(v));
            }
            for (i, view) in views.into_iter().enumerate() {
                cursor = Some(entries[i].0.clone());
                if let Some(v) = view {
                    found.push(v);
                    if found.len() == size {
                        let last = exhausted && i + 1 == entries.len();
                        let next = (!last).then(|| PageToken(entries[i].0.clone()).encode());
                        return Ok(InvitationPage { invitations: found, next_page_token: next });
                    }
                }
            }
            if exhausted {
                return Ok(InvitationPage { invitations: found, next_page_token: None });
            }
            if budget == 0 {
                let next = cursor.map(|c| PageToken(c).encode());
                return Ok(InvitationPage { invitations: found, next_page_token: next });
            }
        }
    }
}

/// Unix milliseconds, as the indexes keep creation times.
pub(crate) fn ms(t: time::OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex};

    use time::Duration;

    use super::*;
    use crate::events::{RecordedEvent, UserEvent};
    use crate::ids::{NotificationId, OrgId, UserId};
    use crate::invitation::{InvitationSource, InvitationState};
    use crate::notifications::{DeliveryState, Notification};
    use crate::ports::{MockInvitationIndex, MockUserRepository};
    use crate::usecases::test_support::*;
    use crate::user::User;

    /// `n` invited users created a millisecond apart from `T0` (user `i`
    /// at `T0 + i ms`), every third one's email bounced.
    fn invited(n: usize) -> Vec<(User, Vec<RecordedEvent>, Vec<Notification>)> {
        (0..n)
            .map(|i| {
                let (mut user, _, mut log) = logged_user();
                user.id = UserId::parse(&(1000 + i).to_string()).unwrap();
                user.created_at = T0 + Duration::milliseconds(i as i64);
                for e in &mut log {
                    e.at = user.created_at;
                }
                let state = if i % 3 == 0 { DeliveryState::Bounced } else { DeliveryState::Delivered };
                let note = Notification {
                    id: NotificationId::generate(),
                    user_id: user.id.clone(),
                    recipient: user.email.address.clone(),
                    state,
                    created_at: T0,
                    updated_at: T0,
                    attempts: 1,
                    last_error: None,
                    provider_message_id: None,
                    kind: Default::default(),
                };
                (user, log, vec![note])
            })
            .collect()
    }

    /// A service over `users` whose Waiting index holds them all; the
    /// other indexes are empty. Counts the entries each index call asked for.
    fn over(users: Vec<(User, Vec<RecordedEvent>, Vec<Notification>)>) -> (UserService, Arc<Mutex<Vec<u32>>>) {
        let mut repo = MockUserRepository::new();
        let by_id: HashMap<UserId, _> =
            users.iter().map(|(u, l, n)| (u.id.clone(), (u.clone(), l.clone(), n.clone()))).collect();
        let by_id = Arc::new(by_id);
        let b = by_id.clone();
        repo.expect_get().returning(move |id| Ok(b.get(id).map(|x| x.0.clone())));
        let mut index = MockInvitationIndex::new();
        let mut entries: Vec<(Position, UserId)> = users
            .iter()
            .map(|(u, _, _)| (Position { created_ms: ms(u.created_at), key: u.id.to_string() }, u.id.clone()))
            .collect();
        entries.sort_by(|a, b| b.0.cmp(&a.0));
        // The exceptional deliveries' index: those whose latest email bounced.
        let exceptional: Vec<(Position, UserId)> = entries
            .iter()
            .filter(|(_, id)| by_id[id].2.first().is_some_and(|n| n.state.is_exceptional()))
            .cloned()
            .collect();
        let asked = Arc::new(Mutex::new(Vec::new()));
        let log = asked.clone();
        index.expect_invitations().returning(move |org, source, _, after, count| {
            assert_eq!(org, &crate::usecases::test_support::org());
            log.lock().unwrap().push(count);
            let set = match source {
                InvitationSource::Waiting => &entries,
                InvitationSource::DeliveryException => &exceptional,
                _ => return Ok(vec![]),
            };
            Ok(set.iter().filter(|(p, _)| after.as_ref().is_none_or(|a| p < a)).take(count as usize).cloned().collect())
        });
        index
            .expect_facts()
            .returning(move |ids| Ok(ids.iter().map(|id| (by_id[id].1.clone(), by_id[id].2.clone())).collect()));
        let svc = service(repo, T0 + Duration::hours(1))
            .with_invitations(Arc::new(index), crate::invitation::DEFAULT_RETENTION);
        (svc, asked)
    }

    fn ids(page: &InvitationPage) -> Vec<String> {
        page.invitations.iter().map(|i| i.user_id.to_string()).collect()
    }

    async fn walk(svc: &UserService, filter: &InvitationFilter, size: u32) -> (Vec<String>, usize) {
        let (mut all, mut pages, mut token) = (Vec::new(), 0, None::<String>);
        loop {
            let page = svc.list_invitations(&acting(), filter, size, token.as_deref()).await.unwrap();
            all.extend(ids(&page));
            pages += 1;
            match page.next_page_token {
                Some(t) => token = Some(t),
                None => return (all, pages),
            }
        }
    }

    #[tokio::test]
    async fn pages_run_newest_first_and_end_without_a_token() {
        let (svc, _) = over(invited(5));
        let page = svc.list_invitations(&acting(), &InvitationFilter::default(), 2, None).await.unwrap();
        assert_eq!(ids(&page), ["1004", "1003"]);
        let next =
            svc.list_invitations(&acting(), &Default::default(), 2, page.next_page_token.as_deref()).await.unwrap();
        assert_eq!(ids(&next), ["1002", "1001"]);
        let last =
            svc.list_invitations(&acting(), &Default::default(), 2, next.next_page_token.as_deref()).await.unwrap();
        assert_eq!((ids(&last), last.next_page_token), (vec!["1000".to_owned()], None));
        let all = svc.list_invitations(&acting(), &Default::default(), 5, None).await.unwrap();
        assert_eq!((all.invitations.len(), all.next_page_token), (5, None), "a full last page needs no token");
    }

    #[tokio::test]
    async fn filters_apply_and_the_walk_skips_and_repeats_nothing() {
        let users = invited(300);
        let expected: Vec<String> = (0..300).rev().filter(|i| i % 3 == 0).map(|i| (1000 + i).to_string()).collect();
        let (svc, _) = over(users);
        let bounced = InvitationFilter::new(None, Some(DeliveryState::Bounced), None, None, None).unwrap();
        for size in [1, 7, 100, 1000] {
            let (all, _) = walk(&svc, &bounced, size).await;
            assert_eq!(all, expected, "page size {size}");
        }
        let before = InvitationFilter::new(None, None, None, Some(T0 + Duration::milliseconds(3)), None).unwrap();
        assert_eq!(walk(&svc, &before, 10).await.0, ["1002", "1001", "1000"]);
        // Within a millisecond: the index's millisecond holds it, the filter decides.
        let within = T0 + Duration::microseconds(2_500);
        let before = InvitationFilter::new(None, None, None, Some(within), None).unwrap();
        assert_eq!(walk(&svc, &before, 10).await.0, ["1002", "1001", "1000"]);
        let expired = InvitationFilter::new(Some(InvitationState::Expired), None, None, None, None).unwrap();
        assert!(walk(&svc, &expired, 10).await.0.is_empty());
    }

    #[tokio::test]
    async fn a_rare_match_answers_short_pages_within_the_budget() {
        let mut users = invited(2 * EXAMINE_BUDGET as usize + 10);
        // One opened link, among the oldest.
        let (user, log, _) = &mut users[3];
        let generation = user.sequence;
        log.push(user.record(UserEvent::LinkOpened { generation }, T0));
        let (svc, asked) = over(users);
        let opened = InvitationFilter::new(None, None, None, None, Some(true)).unwrap();
        let first = svc.list_invitations(&acting(), &opened, 10, None).await.unwrap();
        assert!(first.invitations.is_empty() && first.next_page_token.is_some(), "{first:?}");
        let per_source: u32 = asked.lock().unwrap().iter().step_by(3).sum();
        assert!(per_source <= EXAMINE_BUDGET, "looked at {per_source}");
        let (all, pages) = walk(&svc, &opened, 10).await;
        assert_eq!((all, pages), (vec!["1003".to_owned()], 3));
    }

    #[tokio::test]
    async fn other_organizations_and_gone_users_never_show() {
        let mut users = invited(3);
        users[1].0.org = OrgId::parse("999").unwrap();
        let (svc, _) = over(users);
        assert_eq!(
            ids(&svc.list_invitations(&acting(), &Default::default(), 10, None).await.unwrap()),
            ["1002", "1000"]
        );
    }

    #[tokio::test]
    async fn bad_sizes_and_tokens_are_refused() {
        let (svc, _) = over(invited(1));
        let f = InvitationFilter::default();
        assert_eq!(
            svc.list_invitations(&acting(), &f, 1001, None).await,
            Err(ListInvitationsError::PageTooLarge(1001))
        );
        assert_eq!(
            svc.list_invitations(&acting(), &f, 10, Some("not-a-token")).await,
            Err(ListInvitationsError::BadPageToken(BadPageToken))
        );
        assert_eq!(svc.list_invitations(&acting(), &f, 0, Some("")).await.unwrap().invitations.len(), 1);
    }

    #[tokio::test]
    async fn without_an_index_the_store_is_unavailable() {
        let svc = service(MockUserRepository::new(), T0);
        let refused = svc.list_invitations(&acting(), &Default::default(), 10, None).await;
        assert!(matches!(refused, Err(ListInvitationsError::Unavailable(_))));
    }
}
