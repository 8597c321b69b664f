//! Settings of JWT access tokens from an identity provider, accepted beside
//! onboard's own tokens.

use std::path::PathBuf;

use clap::Args;
use onboard_jwt::{JwksSource, JwtSettings};

use super::error::ConfigError;

#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "JWT")]
pub struct JwtArgs {
    /// Also accept JWT access tokens with this exact `iss`; unset: onboard's tokens only.
    #[arg(long, env = "ONBOARD_JWT_ISSUER")]
    pub jwt_issuer: Option<String>,
    /// A value the JWT's `aud` must contain (ZITADEL: the project id); needed with the issuer.
    #[arg(long, env = "ONBOARD_JWT_AUDIENCE")]
    pub jwt_audience: Option<String>,
    /// The issuer's keys: a JWKS URL (`https://…/oauth/v2/keys`) or file; needed with the issuer.
    #[arg(long, env = "ONBOARD_JWT_JWKS")]
    pub jwt_jwks: Option<String>,
    /// Claim with the home organization's id.
    #[arg(long, env = "ONBOARD_JWT_ORG_CLAIM", default_value = onboard_jwt::ZITADEL_ORG_CLAIM)]
    pub jwt_org_claim: String,
    /// Claim with the roles per organization.
    #[arg(long, env = "ONBOARD_JWT_ROLES_CLAIM", default_value = onboard_jwt::ZITADEL_ROLES_CLAIM)]
    pub jwt_roles_claim: String,
}

/// Trimmed; blank is unset.
fn present(value: Option<&str>) -> Option<String> {
    value.map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned)
}

impl JwtArgs {
    pub(super) fn settings(&self) -> Result<Option<JwtSettings>, ConfigError> {
        let Some(issuer) = present(self.jwt_issuer.as_deref()) else {
            if let Some(orphan) = [("jwt_audience", &self.jwt_audience), ("jwt_jwks", &self.jwt_jwks)]
                .into_iter()
                .find_map(|(name, value)| present(value.as_deref()).map(|_| name))
            {
                return Err(ConfigError::Needs { setting: orphan, needs: "jwt_issuer" });
            }
            return Ok(None);
        };
        let need = |needs| ConfigError::Needs { setting: "jwt_issuer", needs };
        let audience = present(self.jwt_audience.as_deref()).ok_or_else(|| need("jwt_audience"))?;
        let jwks = present(self.jwt_jwks.as_deref()).ok_or_else(|| need("jwt_jwks"))?;
        let source = if jwks.starts_with("https://") || jwks.starts_with("http://") {
            JwksSource::Url(jwks)
        } else {
            JwksSource::File(PathBuf::from(jwks))
        };
        let mut settings = JwtSettings::new(issuer, audience, source);
        // A blank claim keeps ZITADEL's, as the declared default does.
        if let Some(claim) = present(Some(&self.jwt_org_claim)) {
            settings.org_claim = claim;
        }
        if let Some(claim) = present(Some(&self.jwt_roles_claim)) {
            settings.roles_claim = claim;
        }
        Ok(Some(settings))
    }
}
