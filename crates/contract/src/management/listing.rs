//! The listing requests (ListUsers, ListUserChanges) as the domain's typed
//! queries, refusing what ZITADEL refuses with its ids.

use onboard_domain::usecases::ChangeQuery;
use onboard_domain::{
    LimitExceeded, Page, PageLimits, TextField, TextMethod, UserId, UserQuery, UserSearch, UserSort, UserState,
    UserType,
};

use crate::fault::{Code, Fault, ids};
use crate::pb::zitadel::change::v1 as change_pb;
use crate::pb::zitadel::management::v1 as pb;
use crate::pb::zitadel::user::v1 as user_pb;
use crate::pb::zitadel::v1 as object_pb;

/// A limit above the maximum, as ZITADEL answers it.
pub fn limit_exceeded(_: LimitExceeded) -> Fault {
    Fault::new(Code::InvalidArgument, ids::QUERY_LIMIT_EXCEEDED, "Limit exceeded")
}

fn not_defined(field: &str) -> Fault {
    Fault::new(
        Code::InvalidArgument,
        ids::FIELD_INVALID,
        format!("invalid {field}: value must be one of the defined enum values"),
    )
}

fn text(field: TextField, method: i32, value: &str, name: &str) -> Result<UserQuery, Fault> {
    let method = TextMethod::from_number(method).ok_or_else(|| not_defined(&format!("{name}.Method")))?;
    Ok(UserQuery::Text { field, method, value: value.to_owned() })
}

fn state(n: i32) -> Option<UserState> {
    use UserState::*;
    [Unspecified, Active, Inactive, Deleted, Locked, Suspend, Initial].into_iter().find(|s| *s as i32 == n)
}

fn user_type(n: i32) -> Option<UserType> {
    [UserType::Unspecified, UserType::Human, UserType::Machine].into_iter().find(|t| *t as i32 == n)
}

/// One `zitadel.user.v1.SearchQuery`; an empty one is ZITADEL's "List.Query.Invalid".
pub fn user_query(q: &user_pb::SearchQuery) -> Result<UserQuery, Fault> {
    use user_pb::search_query::Query as Q;
    let Some(query) = &q.query else {
        return Err(Fault::new(Code::InvalidArgument, ids::LIST_QUERY_INVALID, "List.Query.Invalid"));
    };
    Ok(match query {
        Q::UserNameQuery(t) => text(TextField::UserName, t.method, &t.user_name, "UserNameQuery")?,
        Q::FirstNameQuery(t) => text(TextField::FirstName, t.method, &t.first_name, "FirstNameQuery")?,
        Q::LastNameQuery(t) => text(TextField::LastName, t.method, &t.last_name, "LastNameQuery")?,
        Q::NickNameQuery(t) => text(TextField::NickName, t.method, &t.nick_name, "NickNameQuery")?,
        Q::DisplayNameQuery(t) => text(TextField::DisplayName, t.method, &t.display_name, "DisplayNameQuery")?,
        Q::EmailQuery(t) => text(TextField::Email, t.method, &t.email_address, "EmailQuery")?,
        Q::LoginNameQuery(t) => text(TextField::LoginName, t.method, &t.login_name, "LoginNameQuery")?,
        Q::StateQuery(s) => UserQuery::State(state(s.state).ok_or_else(|| not_defined("StateQuery.State"))?),
        Q::TypeQuery(t) => UserQuery::Type(user_type(t.r#type).ok_or_else(|| not_defined("TypeQuery.Type"))?),
        // An id that cannot be one names no user.
        Q::InUserIdsQuery(q) => UserQuery::InUserIds(q.user_ids.iter().filter_map(|i| UserId::parse(i).ok()).collect()),
        Q::InUserEmailsQuery(q) => UserQuery::InUserEmails(q.user_emails.clone()),
        Q::OrQuery(q) => UserQuery::Or(q.queries.iter().map(user_query).collect::<Result<_, _>>()?),
        Q::AndQuery(q) => UserQuery::And(q.queries.iter().map(user_query).collect::<Result<_, _>>()?),
        Q::NotQuery(q) => match &q.query {
            Some(inner) => UserQuery::Not(Box::new(user_query(inner)?)),
            None => return Err(Fault::new(Code::InvalidArgument, ids::LIST_QUERY_INVALID, "List.Query.Invalid")),
        },
    })
}

fn sort(n: i32) -> Result<UserSort, Fault> {
    use user_pb::UserFieldName as F;
    let field = F::try_from(n).map_err(|_| not_defined("ListUsersRequest.SortingColumn"))?;
    Ok(match field {
        F::Unspecified => UserSort::Unspecified,
        F::UserName => UserSort::UserName,
        F::FirstName => UserSort::FirstName,
        F::LastName => UserSort::LastName,
        F::NickName => UserSort::NickName,
        F::DisplayName => UserSort::DisplayName,
        F::Email => UserSort::Email,
        F::State => UserSort::State,
        F::Type => UserSort::Type,
        F::CreationDate => UserSort::CreationDate,
    })
}

/// A `zitadel.v1.ListQuery` as a page, with ZITADEL's v1 default and maximum.
pub fn page(q: Option<&object_pb::ListQuery>) -> Result<Page, Fault> {
    let q = q.cloned().unwrap_or_default();
    Page::new(q.offset, q.limit, q.asc, PageLimits::V1).map_err(limit_exceeded)
}

/// ListUsers' request as the search: its page, its sorting and every query.
pub fn list_users_search(r: &pb::ListUsersRequest) -> Result<UserSearch, Fault> {
    let page = page(r.query.as_ref())?;
    let sort = sort(r.sorting_column)?;
    let queries = r.queries.iter().map(user_query).collect::<Result<_, _>>()?;
    Ok(UserSearch { queries, sort, page })
}

/// ListUserChanges' query, with ZITADEL's v1 default and maximum.
pub fn change_query(q: Option<&change_pb::ChangeQuery>) -> Result<ChangeQuery, Fault> {
    let q = q.cloned().unwrap_or_default();
    ChangeQuery::new(q.sequence, q.limit, q.asc, PageLimits::V1).map_err(limit_exceeded)
}

#[cfg(test)]
mod tests {
    use super::*;
    use user_pb::search_query::Query as Q;

    fn sq(q: Q) -> user_pb::SearchQuery {
        user_pb::SearchQuery { query: Some(q) }
    }

    #[test]
    fn queries_become_the_typed_tree() {
        let r = pb::ListUsersRequest {
            query: Some(object_pb::ListQuery { offset: 10, limit: 0, asc: true }),
            sorting_column: user_pb::UserFieldName::CreationDate as i32,
            queries: vec![
                sq(Q::StateQuery(user_pb::StateQuery { state: user_pb::UserState::Initial as i32 })),
                sq(Q::NotQuery(Box::new(user_pb::NotQuery {
                    query: Some(Box::new(sq(Q::EmailQuery(user_pb::EmailQuery {
                        email_address: "@example.org".into(),
                        method: object_pb::TextQueryMethod::EndsWithIgnoreCase as i32,
                    })))),
                }))),
            ],
        };
        let search = list_users_search(&r).unwrap();
        assert_eq!(search.page, Page { offset: 10, limit: 1000, asc: true });
        assert_eq!(search.sort, UserSort::CreationDate);
        assert_eq!(search.queries[0], UserQuery::State(UserState::Initial));
        assert_eq!(
            search.queries[1],
            UserQuery::Not(Box::new(UserQuery::Text {
                field: TextField::Email,
                method: TextMethod::EndsWithIgnoreCase,
                value: "@example.org".into()
            }))
        );
    }

    #[test]
    fn what_zitadel_refuses_is_refused_with_its_ids() {
        let too_many = pb::ListUsersRequest {
            query: Some(object_pb::ListQuery { offset: 0, limit: 1001, asc: false }),
            ..Default::default()
        };
        let f = list_users_search(&too_many).unwrap_err();
        assert_eq!((f.code, f.id, f.text.as_ref()), (Code::InvalidArgument, "QUERY-4M0fs", "Limit exceeded"));
        let empty = pb::ListUsersRequest { queries: vec![user_pb::SearchQuery { query: None }], ..Default::default() };
        assert_eq!(list_users_search(&empty).unwrap_err().id, "GRPC-vR9nC");
        let bad_method = pb::ListUsersRequest {
            queries: vec![sq(Q::UserNameQuery(user_pb::UserNameQuery { user_name: "a".into(), method: 99 }))],
            ..Default::default()
        };
        assert_eq!(
            list_users_search(&bad_method).unwrap_err().message(),
            "invalid UserNameQuery.Method: value must be one of the defined enum values (ONBOARD-FIELD-INVALID)"
        );
        let bad_sort = pb::ListUsersRequest { sorting_column: 42, ..Default::default() };
        assert_eq!(list_users_search(&bad_sort).unwrap_err().id, "ONBOARD-FIELD-INVALID");
        assert_eq!(
            change_query(Some(&change_pb::ChangeQuery { sequence: 0, limit: 1001, asc: true })).unwrap_err().id,
            "QUERY-4M0fs"
        );
        let q = change_query(None).unwrap();
        assert_eq!((q.after_sequence, q.limit, q.asc), (0, 1000, false));
    }
}
