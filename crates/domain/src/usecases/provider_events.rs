//! The mail provider's events (delivered, bounced, …) applied to the
//! notification records. Providers deliver events at least once and in any
//! order; states only move forward, so a repeated or late event changes
//! nothing and needs no deduplication store.

use std::sync::Arc;

use time::OffsetDateTime;

use crate::ids::{NotificationId, UserId};
use crate::notifications::DeliveryState;
use crate::ports::{NotificationLog, Unavailable};

/// One event, as the provider adapter read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderEvent {
    /// The provider's event name (`delivered`, `bounce`, …).
    pub event: String,
    /// Our ids, echoed back from the message's custom arguments.
    pub notification_id: Option<String>,
    pub user_id: Option<String>,
    pub provider_message_id: Option<String>,
    pub at: OffsetDateTime,
    /// Why it bounced or was dropped.
    pub reason: Option<String>,
}

/// What [`ProviderEvents::apply`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AppliedEvents {
    pub changed: usize,
    /// Events we do not track, of emails we did not send, or that change nothing.
    pub ignored: usize,
}

#[derive(Clone)]
pub struct ProviderEvents {
    notifications: Arc<dyn NotificationLog>,
}

impl std::fmt::Debug for ProviderEvents {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderEvents").finish_non_exhaustive()
    }
}

impl ProviderEvents {
    pub fn new(notifications: Arc<dyn NotificationLog>) -> Self {
        Self { notifications }
    }

    #[tracing::instrument(skip_all, fields(events = events.len()))]
    pub async fn apply(&self, events: &[ProviderEvent]) -> Result<AppliedEvents, Unavailable> {
        let mut applied = AppliedEvents::default();
        for e in events {
            let ids = e
                .user_id
                .as_deref()
                .and_then(|u| UserId::parse(u).ok())
                .zip(e.notification_id.as_deref().and_then(|n| NotificationId::parse(n).ok()));
            let (Some(state), Some((user, id))) = (DeliveryState::from_provider_event(&e.event), ids) else {
                applied.ignored += 1;
                continue;
            };
            let Some(mut record) = self.notifications.find(&user, &id).await? else {
                applied.ignored += 1;
                continue;
            };
            if record.provider_message_id.is_none() {
                record.provider_message_id = e.provider_message_id.clone();
            }
            if record.advance(state, e.at, e.reason.clone()) {
                self.notifications.put(&record).await?;
                tracing::info!(notification = %id, state = state.as_str(), "delivery state changed");
                applied.changed += 1;
            } else {
                applied.ignored += 1;
            }
        }
        Ok(applied)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::EmailAddress;
    use crate::notifications::Notification;
    use crate::ports::MockNotificationLog;

    fn sent() -> Notification {
        Notification {
            id: NotificationId::parse("n1").unwrap(),
            user_id: UserId::parse("u1").unwrap(),
            recipient: EmailAddress::parse("a@example.com").unwrap(),
            state: DeliveryState::Sent,
            created_at: OffsetDateTime::UNIX_EPOCH,
            updated_at: OffsetDateTime::UNIX_EPOCH,
            attempts: 1,
            last_error: None,
            provider_message_id: Some("msg".into()),
            kind: Default::default(),
        }
    }

    fn event(kind: &str) -> ProviderEvent {
        ProviderEvent {
            event: kind.into(),
            notification_id: Some("n1".into()),
            user_id: Some("u1".into()),
            provider_message_id: Some("msg.filter0001".into()),
            at: OffsetDateTime::UNIX_EPOCH + time::Duration::seconds(10),
            reason: None,
        }
    }

    #[tokio::test]
    async fn events_move_records_forward_once() {
        let stored = Arc::new(Mutex::new(sent()));
        let mut log = MockNotificationLog::new();
        let read = stored.clone();
        log.expect_find().returning(move |_, _| Ok(Some(read.lock().unwrap().clone())));
        let write = stored.clone();
        log.expect_put().times(2).returning(move |n| {
            *write.lock().unwrap() = n.clone();
            Ok(())
        });
        let events = ProviderEvents::new(Arc::new(log));
        let batch = [event("delivered"), event("delivered"), event("open"), event("deferred"), event("spamreport")];
        let applied = events.apply(&batch).await.unwrap();
        assert_eq!(applied, AppliedEvents { changed: 2, ignored: 3 });
        assert_eq!(stored.lock().unwrap().state, DeliveryState::SpamReported);
    }

    #[tokio::test]
    async fn events_of_other_emails_are_ignored() {
        let mut log = MockNotificationLog::new();
        log.expect_find().returning(|_, _| Ok(None));
        let events = ProviderEvents::new(Arc::new(log));
        let foreign = ProviderEvent { notification_id: None, ..event("delivered") };
        let unknown = event("bounce");
        assert_eq!(events.apply(&[foreign, unknown]).await.unwrap(), AppliedEvents { changed: 0, ignored: 2 });
    }
}
