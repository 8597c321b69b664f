//! Roles, permissions and the principal a bearer token stands for.

use crate::ids::OrgId;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    UserRead,
    /// Users of every organization (`user.global.read`).
    UserGlobalRead,
    UserWrite,
    UserDelete,
    /// Organizations, service accounts, grants and tokens: IAM_OWNER only.
    Administer,
}

impl Permission {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::UserRead => "user.read",
            Self::UserGlobalRead => "user.global.read",
            Self::UserWrite => "user.write",
            Self::UserDelete => "user.delete",
            Self::Administer => "iam.write",
        }
    }
}

/// ZITADEL's default roles that concern users.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    IamOwner,
    IamOrgManager,
    IamUserManager,
    IamOwnerViewer,
    OrgOwner,
    OrgUserManager,
    OrgOwnerViewer,
}

impl Role {
    pub const ALL: [Role; 7] = [
        Role::IamOwner,
        Role::IamOrgManager,
        Role::IamUserManager,
        Role::IamOwnerViewer,
        Role::OrgOwner,
        Role::OrgUserManager,
        Role::OrgOwnerViewer,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::IamOwner => "IAM_OWNER",
            Self::IamOrgManager => "IAM_ORG_MANAGER",
            Self::IamUserManager => "IAM_USER_MANAGER",
            Self::IamOwnerViewer => "IAM_OWNER_VIEWER",
            Self::OrgOwner => "ORG_OWNER",
            Self::OrgUserManager => "ORG_USER_MANAGER",
            Self::OrgOwnerViewer => "ORG_OWNER_VIEWER",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == name)
    }

    /// A role named by a person (surrounding blanks ignored), or an error
    /// that lists the names there are.
    pub fn parse_named(name: &str) -> Result<Self, UnknownRole> {
        Self::parse(name.trim()).ok_or(UnknownRole)
    }

    /// Instance roles count in every organization.
    pub fn is_instance_role(self) -> bool {
        self.as_str().starts_with("IAM_")
    }

    /// The contract's role→permission map, as ZITADEL's default role
    /// mappings have it (`cmd/defaults.yaml`): every one of these roles reads
    /// users; the viewers change nothing. One deliberate difference: the
    /// lookup across organizations (`user.global.read`) is for instance
    /// roles only, where ZITADEL grants it to the ORG_* roles too, so that
    /// no organization can probe another's users (docs/compatibility.md).
    pub fn grants(self, permission: Permission) -> bool {
        match permission {
            Permission::UserRead => true,
            Permission::UserGlobalRead => self.is_instance_role(),
            Permission::UserWrite | Permission::UserDelete => {
                !matches!(self, Self::IamOwnerViewer | Self::OrgOwnerViewer)
            }
            Permission::Administer => self == Self::IamOwner,
        }
    }
}

/// A role name that is none of [`Role::ALL`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("unknown role; use one of {}", Role::ALL.map(Role::as_str).join(", "))]
pub struct UnknownRole;

/// Where a role holds.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq, Eq, Hash)]
pub enum GrantScope {
    Instance,
    Organization(OrgId),
}

#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq, Eq, Hash)]
pub struct Grant {
    pub scope: GrantScope,
    pub role: Role,
}

/// Who is calling: a user or service account of `home_org` with its grants.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub subject: String,
    /// The name shown for what the principal does (a service account's
    /// name); may be empty.
    pub name: String,
    pub home_org: OrgId,
    pub grants: Vec<Grant>,
}

/// The subject of [`Principal::local_operator`]. No token stands for it:
/// service accounts' ids are decimal, identity providers' subjects start
/// with `jwt:`.
pub const LOCAL_OPERATOR_SUBJECT: &str = "local:operator";

impl Principal {
    /// Whoever administers the store from the machine itself (`onboard
    /// admin`), holding IAM_OWNER instance-wide. Reading the store's settings
    /// already gives full access to the store; acting as a named principal
    /// keeps the command line on the use cases' checks and in their logs
    /// instead of going around them.
    pub fn local_operator() -> Self {
        Self {
            subject: LOCAL_OPERATOR_SUBJECT.into(),
            name: "onboard admin".into(),
            // It belongs to no organization; ids made here are decimal, so
            // no organization has this one.
            home_org: OrgId::parse("local").expect("a valid id"),
            grants: vec![Grant { scope: GrantScope::Instance, role: Role::IamOwner }],
        }
    }

    /// Whether the principal holds `permission` through an instance-wide
    /// grant: what acting on the whole instance (administration) needs.
    pub fn may_everywhere(&self, permission: Permission) -> bool {
        self.grants.iter().any(|g| g.scope == GrantScope::Instance && g.role.grants(permission))
    }

    /// Whether the principal holds `permission` in `org`: through a grant on
    /// that organization, or through an instance-wide grant.
    pub fn may(&self, permission: Permission, org: &OrgId) -> bool {
        self.grants.iter().any(|g| {
            g.role.grants(permission)
                && match &g.scope {
                    GrantScope::Instance => true,
                    GrantScope::Organization(o) => o == org,
                }
        })
    }
}

impl Principal {
    /// The principal as the editor of the events it makes.
    pub fn editor(&self) -> crate::events::Editor {
        let name = if self.name.is_empty() { &self.subject } else { &self.name };
        crate::events::Editor::new(self.subject.clone(), name.clone())
    }
}

/// An authorized call: the principal and the organization it acts in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acting {
    pub principal: Principal,
    pub org: OrgId,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn org(id: &str) -> OrgId {
        OrgId::parse(id).unwrap()
    }

    #[test]
    fn role_permission_map_matches_the_contract() {
        for role in Role::ALL {
            assert!(role.grants(Permission::UserRead), "{role:?}");
            assert_eq!(role.grants(Permission::UserGlobalRead), role.is_instance_role(), "{role:?}");
            let writes = !matches!(role, Role::IamOwnerViewer | Role::OrgOwnerViewer);
            assert_eq!(role.grants(Permission::UserWrite), writes, "{role:?}");
            assert_eq!(role.grants(Permission::UserDelete), writes, "{role:?}");
            assert_eq!(role.grants(Permission::Administer), role == Role::IamOwner, "{role:?}");
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("PROJECT_OWNER"), None);
        assert_eq!(Role::parse_named(" ORG_OWNER "), Ok(Role::OrgOwner));
        assert!(Role::parse_named("KING").unwrap_err().to_string().ends_with("ORG_USER_MANAGER, ORG_OWNER_VIEWER"));
    }

    #[test]
    fn grants_hold_in_their_scope_only() {
        let p = Principal {
            subject: "s".into(),
            name: String::new(),
            home_org: org("a"),
            grants: vec![Grant { scope: GrantScope::Organization(org("a")), role: Role::OrgUserManager }],
        };
        assert!(p.may(Permission::UserWrite, &org("a")));
        assert!(!p.may(Permission::UserWrite, &org("b")));
        let iam = Principal { grants: vec![Grant { scope: GrantScope::Instance, role: Role::IamOwnerViewer }], ..p };
        assert!(iam.may(Permission::UserRead, &org("b")));
        assert!(!iam.may(Permission::UserWrite, &org("b")));
        let nobody = Principal { grants: vec![], ..iam };
        assert!(!nobody.may(Permission::UserRead, &org("b")));
        assert_eq!(nobody.editor(), crate::events::Editor::new("s", "s"));
    }

    #[test]
    fn administration_needs_iam_owner_instance_wide() {
        let operator = Principal::local_operator();
        assert!(operator.may_everywhere(Permission::Administer));
        let viewer = Principal {
            grants: vec![Grant { scope: GrantScope::Instance, role: Role::IamOwnerViewer }],
            ..operator.clone()
        };
        assert!(viewer.may_everywhere(Permission::UserRead));
        assert!(!viewer.may_everywhere(Permission::Administer));
        // Not a grant administration makes, but one a store could hold.
        let owner_in_one_org = Principal {
            grants: vec![Grant { scope: GrantScope::Organization(org("a")), role: Role::IamOwner }],
            ..operator
        };
        assert!(!owner_in_one_org.may_everywhere(Permission::Administer));
    }
}
