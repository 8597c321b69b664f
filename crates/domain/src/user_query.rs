//! What a user listing asks for: a typed query tree (ZITADEL's
//! `zitadel.user.v1.SearchQuery`), a sorting column and a page. The query
//! matches users on their own ([`UserQuery::matches`]); the use case asks a
//! store's [`UserIndex`](crate::ports::UserIndex) for the candidates first,
//! so a listing never reads every user of the store.

use crate::ids::UserId;
use crate::user::{User, UserState};

/// How a text query compares (`zitadel.v1.TextQueryMethod`, with its wire
/// numbers).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TextMethod {
    Equals = 0,
    EqualsIgnoreCase = 1,
    StartsWith = 2,
    StartsWithIgnoreCase = 3,
    Contains = 4,
    ContainsIgnoreCase = 5,
    EndsWith = 6,
    EndsWithIgnoreCase = 7,
}

impl TextMethod {
    pub fn from_number(n: i32) -> Option<Self> {
        Some(match n {
            0 => Self::Equals,
            1 => Self::EqualsIgnoreCase,
            2 => Self::StartsWith,
            3 => Self::StartsWithIgnoreCase,
            4 => Self::Contains,
            5 => Self::ContainsIgnoreCase,
            6 => Self::EndsWith,
            7 => Self::EndsWithIgnoreCase,
            _ => return None,
        })
    }

    pub fn ignores_case(self) -> bool {
        matches!(
            self,
            Self::EqualsIgnoreCase | Self::StartsWithIgnoreCase | Self::ContainsIgnoreCase | Self::EndsWithIgnoreCase
        )
    }

    /// Whether `value` matches `pattern` by this method.
    pub fn matches(self, value: &str, pattern: &str) -> bool {
        let (value, pattern) = if self.ignores_case() {
            (value.to_lowercase(), pattern.to_lowercase())
        } else {
            (value.to_owned(), pattern.to_owned())
        };
        match self {
            Self::Equals | Self::EqualsIgnoreCase => value == pattern,
            Self::StartsWith | Self::StartsWithIgnoreCase => value.starts_with(&pattern),
            Self::Contains | Self::ContainsIgnoreCase => value.contains(&pattern),
            Self::EndsWith | Self::EndsWithIgnoreCase => value.ends_with(&pattern),
        }
    }
}

/// The text columns a query can compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TextField {
    UserName,
    FirstName,
    LastName,
    NickName,
    DisplayName,
    Email,
    /// Any of the user's login names (onboard's one is the user name).
    LoginName,
}

impl TextField {
    fn value(self, user: &User) -> &str {
        match self {
            Self::UserName | Self::LoginName => user.user_name.as_str(),
            Self::FirstName => &user.profile.first_name,
            Self::LastName => &user.profile.last_name,
            Self::NickName => &user.profile.nick_name,
            Self::DisplayName => &user.profile.display_name,
            Self::Email => user.email.address.as_str(),
        }
    }
}

/// `zitadel.user.v1.Type`. onboard keeps human users only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UserType {
    Unspecified = 0,
    Human = 1,
    Machine = 2,
}

/// The deepest a query tree may nest, as ZITADEL allows (20 levels below the top).
pub const MAX_QUERY_DEPTH: usize = 20;

/// One condition on a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserQuery {
    Text {
        field: TextField,
        method: TextMethod,
        value: String,
    },
    State(UserState),
    Type(UserType),
    /// The user's id is one of these.
    InUserIds(Vec<UserId>),
    /// The user's email is one of these (compared without regard to case).
    InUserEmails(Vec<String>),
    Or(Vec<UserQuery>),
    And(Vec<UserQuery>),
    Not(Box<UserQuery>),
}

impl UserQuery {
    pub fn matches(&self, user: &User) -> bool {
        match self {
            Self::Text { field, method, value } => method.matches(field.value(user), value),
            Self::State(state) => user.state == *state,
            // ZITADEL's users are human or machine; onboard's are human.
            Self::Type(t) => *t == UserType::Human,
            Self::InUserIds(ids) => ids.contains(&user.id),
            Self::InUserEmails(emails) => {
                let own = user.email.address.as_str().to_lowercase();
                emails.iter().any(|e| e.to_lowercase() == own)
            }
            // As ZITADEL's SQL has them: an empty `or` holds for nobody, an
            // empty `and` for everybody.
            Self::Or(qs) => qs.iter().any(|q| q.matches(user)),
            Self::And(qs) => qs.iter().all(|q| q.matches(user)),
            Self::Not(q) => !q.matches(user),
        }
    }

    /// How deep the tree nests: 0 for a leaf.
    pub fn depth(&self) -> usize {
        match self {
            Self::Or(qs) | Self::And(qs) => qs.iter().map(|q| q.depth() + 1).max().unwrap_or(1),
            Self::Not(q) => q.depth() + 1,
            _ => 0,
        }
    }
}

/// The column a listing is sorted by (`zitadel.user.v1.UserFieldName`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum UserSort {
    /// No column asked for: creation order (ids are made in time order, so
    /// this is also ZITADEL's order by id).
    #[default]
    Unspecified,
    UserName,
    FirstName,
    LastName,
    NickName,
    DisplayName,
    Email,
    State,
    Type,
    CreationDate,
}

impl UserSort {
    /// Whether users come in creation order, the order the store's indexes keep.
    pub fn is_creation_order(self) -> bool {
        // All users are human, so sorting by type leaves them as created.
        matches!(self, Self::Unspecified | Self::CreationDate | Self::Type)
    }

    /// Orders `a` and `b` by the column, then by creation (then id), so pages
    /// never overlap.
    pub fn compare(self, a: &User, b: &User) -> std::cmp::Ordering {
        let text = |f: TextField| f.value(a).to_lowercase().cmp(&f.value(b).to_lowercase());
        let by_column = match self {
            Self::Unspecified | Self::CreationDate | Self::Type => std::cmp::Ordering::Equal,
            Self::UserName => text(TextField::UserName),
            Self::FirstName => text(TextField::FirstName),
            Self::LastName => text(TextField::LastName),
            Self::NickName => text(TextField::NickName),
            Self::DisplayName => text(TextField::DisplayName),
            Self::Email => text(TextField::Email),
            Self::State => (a.state as i32).cmp(&(b.state as i32)),
        };
        by_column.then_with(|| creation_order(a, b))
    }
}

/// Creation time, then id: the order of the stores' indexes.
pub fn creation_order(a: &User, b: &User) -> std::cmp::Ordering {
    a.created_at.cmp(&b.created_at).then_with(|| a.id.cmp(&b.id))
}

/// A page size beyond the maximum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the limit {given} is above the allowed {allowed}")]
pub struct LimitExceeded {
    pub given: u64,
    pub allowed: u64,
}

/// Default and maximum page size of a listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageLimits {
    pub default: u32,
    pub max: u32,
}

impl PageLimits {
    /// ZITADEL's v1 APIs: a request without a limit gets the maximum
    /// (`MaxQueryLimit`, 1000 by default), and more is refused.
    pub const V1: Self = Self { default: 1000, max: 1000 };
    /// ZITADEL's v2 APIs: `DefaultQueryLimit` 100, `MaxQueryLimit` 1000.
    pub const V2: Self = Self { default: 100, max: 1000 };
}

/// Which slice of the sorted result to answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub offset: u64,
    pub limit: u32,
    pub asc: bool,
}

impl Page {
    /// A page as asked for: `limit` 0 takes the default.
    pub fn new(offset: u64, limit: u32, asc: bool, limits: PageLimits) -> Result<Self, LimitExceeded> {
        if limit > limits.max {
            return Err(LimitExceeded { given: u64::from(limit), allowed: u64::from(limits.max) });
        }
        let limit = if limit == 0 { limits.default } else { limit };
        Ok(Self { offset, limit, asc })
    }

    /// The part of `items` (sorted ascending) this page shows, in its order.
    pub fn slice<T: Clone>(&self, items: &[T]) -> Vec<T> {
        let n = items.len();
        let skip = usize::try_from(self.offset).unwrap_or(usize::MAX).min(n);
        let take = (self.limit as usize).min(n - skip);
        if self.asc {
            items[skip..skip + take].to_vec()
        } else {
            items[n - skip - take..n - skip].iter().rev().cloned().collect()
        }
    }
}

/// ListUsers: the conditions (all must hold), the sorting and the page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserSearch {
    pub queries: Vec<UserQuery>,
    pub sort: UserSort,
    pub page: Page,
}

/// One page of a listing and how many users match in all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserPage {
    pub total: u64,
    pub users: Vec<User>,
    /// When the listing was read: the stores answer from the current state
    /// (their indexes never lag), so this is the time the answer holds for.
    pub viewed_at: time::OffsetDateTime,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::email::EmailAddress;
    use crate::events::UserEvent;
    use crate::ids::OrgId;
    use crate::user::{Email, Profile, UserName};

    fn user(name: &str, email: &str) -> User {
        User::create(
            UserId::generate(),
            OrgId::parse("1").unwrap(),
            UserEvent::Added {
                user_name: UserName::parse(name).unwrap(),
                profile: Profile {
                    first_name: "Jane".into(),
                    last_name: "Doe".into(),
                    display_name: "Jane Doe".into(),
                    ..Profile::default()
                },
                email: Email { address: EmailAddress::parse(email).unwrap(), verified: false },
                phone: None,
                state: UserState::Initial,
                password_hash: None,
                password_change_required: false,
            },
            time::OffsetDateTime::UNIX_EPOCH,
        )
        .0
    }

    #[test]
    fn text_methods_compare_as_zitadel_names_them() {
        use TextMethod::*;
        let cases = [
            (Equals, "Jane", true),
            (Equals, "jane", false),
            (EqualsIgnoreCase, "jANE", true),
            (StartsWith, "Ja", true),
            (StartsWith, "ja", false),
            (StartsWithIgnoreCase, "jA", true),
            (Contains, "an", true),
            (Contains, "AN", false),
            (ContainsIgnoreCase, "AN", true),
            (EndsWith, "ne", true),
            (EndsWith, "NE", false),
            (EndsWithIgnoreCase, "NE", true),
            (EndsWithIgnoreCase, "Ja", false),
        ];
        for (method, pattern, expected) in cases {
            assert_eq!(method.matches("Jane", pattern), expected, "{method:?} {pattern}");
            assert_eq!(TextMethod::from_number(method as i32), Some(method));
        }
        assert_eq!(TextMethod::from_number(8), None);
    }

    #[test]
    fn queries_combine() {
        let jane = user("jane", "Jane@Example.com");
        let text = |field, value: &str| UserQuery::Text { field, method: TextMethod::Equals, value: value.into() };
        assert!(text(TextField::UserName, "jane").matches(&jane));
        assert!(text(TextField::LoginName, "jane").matches(&jane));
        assert!(text(TextField::DisplayName, "Jane Doe").matches(&jane));
        assert!(!text(TextField::Email, "jane@example.com").matches(&jane));
        assert!(UserQuery::InUserEmails(vec!["JANE@example.COM".into()]).matches(&jane));
        assert!(UserQuery::InUserIds(vec![jane.id.clone()]).matches(&jane));
        assert!(!UserQuery::InUserIds(vec![]).matches(&jane));
        assert!(UserQuery::State(UserState::Initial).matches(&jane));
        assert!(UserQuery::Type(UserType::Human).matches(&jane));
        assert!(!UserQuery::Type(UserType::Machine).matches(&jane));
        let or = UserQuery::Or(vec![UserQuery::State(UserState::Active), text(TextField::FirstName, "Jane")]);
        assert!(or.matches(&jane));
        let and = UserQuery::And(vec![UserQuery::State(UserState::Active), text(TextField::FirstName, "Jane")]);
        assert!(!and.matches(&jane));
        assert!(UserQuery::Not(Box::new(and.clone())).matches(&jane));
        assert!(!UserQuery::Or(vec![]).matches(&jane) && UserQuery::And(vec![]).matches(&jane));
        assert_eq!(UserQuery::Not(Box::new(and)).depth(), 2);
    }

    #[test]
    fn pages_default_cap_and_slice_both_ways() {
        assert_eq!(Page::new(0, 0, false, PageLimits::V1).unwrap().limit, 1000);
        assert_eq!(Page::new(0, 0, false, PageLimits::V2).unwrap().limit, 100);
        assert_eq!(Page::new(0, 1000, false, PageLimits::V1).unwrap().limit, 1000);
        assert_eq!(Page::new(0, 1001, false, PageLimits::V1), Err(LimitExceeded { given: 1001, allowed: 1000 }));
        let items = [1, 2, 3, 4, 5];
        let page = |offset, limit, asc| Page { offset, limit, asc }.slice(&items);
        assert_eq!(page(0, 2, true), [1, 2]);
        assert_eq!(page(1, 2, false), [4, 3]);
        assert_eq!(page(4, 10, true), [5]);
        assert_eq!(page(9, 10, false), Vec::<i32>::new());
    }

    #[test]
    fn sorting_falls_back_to_creation_order() {
        let (a, b) = (user("b-user", "z@example.com"), user("a-user", "a@example.com"));
        assert_eq!(UserSort::UserName.compare(&a, &b), std::cmp::Ordering::Greater);
        assert_eq!(UserSort::Email.compare(&a, &b), std::cmp::Ordering::Greater);
        // Same creation time: the id decides, and ids are made in order.
        assert_eq!(UserSort::Unspecified.compare(&a, &b), std::cmp::Ordering::Less);
    }
}
