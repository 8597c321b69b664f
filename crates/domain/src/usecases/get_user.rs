//! GetUserByID.

use crate::authz::Acting;
use crate::ids::{OrgId, UserId};
use crate::notifications::{DeliveryState, Notification};
use crate::ports::Unavailable;
use crate::user::User;

use super::UserService;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GetUserError {
    /// No such user in the acting organization (or deleted).
    #[error("user could not be found")]
    NotFound,
    #[error(transparent)]
    Unavailable(#[from] Unavailable),
}

impl UserService {
    /// The user, if it exists in `org` and is not deleted.
    pub(super) async fn visible_user(&self, org: &OrgId, id: &UserId) -> Result<Option<User>, Unavailable> {
        Ok(self.users.get(id).await?.filter(|u| u.visible_in(org)))
    }

    #[tracing::instrument(skip_all, fields(org = %acting.org, user_id = %id))]
    pub async fn get_user(&self, acting: &Acting, id: &UserId) -> Result<User, GetUserError> {
        self.visible_user(&acting.org, id).await?.ok_or(GetUserError::NotFound)
    }
}

impl UserService {
    /// The user's emails and what became of them, newest first.
    ///
    /// A user has at most one pending email: a newer one replaces it in the
    /// outbox before any dispatcher sees it. So an older email still queued
    /// was superseded; it is shown as such.
    #[tracing::instrument(skip_all, fields(org = %acting.org, user_id = %id))]
    pub async fn list_notifications(&self, acting: &Acting, id: &UserId) -> Result<Vec<Notification>, GetUserError> {
        self.visible_user(&acting.org, id).await?.ok_or(GetUserError::NotFound)?;
        let mut list = self.notifications.list(id).await?;
        for older in list.iter_mut().skip(1).filter(|n| n.state == DeliveryState::Queued) {
            older.state = DeliveryState::Superseded;
        }
        Ok(list)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::usecases::test_support::*;
    use crate::user::UserState;

    #[tokio::test]
    async fn finds_users_of_the_acting_organization_only() {
        let (user, _) = initial_user();
        let (repo, _) = repo_with(Some(user.clone()));
        let svc = service(repo, T0);
        assert_eq!(svc.get_user(&acting(), &UserId::parse("200").unwrap()).await.unwrap(), user);
        let elsewhere = crate::Acting { org: OrgId::parse("other").unwrap(), ..acting() };
        assert_eq!(svc.get_user(&elsewhere, &UserId::parse("200").unwrap()).await, Err(GetUserError::NotFound));
    }

    #[tokio::test]
    async fn notifications_are_listed_for_visible_users_only() {
        let (user, _) = initial_user();
        let (repo, _) = repo_with(Some(user));
        let mut log = crate::ports::MockNotificationLog::new();
        let queued = |id: &str| {
            let entry = crate::outbox::OutboxEntry {
                id: crate::NotificationId::parse(id).unwrap(),
                user_id: UserId::parse("200").unwrap(),
                recipient: crate::EmailAddress::parse("jane@example.com").unwrap(),
                code: crate::PlainCode::from_stored("X".into()),
                code_generation: 2,
                enqueued_at: T0,
                attempts: 0,
                not_before: T0,
                receipt: String::new(),
                kind: Default::default(),
            };
            Notification::queued(&entry)
        };
        let listed = vec![queued("new"), queued("old")];
        log.expect_list().times(1).returning(move |_| Ok(listed.clone()));
        let svc = UserService::new(
            std::sync::Arc::new(repo),
            std::sync::Arc::new(log),
            std::sync::Arc::new(crate::ports::MockAuthorizer::new()),
            clock_at(T0),
            codes(),
            crate::PasswordPolicy::default(),
        );
        let states: Vec<_> = svc
            .list_notifications(&acting(), &UserId::parse("200").unwrap())
            .await
            .unwrap()
            .into_iter()
            .map(|n| n.state)
            .collect();
        assert_eq!(states, [DeliveryState::Queued, DeliveryState::Superseded], "only the newest can still be pending");
        let elsewhere = crate::Acting { org: OrgId::parse("other").unwrap(), ..acting() };
        assert_eq!(
            svc.list_notifications(&elsewhere, &UserId::parse("200").unwrap()).await,
            Err(GetUserError::NotFound)
        );
    }

    #[tokio::test]
    async fn deleted_and_missing_users_are_not_found() {
        let (mut user, _) = initial_user();
        user.state = UserState::Deleted;
        let (repo, _) = repo_with(Some(user));
        assert_eq!(
            service(repo, T0).get_user(&acting(), &UserId::parse("200").unwrap()).await,
            Err(GetUserError::NotFound)
        );
        let (repo, _) = repo_with(None);
        assert_eq!(
            service(repo, T0).get_user(&acting(), &UserId::parse("200").unwrap()).await,
            Err(GetUserError::NotFound)
        );
    }
}
