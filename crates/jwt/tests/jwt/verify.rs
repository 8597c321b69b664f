//! Which tokens are accepted, and the principal they stand for (JWKS from the fixture file).

use std::time::Duration;

use crate::support::*;
use onboard_domain::ports::TokenVerifier;
use onboard_domain::{Grant, GrantScope, OrgId, Permission, Role};
use onboard_jwt::{JwksSource, JwtSettings, JwtVerifier};
use serde_json::json;

fn org(id: &str) -> OrgId {
    OrgId::parse(id).unwrap()
}

#[tokio::test]
async fn valid_tokens_of_each_algorithm_give_the_principal() {
    let verifier = fixture_verifier().await;
    for key in [TestKey::Rsa, TestKey::Ec, TestKey::Ed] {
        let principal = verifier.verify(&sign(key, &claims())).await.unwrap_or_else(|e| panic!("{key:?}: {e}"));
        assert_eq!(principal.subject, "jwt:https://idp.example#user-7", "{key:?}");
        assert_eq!(principal.home_org, org("100"), "{key:?}");
        // PROJECT_JANITOR is not an onboard role: ignored.
        assert_eq!(
            principal.grants,
            vec![
                Grant { scope: GrantScope::Instance, role: Role::IamOwner },
                Grant { scope: GrantScope::Organization(org("100")), role: Role::OrgUserManager },
                Grant { scope: GrantScope::Organization(org("200")), role: Role::OrgUserManager },
            ],
            "{key:?}"
        );
        assert!(principal.may(Permission::Administer, &org("300")));
    }
}

#[tokio::test]
async fn org_roles_hold_only_in_their_organizations() {
    let verifier = fixture_verifier().await;
    let token = sign(
        TestKey::Ec,
        &claims_with(json!({"urn:zitadel:iam:org:project:roles": {
            "ORG_USER_MANAGER": {"100": "a", "200": "b"},
            "ORG_OWNER_VIEWER": {"300": "c"},
        }})),
    );
    let principal = verifier.verify(&token).await.unwrap();
    assert!(principal.may(Permission::UserWrite, &org("200")));
    assert!(principal.may(Permission::UserRead, &org("300")));
    assert!(!principal.may(Permission::UserWrite, &org("300")));
    assert!(!principal.may(Permission::UserRead, &org("400")));
}

#[tokio::test]
async fn no_roles_claim_means_no_grants_but_a_missing_org_claim_is_refused() {
    let verifier = fixture_verifier().await;
    let no_roles = sign(TestKey::Rsa, &claims_with(json!({"urn:zitadel:iam:org:project:roles": null})));
    assert_eq!(verifier.verify(&no_roles).await.unwrap().grants, vec![]);
    for org in [json!(null), json!(100), json!(""), json!(["100"])] {
        let token = sign(TestKey::Rsa, &claims_with(json!({"urn:zitadel:iam:user:resourceowner:id": org})));
        rejected(&verifier, &token, "organization claim").await;
    }
    let bad_roles = sign(TestKey::Rsa, &claims_with(json!({"urn:zitadel:iam:org:project:roles": ["IAM_OWNER"]})));
    rejected(&verifier, &bad_roles, "roles claim").await;
}

#[tokio::test]
async fn claim_names_are_configurable() {
    let settings = JwtSettings {
        org_claim: "org_id".into(),
        roles_claim: "roles".into(),
        ..settings(JwksSource::File(keys_dir().join("jwks.json")))
    };
    let verifier = JwtVerifier::new(settings).await.unwrap();
    let token = sign(
        TestKey::Ed,
        &claims_with(json!({
            "org_id": "555",
            "roles": {"ORG_OWNER": {"555": "x"}},
            // ZITADEL's names mean nothing now.
            "urn:zitadel:iam:user:resourceowner:id": "100",
            "urn:zitadel:iam:org:project:roles": {"IAM_OWNER": {"100": "a"}},
        })),
    );
    let principal = verifier.verify(&token).await.unwrap();
    assert_eq!(principal.home_org, org("555"));
    assert_eq!(principal.grants, vec![Grant { scope: GrantScope::Organization(org("555")), role: Role::OrgOwner }]);
    // The default org claim alone is not enough any more.
    rejected(&verifier, &sign(TestKey::Ed, &claims()), "organization claim \"org_id\"").await;
}

#[tokio::test]
async fn expired_tokens_are_refused_beyond_the_leeway() {
    let verifier = fixture_verifier().await;
    rejected(&verifier, &sign(TestKey::Rsa, &claims_with(json!({"exp": now() - 3600}))), "expired").await;
    rejected(&verifier, &sign(TestKey::Rsa, &claims_with(json!({"exp": now() - 45}))), "expired").await;
    rejected(&verifier, &sign(TestKey::Rsa, &claims_with(json!({"exp": null}))), "claim exp").await;
    rejected(&verifier, &sign(TestKey::Rsa, &claims_with(json!({"exp": "tomorrow"}))), "claim exp").await;
    // Within the default 30 s leeway.
    assert!(verifier.verify(&sign(TestKey::Rsa, &claims_with(json!({"exp": now() - 10})))).await.is_ok());

    let strict = JwtVerifier::new(JwtSettings {
        leeway: Duration::ZERO,
        ..settings(JwksSource::File(keys_dir().join("jwks.json")))
    })
    .await
    .unwrap();
    rejected(&strict, &sign(TestKey::Rsa, &claims_with(json!({"exp": now() - 10}))), "expired").await;
}

#[tokio::test]
async fn tokens_not_valid_yet_are_refused() {
    let verifier = fixture_verifier().await;
    rejected(&verifier, &sign(TestKey::Ec, &claims_with(json!({"nbf": now() + 600}))), "not valid yet").await;
    let nbf_string = sign(TestKey::Ec, &claims_with(json!({"nbf": (now() + 600).to_string()})));
    rejected(&verifier, &nbf_string, "nbf is not a number").await;
    assert!(verifier.verify(&sign(TestKey::Ec, &claims_with(json!({"nbf": now() - 5})))).await.is_ok());
    assert!(verifier.verify(&sign(TestKey::Ec, &claims_with(json!({"nbf": now() + 10})))).await.is_ok(), "leeway");
}

#[tokio::test]
async fn wrong_issuer_is_refused() {
    let verifier = fixture_verifier().await;
    for iss in [json!("https://evil.example"), json!("https://idp.example/"), json!("HTTPS://IDP.EXAMPLE")] {
        rejected(&verifier, &sign(TestKey::Rsa, &claims_with(json!({ "iss": iss }))), "wrong issuer").await;
    }
    for iss in [json!(null), json!(42)] {
        rejected(&verifier, &sign(TestKey::Rsa, &claims_with(json!({ "iss": iss }))), "claim iss").await;
    }
}

#[tokio::test]
async fn wrong_audience_is_refused() {
    let verifier = fixture_verifier().await;
    for aud in [json!("other-project"), json!(["other-project", "client"]), json!([])] {
        rejected(&verifier, &sign(TestKey::Ed, &claims_with(json!({ "aud": aud }))), "wrong audience").await;
    }
    rejected(&verifier, &sign(TestKey::Ed, &claims_with(json!({ "aud": null }))), "claim aud").await;
    // A single string is fine too.
    assert!(verifier.verify(&sign(TestKey::Ed, &claims_with(json!({ "aud": AUDIENCE })))).await.is_ok());
}

#[tokio::test]
async fn missing_or_empty_subject_is_refused() {
    let verifier = fixture_verifier().await;
    rejected(&verifier, &sign(TestKey::Rsa, &claims_with(json!({"sub": null}))), "claim sub").await;
    rejected(&verifier, &sign(TestKey::Rsa, &claims_with(json!({"sub": ""}))), "sub missing").await;
}

#[tokio::test]
async fn a_token_signed_by_another_key_under_a_known_kid_is_refused() {
    let verifier = fixture_verifier().await;
    rejected(&verifier, &sign_with_kid(TestKey::Rsa2, "rsa-1", &claims()), "bad signature").await;
}

#[tokio::test]
async fn a_tampered_payload_is_refused() {
    let verifier = fixture_verifier().await;
    let token = sign(TestKey::Ec, &claims());
    let parts: Vec<&str> = token.split('.').collect();
    let forged = b64(claims_with(json!({"urn:zitadel:iam:user:resourceowner:id": "999"})).to_string().as_bytes());
    rejected(&verifier, &format!("{}.{forged}.{}", parts[0], parts[2]), "bad signature").await;
}

#[tokio::test]
async fn alg_none_is_refused() {
    let verifier = fixture_verifier().await;
    let payload = b64(claims().to_string().as_bytes());
    for alg in ["none", "None", "NONE"] {
        let header = b64(json!({"alg": alg, "typ": "JWT", "kid": "rsa-1"}).to_string().as_bytes());
        // jsonwebtoken has no `none` algorithm: the header does not even decode.
        rejected(&verifier, &format!("{header}.{payload}."), "malformed").await;
        // With a signature copied from a genuine token, too.
        let genuine = sign(TestKey::Rsa, &claims());
        rejected(&verifier, &format!("{header}.{payload}.{}", genuine.rsplit('.').next().unwrap()), "malformed").await;
    }
}

#[tokio::test]
async fn hs256_with_the_public_key_as_secret_is_refused() {
    let verifier = fixture_verifier().await;
    let public_pem = read_key_file("rsa.pub.pem");
    for alg in [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512] {
        let mut header = Header::new(alg);
        header.kid = Some("rsa-1".into());
        let token = sign_as(header, &claims(), &EncodingKey::from_secret(public_pem.as_bytes()));
        rejected(&verifier, &token, &format!("algorithm {alg:?} not allowed")).await;
    }
}

#[tokio::test]
async fn a_header_algorithm_that_does_not_match_the_key_is_refused() {
    let verifier = fixture_verifier().await;
    // RS256, signed with the RSA key, but naming the EC key.
    rejected(&verifier, &sign_with_kid(TestKey::Rsa, "ec-1", &claims()), "header says RS256 but the key is for ES256")
        .await;
    // ES256 and EdDSA under another key's kid.
    rejected(&verifier, &sign_with_kid(TestKey::Ec, "rsa-1", &claims()), "header says ES256 but the key is for RS256")
        .await;
    rejected(&verifier, &sign_with_kid(TestKey::Ed, "ec-1", &claims()), "header says EdDSA but the key is for ES256")
        .await;
    // Algorithms of the RSA family the key is not for.
    for alg in [Algorithm::RS384, Algorithm::RS512, Algorithm::PS256] {
        let mut header = Header::new(alg);
        header.kid = Some("rsa-1".into());
        rejected(&verifier, &sign_as(header, &claims(), &TestKey::Rsa.encoding_key()), "not allowed").await;
    }
}

#[tokio::test]
async fn a_key_embedded_in_the_header_is_not_trusted() {
    let verifier = fixture_verifier().await;
    // Signed by rsa-2, which is not in the JWKS, carrying rsa-2's public key as `jwk`.
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some("rsa-1".into());
    header.jwk = Some(serde_json::from_value(rsa2_jwk("rsa-1")).unwrap());
    rejected(&verifier, &sign_as(header, &claims(), &TestKey::Rsa2.encoding_key()), "bad signature").await;
}

#[tokio::test]
async fn tokens_without_kid_are_refused() {
    let verifier = fixture_verifier().await;
    let header = Header::new(Algorithm::RS256);
    rejected(&verifier, &sign_as(header, &claims(), &TestKey::Rsa.encoding_key()), "no kid").await;
    rejected(&verifier, &sign_with_kid(TestKey::Rsa, "", &claims()), "no kid").await;
}

#[tokio::test]
async fn malformed_strings_are_refused() {
    let verifier = fixture_verifier().await;
    let genuine = sign(TestKey::Rsa, &claims());
    let oversized = format!("{genuine}{}", "A".repeat(onboard_jwt::MAX_TOKEN_BYTES));
    for token in [
        "",
        ".",
        "..",
        "a.b",
        "a.b.c",
        "a.b.c.d",
        "garbage",
        "Bearer x",
        "eyJhbGciOiJSUzI1NiJ9",
        "🦀.🦀.🦀",
        &format!("{genuine}.extra"),
        &genuine[..genuine.len() - 4],
        &genuine.replace('.', ".."),
        &oversized,
    ] {
        rejection_log(&verifier, token).await;
    }
    rejected(&verifier, &oversized, "longer than").await;
    // Header and payload that are base64url but not JSON objects.
    let not_json = format!("{}.{}.{}", b64(b"[1,2]"), b64(b"null"), b64(b"sig"));
    rejected(&verifier, &not_json, "malformed").await;
    let payload_not_object = format!("{}.{}.", genuine.split('.').next().unwrap(), b64(b"\"string\""));
    rejected(&verifier, &payload_not_object, "bad signature").await;
}

#[tokio::test]
async fn the_verifier_refuses_to_start_on_a_bad_key_set() {
    let missing = JwtVerifier::new(settings(JwksSource::File("/nonexistent/jwks.json".into()))).await.unwrap_err();
    assert!(missing.contains("/nonexistent/jwks.json"), "{missing}");

    let only_hmac = JwksFile::new(&json!({"keys": [{"kty": "oct", "kid": "h", "k": "c2VjcmV0"}]}).to_string());
    let error = JwtVerifier::new(settings(only_hmac.source())).await.unwrap_err();
    assert!(error.contains("no usable key"), "{error}");

    let not_json = JwksFile::new("<html>");
    assert!(JwtVerifier::new(settings(not_json.source())).await.unwrap_err().contains("not a JWK set"));

    let bad_settings =
        JwtSettings { issuer: String::new(), ..settings(JwksSource::File(keys_dir().join("jwks.json"))) };
    assert!(JwtVerifier::new(bad_settings).await.unwrap_err().contains("issuer"));
}
