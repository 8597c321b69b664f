//! The link an initialization email carries, as ZITADEL writes it:
//! `{origin}/ui/login/user/init?userID=..&loginname=..&code=..&orgID=..&passwordset=..`.
//! The email makes it and the page reads it: both through this type, so
//! the two agree on the path and every query key.

use std::fmt;

/// The page's path.
pub const INIT_PATH: &str = "/ui/login/user/init";

/// The query's keys, ZITADEL's spelling.
pub mod keys {
    pub const USER_ID: &str = "userID";
    pub const LOGIN_NAME: &str = "loginname";
    pub const CODE: &str = "code";
    pub const ORG_ID: &str = "orgID";
    pub const PASSWORD_SET: &str = "passwordset";
}

/// A link's fields. Read from a link, they are whatever the link held
/// (possibly nothing): the page checks them.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct InitLink {
    pub user_id: String,
    pub login_name: String,
    /// The init code in clear text: a secret.
    pub code: String,
    pub org_id: String,
    /// Whether the user has a password; `None` when a link did not say.
    pub password_set: Option<bool>,
}

impl fmt::Debug for InitLink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InitLink")
            .field("user_id", &self.user_id)
            .field("org_id", &self.org_id)
            .field("password_set", &self.password_set)
            .finish_non_exhaustive()
    }
}

impl InitLink {
    /// The link's fields from a query string (`userID=..&code=..`); unknown
    /// keys are ignored, missing ones are empty.
    pub fn from_query(query: &str) -> Self {
        let mut link = Self::default();
        for (key, value) in form_urlencoded::parse(query.as_bytes()) {
            match key.as_ref() {
                keys::USER_ID => link.user_id = value.into_owned(),
                keys::LOGIN_NAME => link.login_name = value.into_owned(),
                keys::CODE => link.code = value.into_owned(),
                keys::ORG_ID => link.org_id = value.into_owned(),
                keys::PASSWORD_SET => link.password_set = Some(value == "true"),
                _ => {}
            }
        }
        link
    }

    fn password_set(&self) -> &'static str {
        if self.password_set == Some(true) { "true" } else { "false" }
    }

    /// The whole link, for the email: `origin` is where onboard is reached.
    pub fn url(&self, origin: &str) -> String {
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair(keys::USER_ID, &self.user_id)
            .append_pair(keys::LOGIN_NAME, &self.login_name)
            .append_pair(keys::CODE, &self.code)
            .append_pair(keys::ORG_ID, &self.org_id)
            .append_pair(keys::PASSWORD_SET, self.password_set())
            .finish();
        format!("{}{INIT_PATH}?{query}", origin.trim_end_matches('/'))
    }

    /// The same page without the code in its address (where the page sends a
    /// browser that followed the link, so the code leaves the address bar).
    /// Empty fields but the user id are left out.
    pub fn path_without_code(&self) -> String {
        let mut q = form_urlencoded::Serializer::new(String::new());
        q.append_pair(keys::USER_ID, &self.user_id);
        if !self.login_name.is_empty() {
            q.append_pair(keys::LOGIN_NAME, &self.login_name);
        }
        if self.password_set.is_some() {
            q.append_pair(keys::PASSWORD_SET, self.password_set());
        }
        if !self.org_id.is_empty() {
            q.append_pair(keys::ORG_ID, &self.org_id);
        }
        format!("{INIT_PATH}?{}", q.finish())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jane() -> InitLink {
        InitLink {
            user_id: "200".into(),
            login_name: "jane doe".into(),
            code: "AB12CD".into(),
            org_id: "100".into(),
            password_set: Some(false),
        }
    }

    #[test]
    fn the_email_writes_zitadels_link_and_the_page_reads_it_back() {
        let url = jane().url("https://id.example.com/");
        assert_eq!(
            url,
            "https://id.example.com/ui/login/user/init?userID=200&loginname=jane+doe&code=AB12CD&orgID=100&passwordset=false"
        );
        let query = url.split_once('?').unwrap().1;
        assert_eq!(InitLink::from_query(query), jane());
    }

    #[test]
    fn a_partial_or_odd_query_reads_as_far_as_it_goes() {
        let link = InitLink::from_query("userID=7&passwordset=true&extra=1&code=");
        assert_eq!((link.user_id.as_str(), link.code.as_str(), link.password_set), ("7", "", Some(true)));
        assert_eq!(InitLink::from_query("userID=7").path_without_code(), "/ui/login/user/init?userID=7");
        assert_eq!(InitLink::from_query(""), InitLink::default());
    }

    #[test]
    fn the_code_leaves_the_address_and_debug() {
        let path = jane().path_without_code();
        assert_eq!(path, "/ui/login/user/init?userID=200&loginname=jane+doe&passwordset=false&orgID=100");
        assert!(!format!("{:?}", jane()).contains("AB12CD"));
    }
}
