//! ListUsers' request as the domain's search: ZITADEL's v2 query tree, its
//! sorting column and its page (v2's default of 100, at most 1000).

use onboard_domain::user_query::{Page, PageLimits, TextField, TextMethod, UserQuery, UserSearch, UserSort, UserType};
use onboard_domain::{OrgId, UserId, UserState};

use crate::fault::{Code, Fault, ids};
use crate::pb::zitadel::user::v2 as pb;

fn invalid(text: String) -> Fault {
    Fault::new(Code::InvalidArgument, ids::FIELD_INVALID, text)
}

fn text(field: TextField, method: i32, value: String) -> Result<UserQuery, Fault> {
    let method = TextMethod::from_number(method)
        .ok_or_else(|| invalid(format!("Invalid query: {method} is not a text query method")))?;
    Ok(UserQuery::Text { field, method, value })
}

fn state(n: i32) -> Result<UserState, Fault> {
    // v2's numbers (Initial is 5).
    Ok(match pb::UserState::try_from(n) {
        Ok(pb::UserState::Unspecified) => UserState::Unspecified,
        Ok(pb::UserState::Active) => UserState::Active,
        Ok(pb::UserState::Inactive) => UserState::Inactive,
        Ok(pb::UserState::Deleted) => UserState::Deleted,
        Ok(pb::UserState::Locked) => UserState::Locked,
        Ok(pb::UserState::Initial) => UserState::Initial,
        Err(_) => return Err(invalid(format!("Invalid query: {n} is not a user state"))),
    })
}

/// One v2 query as the domain's, in organization `org` (an organization
/// query for another one matches nobody: listings stay in the acting one).
pub fn query(q: pb::SearchQuery, org: &OrgId) -> Result<UserQuery, Fault> {
    use pb::search_query::Query;
    let Some(q) = q.query else { return Err(invalid("Invalid query: a query without a condition".into())) };
    let all = |qs: Vec<pb::SearchQuery>| qs.into_iter().map(|q| query(q, org)).collect::<Result<Vec<_>, _>>();
    Ok(match q {
        Query::UserNameQuery(q) => text(TextField::UserName, q.method, q.user_name)?,
        Query::FirstNameQuery(q) => text(TextField::FirstName, q.method, q.first_name)?,
        Query::LastNameQuery(q) => text(TextField::LastName, q.method, q.last_name)?,
        Query::NickNameQuery(q) => text(TextField::NickName, q.method, q.nick_name)?,
        Query::DisplayNameQuery(q) => text(TextField::DisplayName, q.method, q.display_name)?,
        Query::EmailQuery(q) => text(TextField::Email, q.method, q.email_address)?,
        Query::LoginNameQuery(q) => text(TextField::LoginName, q.method, q.login_name)?,
        Query::StateQuery(q) => UserQuery::State(state(q.state)?),
        Query::TypeQuery(q) => UserQuery::Type(match pb::Type::try_from(q.r#type) {
            Ok(pb::Type::Unspecified) => UserType::Unspecified,
            Ok(pb::Type::Human) => UserType::Human,
            Ok(pb::Type::Machine) => UserType::Machine,
            Err(_) => return Err(invalid(format!("Invalid query: {} is not a user type", q.r#type))),
        }),
        Query::InUserIdsQuery(q) => UserQuery::InUserIds(
            q.user_ids
                .iter()
                .map(|id| UserId::parse(id).map_err(|_| invalid(format!("Invalid query: {id:?} is not a user id"))))
                .collect::<Result<_, _>>()?,
        ),
        Query::InUserEmailsQuery(q) => UserQuery::InUserEmails(q.user_emails),
        Query::OrQuery(q) => UserQuery::Or(all(q.queries)?),
        Query::AndQuery(q) => UserQuery::And(all(q.queries)?),
        Query::NotQuery(q) => {
            let inner = q.query.map(|b| *b).unwrap_or_default();
            UserQuery::Not(Box::new(query(inner, org)?))
        }
        // And of nothing holds for everyone, Or of nothing for no one.
        Query::OrganizationIdQuery(q) if q.organization_id.trim() == org.as_str() => UserQuery::And(Vec::new()),
        Query::OrganizationIdQuery(_) => UserQuery::Or(Vec::new()),
        Query::PhoneQuery(_) => return Err(invalid("Invalid query: phone queries are not supported".into())),
    })
}

fn sort(n: i32) -> Result<UserSort, Fault> {
    use pb::UserFieldName as F;
    Ok(match F::try_from(n) {
        Ok(F::Unspecified) => UserSort::Unspecified,
        Ok(F::UserName) => UserSort::UserName,
        Ok(F::FirstName) => UserSort::FirstName,
        Ok(F::LastName) => UserSort::LastName,
        Ok(F::NickName) => UserSort::NickName,
        Ok(F::DisplayName) => UserSort::DisplayName,
        Ok(F::Email) => UserSort::Email,
        Ok(F::State) => UserSort::State,
        Ok(F::Type) => UserSort::Type,
        Ok(F::CreationDate) => UserSort::CreationDate,
        Err(_) => return Err(invalid(format!("Invalid sorting_column: {n} is not a user field"))),
    })
}

/// The whole request as a search in `org`.
pub fn search(r: pb::ListUsersRequest, org: &OrgId) -> Result<UserSearch, Fault> {
    let q = r.query.unwrap_or_default();
    let page = Page::new(q.offset, q.limit, q.asc, PageLimits::V2).map_err(|e| {
        Fault::new(Code::InvalidArgument, ids::LIST_LIMIT_EXCEEDED, format!("Invalid query.limit: {e}"))
    })?;
    let queries = r.queries.into_iter().map(|q| query(q, org)).collect::<Result<_, _>>()?;
    Ok(UserSearch { queries, sort: sort(r.sorting_column)?, page })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn org() -> OrgId {
        OrgId::parse("100").unwrap()
    }

    #[test]
    fn states_are_read_by_v2_numbers_and_the_page_has_v2_limits() {
        let r = pb::ListUsersRequest {
            queries: vec![pb::SearchQuery {
                query: Some(pb::search_query::Query::StateQuery(pb::StateQuery { state: 5 })),
            }],
            ..Default::default()
        };
        let s = search(r, &org()).unwrap();
        assert_eq!(s.queries, vec![UserQuery::State(UserState::Initial)]);
        assert_eq!((s.page.limit, s.page.asc), (100, false));
        let too_many = pb::ListUsersRequest {
            query: Some(crate::pb::zitadel::object::v2::ListQuery { offset: 0, limit: 1001, asc: true }),
            ..Default::default()
        };
        assert_eq!(search(too_many, &org()).unwrap_err().id, ids::LIST_LIMIT_EXCEEDED);
    }

    #[test]
    fn organizations_and_bad_queries() {
        let by_org = |id: &str| pb::SearchQuery {
            query: Some(pb::search_query::Query::OrganizationIdQuery(pb::OrganizationIdQuery {
                organization_id: id.into(),
            })),
        };
        assert_eq!(query(by_org("100"), &org()).unwrap(), UserQuery::And(vec![]));
        assert_eq!(query(by_org("200"), &org()).unwrap(), UserQuery::Or(vec![]));
        assert_eq!(query(pb::SearchQuery { query: None }, &org()).unwrap_err().id, ids::FIELD_INVALID);
        let bad_method = pb::SearchQuery {
            query: Some(pb::search_query::Query::UserNameQuery(pb::UserNameQuery {
                user_name: "x".into(),
                method: 99,
            })),
        };
        assert_eq!(query(bad_method, &org()).unwrap_err().id, ids::FIELD_INVALID);
    }
}
