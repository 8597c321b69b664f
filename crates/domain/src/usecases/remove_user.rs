//! RemoveUser.

use crate::authz::Acting;
use crate::events::{ObjectDetails, UserEvent};
use crate::ids::UserId;
use crate::ports::{SaveError, Unavailable};
use crate::user::UserWrite;

use super::{MAX_WRITE_ATTEMPTS, UserService, stamped};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RemoveUserError {
    /// Not in the acting organization, already removed, or not there at all.
    #[error("user could not be found")]
    NotFound,
    #[error("the write kept colliding with concurrent writes")]
    Contention,
    #[error(transparent)]
    Unavailable(#[from] Unavailable),
}

impl UserService {
    /// Deletes the user, recording [`UserEvent::Removed`]: its init code
    /// stops working at once, an email still queued is not sent (its record
    /// says withdrawn), its user name is free again, and every later call
    /// finds no such user.
    #[tracing::instrument(skip_all, fields(org = %acting.org, user_id = %id))]
    pub async fn remove_user(&self, acting: &Acting, id: &UserId) -> Result<ObjectDetails, RemoveUserError> {
        let editor = acting.principal.editor();
        for _ in 0..MAX_WRITE_ATTEMPTS {
            // Deletion never reverts, so a cached copy that says "deleted" may be trusted.
            let user = self.users.get_for_write(id).await?.filter(|u| u.visible_in(&acting.org));
            let mut user = user.ok_or(RemoveUserError::NotFound)?;
            let expected_sequence = user.sequence;
            let removed = user.record(UserEvent::Removed, self.clock.now());
            let details = user.details();
            let write = UserWrite { expected_sequence, user, events: stamped(vec![removed], &editor), outbox: None };
            match self.users.save(write).await {
                Ok(()) => {
                    tracing::info!("user removed");
                    return Ok(details);
                }
                Err(SaveError::Conflict) => continue,
                Err(SaveError::Unavailable(u)) => return Err(RemoveUserError::Unavailable(u)),
                Err(SaveError::UserNameTaken) => {
                    return Err(RemoveUserError::Unavailable(Unavailable(
                        "store reported a name clash on removal".into(),
                    )));
                }
            }
        }
        Err(RemoveUserError::Contention)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::OrgId;
    use crate::ports::MockUserRepository;
    use crate::usecases::test_support::*;
    use crate::user::UserState;

    fn uid() -> UserId {
        UserId::parse("200").unwrap()
    }

    #[tokio::test]
    async fn removal_is_an_event_by_the_caller_that_kills_the_code() {
        let (user, _) = initial_user();
        let (repo, writes) = repo_with(Some(user));
        let later = T0 + time::Duration::minutes(3);
        let details = service(repo, later).remove_user(&acting(), &uid()).await.unwrap();
        let w = &writes.lock().unwrap()[0];
        assert_eq!(w.expected_sequence, 2);
        assert_eq!(w.events.len(), 1);
        let event = &w.events[0];
        assert_eq!((event.sequence, event.event.zitadel_type(), event.at), (3, "user.removed", later));
        assert_eq!(event.editor, Some(crate::events::Editor::new("admin", "Admin")));
        assert_eq!(w.user.state, UserState::Deleted);
        assert!(w.user.init_code.is_none());
        assert!(w.outbox.is_none());
        assert_eq!((details.sequence, details.change_date, details.resource_owner), (3, later, org()));
    }

    #[tokio::test]
    async fn unknown_other_org_and_removed_users_are_not_found() {
        let (repo, _) = repo_with(None);
        assert_eq!(service(repo, T0).remove_user(&acting(), &uid()).await, Err(RemoveUserError::NotFound));
        let (user, _) = initial_user();
        let (repo, writes) = repo_with(Some(user.clone()));
        let other = Acting { org: OrgId::parse("other").unwrap(), ..acting() };
        assert_eq!(service(repo, T0).remove_user(&other, &uid()).await, Err(RemoveUserError::NotFound));
        assert!(writes.lock().unwrap().is_empty());
        // Removing twice: the second finds nobody.
        let (repo, writes) = repo_with(Some(user));
        let svc = service(repo, T0);
        svc.remove_user(&acting(), &uid()).await.unwrap();
        assert_eq!(svc.remove_user(&acting(), &uid()).await, Err(RemoveUserError::NotFound));
        assert_eq!(writes.lock().unwrap().len(), 1);
    }

    #[tokio::test]
    async fn conflicts_are_retried_then_given_up() {
        let (user, _) = initial_user();
        let mut repo = MockUserRepository::new();
        repo.expect_get().returning(move |_| Ok(Some(user.clone())));
        repo.expect_save().times(MAX_WRITE_ATTEMPTS).returning(|_| Err(SaveError::Conflict));
        assert_eq!(service(repo, T0).remove_user(&acting(), &uid()).await, Err(RemoveUserError::Contention));
    }
}
