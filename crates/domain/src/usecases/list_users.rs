//! ListUsers, IsUserUnique and GetUserByLoginNameGlobal: reads that find
//! users through the store's [`UserIndex`](crate::ports::UserIndex) rather
//! than by id.

use std::sync::Arc;

use crate::authz::Acting;
use crate::ids::UserId;
use crate::ports::{Unavailable, UserIndex};
use crate::user::{User, UserState};
use crate::user_query::{MAX_QUERY_DEPTH, Page, TextField, TextMethod, UserPage, UserQuery, UserSearch, UserType};

use super::{GetUserError, UserService};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ListUsersError {
    /// The query tree nests deeper than [`MAX_QUERY_DEPTH`].
    #[error("the query nests deeper than {MAX_QUERY_DEPTH} levels")]
    TooDeep,
    #[error(transparent)]
    Unavailable(#[from] Unavailable),
}

/// How many users a listing reads from the store at a time when no index
/// answers its query.
const SCAN_CHUNK: u32 = 1000;

/// What the indexes answer on their own, page included.
enum Indexed {
    All,
    State(UserState),
}

/// The listing the indexes answer directly: no condition, or one state
/// (conditions every user meets, such as being human, aside).
fn indexed(queries: &[UserQuery]) -> Option<Indexed> {
    let mut found = Indexed::All;
    for q in queries {
        match q {
            UserQuery::Type(UserType::Human) => {}
            UserQuery::State(s) if matches!(found, Indexed::All) => found = Indexed::State(*s),
            _ => return None,
        }
    }
    Some(found)
}

/// Where the users a condition can hold for are: the fewest candidates any
/// top-level condition names, if one names them.
enum Candidates {
    Ids(Vec<UserId>),
    UserName(String),
    Emails(Vec<String>),
}

fn candidates(queries: &[UserQuery]) -> Option<Candidates> {
    let mut best = None;
    for q in queries {
        let found = match q {
            UserQuery::InUserIds(ids) => Candidates::Ids(ids.clone()),
            UserQuery::Text {
                field: TextField::UserName | TextField::LoginName,
                method: TextMethod::Equals | TextMethod::EqualsIgnoreCase,
                value,
            } => Candidates::UserName(value.to_lowercase()),
            UserQuery::Text {
                field: TextField::Email,
                method: TextMethod::Equals | TextMethod::EqualsIgnoreCase,
                value,
            } => Candidates::Emails(vec![value.to_lowercase()]),
            UserQuery::InUserEmails(emails) => Candidates::Emails(emails.iter().map(|e| e.to_lowercase()).collect()),
            _ => continue,
        };
        // A set of ids is the narrowest; a user name names at most one user
        // per organization.
        let better = match (&best, &found) {
            (None, _) => true,
            (Some(Candidates::Ids(_)), _) => false,
            (_, Candidates::Ids(_)) => true,
            (Some(Candidates::Emails(_)), Candidates::UserName(_)) => true,
            _ => false,
        };
        if better {
            best = Some(found);
        }
    }
    best
}

impl UserService {
    /// The user index, which every store provides and the server wires.
    fn index(&self) -> Result<&Arc<dyn UserIndex>, Unavailable> {
        self.index.as_ref().ok_or_else(|| Unavailable("the store keeps no user index".into()))
    }

    /// The users of `ids` that are visible in the acting organization, in order.
    async fn visible_users(&self, acting: &Acting, ids: &[UserId]) -> Result<Vec<User>, Unavailable> {
        let users = self.users.get_many(ids).await?;
        Ok(users.into_iter().flatten().filter(|u| u.visible_in(&acting.org)).collect())
    }

    /// The users of the acting organization that `search` finds: one page
    /// of them, sorted as asked, and how many there are in all.
    ///
    /// No condition, or a state, in creation order: a page of the index, as
    /// fast at the millionth user as at the first. A condition naming ids,
    /// a user name or an address (equal, with or without case): those users
    /// only. Anything else (text that contains, starts or ends with, or a
    /// sort by a text column) reads the organization's users a chunk at a
    /// time, so its cost grows with the organization.
    #[tracing::instrument(skip_all, fields(org = %acting.org, queries = search.queries.len()))]
    pub async fn list_users(&self, acting: &Acting, search: &UserSearch) -> Result<UserPage, ListUsersError> {
        if search.queries.iter().any(|q| q.depth() > MAX_QUERY_DEPTH) {
            return Err(ListUsersError::TooDeep);
        }
        let index = self.index()?;
        let org = &acting.org;
        if search.sort.is_creation_order() {
            if let Some(how) = indexed(&search.queries) {
                let found = match how {
                    Indexed::All => index.in_org(org, &search.page).await?,
                    Indexed::State(state) => index.by_state(org, state, &search.page).await?,
                };
                let users = self.visible_users(acting, &found.ids).await?;
                return Ok(UserPage { total: found.total, users, viewed_at: self.clock.now() });
            }
        }
        let mut matching = match candidates(&search.queries) {
            Some(Candidates::Ids(ids)) => self.visible_users(acting, &ids).await?,
            Some(Candidates::UserName(name)) => {
                let ids = index.by_user_name(Some(org.clone()), &name).await?;
                self.visible_users(acting, &ids).await?
            }
            Some(Candidates::Emails(emails)) => {
                let mut ids = Vec::new();
                for email in emails {
                    ids.extend(index.by_email(org, &email).await?);
                }
                self.visible_users(acting, &ids).await?
            }
            None => {
                let mut all = Vec::new();
                let mut cursor = None;
                loop {
                    let (ids, next) = index.scan_org(org, cursor, SCAN_CHUNK).await?;
                    all.extend(self.visible_users(acting, &ids).await?);
                    match next {
                        Some(next) => cursor = Some(next),
                        None => break,
                    }
                }
                all
            }
        };
        matching.retain(|u| search.queries.iter().all(|q| q.matches(u)));
        matching.sort_by(|a, b| search.sort.compare(a, b));
        matching.dedup_by(|a, b| a.id == b.id);
        Ok(UserPage { total: matching.len() as u64, users: search.page.slice(&matching), viewed_at: self.clock.now() })
    }

    /// IsUserUnique: whether no user of the acting organization has the user
    /// name `user_name` (compared without regard to case, as names are kept
    /// unique) and the address `email` (likewise); an empty one is no
    /// condition. Scoped to the organization, as ZITADEL scopes it when user
    /// names are unique per organization (its `userLoginMustBeDomain`),
    /// which is how onboard keeps them.
    #[tracing::instrument(skip_all, fields(org = %acting.org))]
    pub async fn is_user_unique(&self, acting: &Acting, user_name: &str, email: &str) -> Result<bool, Unavailable> {
        let index = self.index()?;
        let (name, email) = (user_name.trim().to_lowercase(), email.trim().to_lowercase());
        let ids = if !name.is_empty() {
            index.by_user_name(Some(acting.org.clone()), &name).await?
        } else if !email.is_empty() {
            index.by_email(&acting.org, &email).await?
        } else {
            let first = Page { offset: 0, limit: 1, asc: true };
            index.in_org(&acting.org, &first).await?.ids
        };
        let users = self.visible_users(acting, &ids).await?;
        let taken = users.iter().any(|u| {
            (name.is_empty() || u.user_name.unique_key() == name)
                && (email.is_empty() || u.email.address.as_str().to_lowercase() == email)
        });
        Ok(!taken)
    }

    /// GetUserByLoginNameGlobal: the user whose login name (onboard's is the
    /// user name) is `login_name`, in whichever organization. User names are
    /// unique per organization only; a name several organizations use names
    /// no single user and is not found.
    #[tracing::instrument(skip_all, fields(org = %acting.org))]
    pub async fn get_user_by_login_name_global(&self, acting: &Acting, login_name: &str) -> Result<User, GetUserError> {
        let index = self.index()?;
        let name = login_name.trim().to_lowercase();
        if name.is_empty() {
            return Err(GetUserError::NotFound);
        }
        let ids = index.by_user_name(None, &name).await?;
        let mut found: Vec<User> = self
            .users
            .get_many(&ids)
            .await?
            .into_iter()
            .flatten()
            .filter(|u| u.state != UserState::Deleted && u.user_name.unique_key() == name)
            .collect();
        match found.len() {
            1 => Ok(found.remove(0)),
            _ => Err(GetUserError::NotFound),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::email::EmailAddress;
    use crate::events::UserEvent;
    use crate::ids::OrgId;
    use crate::ports::{IdPage, MockUserIndex, MockUserRepository};
    use crate::usecases::test_support::*;
    use crate::user::{Email, Profile, UserName};
    use crate::user_query::{PageLimits, UserSort};

    fn user(id: &str, name: &str, email: &str, state: UserState, org: &OrgId) -> User {
        let (mut u, _) = User::create(
            UserId::parse(id).unwrap(),
            org.clone(),
            UserEvent::Added {
                user_name: UserName::parse(name).unwrap(),
                profile: Profile { first_name: name.into(), last_name: "Doe".into(), ..Profile::default() },
                email: Email { address: EmailAddress::parse(email).unwrap(), verified: false },
                phone: None,
                state,
                password_hash: None,
                password_change_required: false,
            },
            T0,
        );
        u.state = state;
        u
    }

    /// A repository answering `users` by id, and a service over it and `index`.
    fn service_over(users: Vec<User>, index: MockUserIndex) -> UserService {
        let mut repo = MockUserRepository::new();
        let by_id: std::collections::HashMap<UserId, User> = users.into_iter().map(|u| (u.id.clone(), u)).collect();
        repo.expect_get().returning(move |id| Ok(by_id.get(id).cloned()));
        service(repo, T0).with_index(Arc::new(index))
    }

    fn search(queries: Vec<UserQuery>, sort: UserSort, offset: u64, limit: u32, asc: bool) -> UserSearch {
        UserSearch { queries, sort, page: Page::new(offset, limit, asc, PageLimits::V1).unwrap() }
    }

    fn names(page: &UserPage) -> Vec<&str> {
        page.users.iter().map(|u| u.user_name.as_str()).collect()
    }

    #[tokio::test]
    async fn a_state_in_creation_order_is_one_page_of_the_index() {
        let org = org();
        let users = vec![
            user("1", "ann", "a@x.io", UserState::Initial, &org),
            user("2", "bob", "b@x.io", UserState::Initial, &org),
        ];
        let mut index = MockUserIndex::new();
        index
            .expect_by_state()
            .withf(|_, state, page| *state == UserState::Initial && page.offset == 5 && page.limit == 2 && !page.asc)
            .times(1)
            .returning(|_, _, _| {
                Ok(IdPage { total: 7, ids: vec![UserId::parse("2").unwrap(), UserId::parse("1").unwrap()] })
            });
        index.expect_in_org().never();
        let svc = service_over(users, index);
        let queries = vec![UserQuery::State(UserState::Initial), UserQuery::Type(UserType::Human)];
        let page = svc.list_users(&acting(), &search(queries, UserSort::CreationDate, 5, 2, false)).await.unwrap();
        assert_eq!((page.total, names(&page)), (7, vec!["bob", "ann"]));
    }

    #[tokio::test]
    async fn other_queries_filter_sort_and_page_in_the_service() {
        let org = org();
        let users = vec![
            user("1", "carol", "c@x.io", UserState::Initial, &org),
            user("2", "alice", "a@x.io", UserState::Active, &org),
            user("3", "anna", "n@x.io", UserState::Initial, &org),
            user("4", "andy", "d@x.io", UserState::Initial, &org),
        ];
        let ids: Vec<UserId> = users.iter().map(|u| u.id.clone()).collect();
        let mut index = MockUserIndex::new();
        // Two chunks, as a store hands them out.
        index.expect_scan_org().returning(move |_, cursor, _| {
            Ok(match cursor.as_deref() {
                None => (ids[..3].to_vec(), Some("3".into())),
                _ => (ids[3..].to_vec(), None),
            })
        });
        let svc = service_over(users, index);
        let starts = UserQuery::Text { field: TextField::UserName, method: TextMethod::StartsWith, value: "a".into() };
        let queries = vec![starts, UserQuery::Not(Box::new(UserQuery::State(UserState::Active)))];
        let page = svc.list_users(&acting(), &search(queries.clone(), UserSort::UserName, 0, 0, true)).await.unwrap();
        assert_eq!((page.total, names(&page)), (2, vec!["andy", "anna"]));
        let page = svc.list_users(&acting(), &search(queries, UserSort::UserName, 1, 1, false)).await.unwrap();
        assert_eq!((page.total, names(&page)), (2, vec!["andy"]));
    }

    #[tokio::test]
    async fn equal_names_and_addresses_read_only_their_users() {
        let org = org();
        let users = vec![user("1", "Jane", "jane@x.io", UserState::Initial, &org)];
        let mut index = MockUserIndex::new();
        index.expect_in_org().never();
        index
            .expect_by_user_name()
            .withf(|org, name| org.is_some() && name == "jane")
            .returning(|_, _| Ok(vec![UserId::parse("1").unwrap()]));
        index.expect_by_email().withf(|_, a| a == "jane@x.io").returning(|_, _| Ok(vec![UserId::parse("1").unwrap()]));
        let svc = service_over(users, index);
        let text = |field, method, value: &str| UserQuery::Text { field, method, value: value.into() };
        let exact = text(TextField::UserName, TextMethod::Equals, "jane");
        let page = svc.list_users(&acting(), &search(vec![exact], UserSort::Unspecified, 0, 0, true)).await.unwrap();
        assert_eq!(page.total, 0, "equals keeps case");
        let loose = text(TextField::LoginName, TextMethod::EqualsIgnoreCase, "JANE");
        let page = svc.list_users(&acting(), &search(vec![loose], UserSort::Unspecified, 0, 0, true)).await.unwrap();
        assert_eq!(names(&page), ["Jane"]);
        let mail = UserQuery::InUserEmails(vec!["JANE@x.io".into()]);
        let page = svc.list_users(&acting(), &search(vec![mail], UserSort::Unspecified, 0, 0, true)).await.unwrap();
        assert_eq!(names(&page), ["Jane"]);
    }

    #[tokio::test]
    async fn users_of_other_organizations_never_show() {
        let elsewhere = OrgId::parse("999").unwrap();
        let users = vec![user("1", "eve", "e@x.io", UserState::Initial, &elsewhere)];
        let mut index = MockUserIndex::new();
        index.expect_by_state().returning(|_, _, _| Ok(IdPage { total: 0, ids: vec![] }));
        let svc = service_over(users, index);
        let ids = UserQuery::InUserIds(vec![UserId::parse("1").unwrap()]);
        let page = svc.list_users(&acting(), &search(vec![ids], UserSort::Unspecified, 0, 0, true)).await.unwrap();
        assert!(page.users.is_empty() && page.total == 0);
    }

    #[tokio::test]
    async fn trees_deeper_than_zitadel_allows_are_refused() {
        let mut q = UserQuery::State(UserState::Initial);
        for _ in 0..=MAX_QUERY_DEPTH {
            q = UserQuery::Not(Box::new(q));
        }
        let svc = service_over(vec![], MockUserIndex::new());
        let refused = svc.list_users(&acting(), &search(vec![q], UserSort::Unspecified, 0, 0, true)).await;
        assert_eq!(refused, Err(ListUsersError::TooDeep));
    }

    #[tokio::test]
    async fn uniqueness_needs_both_given_parts_on_one_user() {
        let org = org();
        let users = vec![user("1", "Jane", "jane@x.io", UserState::Initial, &org)];
        let mut index = MockUserIndex::new();
        index
            .expect_by_user_name()
            .returning(|_, name| Ok(if name == "jane" { vec![UserId::parse("1").unwrap()] } else { vec![] }));
        index
            .expect_by_email()
            .returning(|_, a| Ok(if a == "jane@x.io" { vec![UserId::parse("1").unwrap()] } else { vec![] }));
        index.expect_in_org().returning(|_, _| Ok(IdPage { total: 1, ids: vec![UserId::parse("1").unwrap()] }));
        let svc = service_over(users, index);
        let unique = |n: &'static str, e: &'static str| {
            let svc = svc.clone();
            async move { svc.is_user_unique(&acting(), n, e).await.unwrap() }
        };
        assert!(!unique("JANE", "").await);
        assert!(!unique("", "Jane@X.io").await);
        assert!(!unique("jane", "jane@x.io").await);
        assert!(unique("jane", "other@x.io").await);
        assert!(unique("john", "").await);
        assert!(!unique("", "").await, "no condition: taken once the organization has a user");
    }

    #[tokio::test]
    async fn a_login_name_finds_its_one_user_in_any_organization() {
        let (a, b) = (OrgId::parse("1").unwrap(), OrgId::parse("2").unwrap());
        let users = vec![
            user("1", "jane", "j@x.io", UserState::Initial, &a),
            user("2", "twin", "t@x.io", UserState::Initial, &a),
            user("3", "twin", "t@x.io", UserState::Active, &b),
        ];
        let mut index = MockUserIndex::new();
        index.expect_by_user_name().withf(|org, _| org.is_none()).returning(|_, name| {
            Ok(match name {
                "jane" => vec![UserId::parse("1").unwrap()],
                "twin" => vec![UserId::parse("2").unwrap(), UserId::parse("3").unwrap()],
                _ => vec![],
            })
        });
        let svc = service_over(users, index);
        let found = svc.get_user_by_login_name_global(&acting(), " Jane ").await.unwrap();
        assert_eq!(found.id.as_str(), "1");
        assert_eq!(svc.get_user_by_login_name_global(&acting(), "twin").await, Err(GetUserError::NotFound));
        assert_eq!(svc.get_user_by_login_name_global(&acting(), "nobody").await, Err(GetUserError::NotFound));
        assert_eq!(svc.get_user_by_login_name_global(&acting(), "").await, Err(GetUserError::NotFound));
    }
}
