//! From verified claims to a [`Principal`].
//!
//! Runs only on tokens whose signature, issuer, audience and times were
//! checked. It is strict all the same: a claim of the wrong shape means the
//! identity provider and this configuration disagree (wrong claim name, say),
//! and guessing would hand out the wrong organization or grants.

use std::collections::BTreeMap;

use onboard_domain::{Grant, GrantScope, OrgId, Principal, Role};
use serde_json::{Map, Value};

/// Prefix of the subjects of identity-provider principals. onboard's own
/// service accounts have decimal ids, so the two can never be taken for one another.
pub const SUBJECT_PREFIX: &str = "jwt:";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ClaimsError {
    #[error("sub missing or not a non-empty string")]
    Subject,
    #[error("organization claim {0:?} missing or not an organization id")]
    HomeOrg(String),
    #[error("roles claim {0:?} is not an object of objects")]
    Roles(String),
    #[error("role {role} names an invalid organization id")]
    RoleOrg { role: &'static str },
    #[error("nbf is not a number")]
    NotBefore,
}

/// The claims the verifier maps; see [`crate::JwtSettings`].
#[derive(Debug, Clone)]
pub(crate) struct ClaimNames {
    pub(crate) issuer: String,
    pub(crate) org: String,
    pub(crate) roles: String,
}

/// The principal the (verified) `claims` stand for:
/// - subject: `jwt:<issuer>#<sub>`, the issuer making `sub`s of different
///   identity providers distinct too;
/// - home organization: the org claim, a string id (required);
/// - grants: per known role of the roles claim, an instance grant for
///   instance roles (IAM_*), else one grant per organization listed under it.
///   Unknown role names are ignored; no roles claim means no grants.
pub(crate) fn principal(claims: &Map<String, Value>, names: &ClaimNames) -> Result<Principal, ClaimsError> {
    // jsonwebtoken checks a numeric nbf but passes over one of another type.
    if claims.get("nbf").is_some_and(|nbf| !nbf.is_number()) {
        return Err(ClaimsError::NotBefore);
    }
    let sub = claims.get("sub").and_then(Value::as_str).filter(|s| !s.is_empty()).ok_or(ClaimsError::Subject)?;
    let home_org = claims
        .get(&names.org)
        .and_then(Value::as_str)
        .and_then(|id| OrgId::parse(id).ok())
        .ok_or_else(|| ClaimsError::HomeOrg(names.org.clone()))?;
    let grants = match claims.get(&names.roles) {
        None | Some(Value::Null) => Vec::new(),
        Some(roles) => grants(roles).map_err(|e| e.unwrap_or_else(|| ClaimsError::Roles(names.roles.clone())))?,
    };
    // The token's `name` claim names the editor of what it does, if it has one.
    let name = claims.get("name").and_then(Value::as_str).unwrap_or(sub).to_owned();
    Ok(Principal { subject: format!("{SUBJECT_PREFIX}{}#{sub}", names.issuer), name, home_org, grants })
}

/// `Err(None)`: the claim's shape is wrong.
fn grants(roles: &Value) -> Result<Vec<Grant>, Option<ClaimsError>> {
    let roles = roles.as_object().ok_or(None)?;
    // Keyed (instance grants first, then by organization and role) so equal
    // tokens give equal principals, without duplicates.
    let mut grants = BTreeMap::new();
    for (name, orgs) in roles {
        let Some(role) = Role::parse(name) else {
            // Other projects' or custom roles mean nothing here.
            continue;
        };
        let orgs = orgs.as_object().ok_or(None)?;
        if role.is_instance_role() {
            grants.insert((0, String::new(), role.as_str()), Grant { scope: GrantScope::Instance, role });
            continue;
        }
        for org in orgs.keys() {
            let org_id = OrgId::parse(org).map_err(|_| Some(ClaimsError::RoleOrg { role: role.as_str() }))?;
            let grant = Grant { scope: GrantScope::Organization(org_id), role };
            grants.insert((1, org.clone(), role.as_str()), grant);
        }
    }
    Ok(grants.into_values().collect())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn names() -> ClaimNames {
        ClaimNames {
            issuer: "https://idp.example".into(),
            org: crate::settings::ZITADEL_ORG_CLAIM.into(),
            roles: crate::settings::ZITADEL_ROLES_CLAIM.into(),
        }
    }

    fn claims(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    fn org(id: &str) -> OrgId {
        OrgId::parse(id).unwrap()
    }

    fn org_grant(id: &str, role: Role) -> Grant {
        Grant { scope: GrantScope::Organization(org(id)), role }
    }

    #[test]
    fn zitadel_claims_map_to_a_principal() {
        let c = claims(json!({
            "sub": "2873",
            "urn:zitadel:iam:user:resourceowner:id": "100",
            "urn:zitadel:iam:org:project:roles": {
                "IAM_OWNER": {"100": "acme.example"},
                "ORG_USER_MANAGER": {"200": "b.example", "100": "acme.example"},
                "ORG_OWNER_VIEWER": {},
                "PROJECT_ADMIN": {"100": "acme.example"},
            },
        }));
        let p = principal(&c, &names()).unwrap();
        assert_eq!(p.subject, "jwt:https://idp.example#2873");
        assert_eq!(p.home_org, org("100"));
        assert_eq!(
            p.grants,
            vec![
                Grant { scope: GrantScope::Instance, role: Role::IamOwner },
                org_grant("100", Role::OrgUserManager),
                org_grant("200", Role::OrgUserManager),
            ]
        );
    }

    #[test]
    fn no_roles_claim_means_no_grants() {
        let c = claims(json!({"sub": "1", "urn:zitadel:iam:user:resourceowner:id": "100"}));
        assert_eq!(principal(&c, &names()).unwrap().grants, vec![]);
        let null = claims(json!({"sub": "1", "urn:zitadel:iam:user:resourceowner:id": "100", names().roles: null}));
        assert_eq!(principal(&null, &names()).unwrap().grants, vec![]);
    }

    #[test]
    fn subject_and_home_org_are_required_strings() {
        let org_claim = names().org;
        for bad in [
            json!({org_claim.clone(): "1"}),
            json!({"sub": "", org_claim.clone(): "1"}),
            json!({"sub": 5, org_claim.clone(): "1"}),
        ] {
            assert_eq!(principal(&claims(bad), &names()), Err(ClaimsError::Subject));
        }
        for bad in [
            json!({"sub": "1"}),
            json!({"sub": "1", org_claim.clone(): 100}),
            json!({"sub": "1", org_claim.clone(): ""}),
        ] {
            assert_eq!(principal(&claims(bad), &names()), Err(ClaimsError::HomeOrg(org_claim.clone())));
        }
    }

    #[test]
    fn malformed_roles_are_refused_not_guessed() {
        let with_roles = |roles: Value| claims(json!({"sub": "1", names().org: "1", names().roles: roles}));
        let shape = Err(ClaimsError::Roles(names().roles));
        assert_eq!(principal(&with_roles(json!(["ORG_OWNER"])), &names()), shape);
        assert_eq!(principal(&with_roles(json!("ORG_OWNER")), &names()), shape);
        assert_eq!(principal(&with_roles(json!({"ORG_OWNER": ["1"]})), &names()), shape);
        assert_eq!(principal(&with_roles(json!({"IAM_OWNER": true})), &names()), shape);
        assert_eq!(
            principal(&with_roles(json!({"ORG_OWNER": {"": "x"}})), &names()),
            Err(ClaimsError::RoleOrg { role: "ORG_OWNER" })
        );
        // Unknown roles are ignored whatever their shape.
        assert_eq!(principal(&with_roles(json!({"CUSTOM": ["x"]})), &names()).unwrap().grants, vec![]);
    }

    #[test]
    fn a_non_numeric_nbf_is_refused() {
        let c = claims(json!({"sub": "1", names().org: "1", "nbf": "9999999999"}));
        assert_eq!(principal(&c, &names()), Err(ClaimsError::NotBefore));
    }
}
