//! Key rotation and withdrawal with a JWKS file: when the key set is read again, and how often.

use std::time::{Duration, Instant};

use crate::support::*;
use onboard_domain::ports::{AuthenticateError, TokenVerifier};
use onboard_jwt::{JwtSettings, JwtVerifier};

const INTERVAL: Duration = Duration::from_millis(800);

async fn verifier(file: &JwksFile) -> JwtVerifier {
    JwtVerifier::new(JwtSettings { refresh_min_interval: INTERVAL, ..settings(file.source()) }).await.unwrap()
}

/// Past the refresh gate (the load at start counts as a fetch).
async fn wait_for_the_gate() {
    tokio::time::sleep(INTERVAL + Duration::from_millis(100)).await;
}

#[tokio::test]
async fn a_new_kid_makes_the_file_read_again_at_most_once_per_interval() {
    let file = JwksFile::new(&jwks_with(&[]));
    let verifier = verifier(&file).await;
    let rotated = sign(TestKey::Rsa2, &claims());
    let newer = sign_with_kid(TestKey::Rsa2, "rsa-3", &claims());
    rejected(&verifier, &rotated, "no key with this kid").await;

    // The identity provider rotates: the new key is in the file.
    file.write(&jwks_with(&[rsa2_jwk("rsa-2")]));
    wait_for_the_gate().await;
    let principal = verifier.verify(&rotated).await.unwrap();
    assert_eq!(principal.subject, "jwt:https://idp.example#user-7");
    // The old keys are still listed, so still accepted.
    verifier.verify(&sign(TestKey::Ec, &claims())).await.unwrap();

    // Another key right after: the gate is closed, the file is not read.
    file.write(&jwks_with(&[rsa2_jwk("rsa-2"), rsa2_jwk("rsa-3")]));
    rejected(&verifier, &newer, "no key with this kid").await;
    wait_for_the_gate().await;
    verifier.verify(&newer).await.unwrap();
}

#[tokio::test]
async fn a_key_withdrawn_from_the_set_stops_being_accepted_once_the_set_is_old() {
    let file = JwksFile::new(&jwks_with(&[rsa2_jwk("rsa-2")]));
    let settings = JwtSettings {
        refresh_min_interval: Duration::from_millis(100),
        max_key_age: Duration::from_millis(300),
        ..settings(file.source())
    };
    let verifier = JwtVerifier::new(settings).await.unwrap();
    let token = sign(TestKey::Rsa2, &claims());
    verifier.verify(&token).await.unwrap();

    file.write(&jwks_with(&[]));
    tokio::time::sleep(Duration::from_millis(400)).await;
    // The set is stale: the next verification starts a fetch in the
    // background and goes on with the keys it has; soon after, the key is gone.
    let deadline = Instant::now() + Duration::from_secs(5);
    while verifier.verify(&token).await.is_ok() {
        assert!(Instant::now() < deadline, "the withdrawn key is still accepted");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    rejected(&verifier, &token, "no key with this kid").await;
    verifier.verify(&sign(TestKey::Rsa, &claims())).await.unwrap();
}

#[tokio::test]
async fn when_the_file_cannot_be_read_known_keys_keep_working_and_unknown_kids_are_unavailable() {
    let file = JwksFile::new(&jwks_with(&[]));
    let verifier = verifier(&file).await;

    // Half-deployed: not JSON. The keys in memory stay.
    file.write("{\"keys\": [");
    wait_for_the_gate().await;
    let unknown = sign(TestKey::Rsa2, &claims());
    assert!(matches!(verifier.verify(&unknown).await, Err(AuthenticateError::Unavailable(_))));
    verifier.verify(&sign(TestKey::Ed, &claims())).await.unwrap();
    // While the gate is closed, still unavailable: the last fetch failed.
    assert!(matches!(verifier.verify(&unknown).await, Err(AuthenticateError::Unavailable(_))));

    // A set without usable keys is no better: it does not replace the keys in memory.
    file.write(r#"{"keys": [{"kty": "oct", "kid": "h", "k": "c2VjcmV0"}]}"#);
    wait_for_the_gate().await;
    match verifier.verify(&unknown).await {
        Err(AuthenticateError::Unavailable(u)) => assert!(u.0.contains("no usable key"), "{u}"),
        other => panic!("{other:?}"),
    }
    verifier.verify(&sign(TestKey::Rsa, &claims())).await.unwrap();

    // Gone altogether.
    std::fs::remove_file(&file.path).unwrap();
    wait_for_the_gate().await;
    assert!(matches!(verifier.verify(&unknown).await, Err(AuthenticateError::Unavailable(_))));
    verifier.verify(&sign(TestKey::Ec, &claims())).await.unwrap();

    // Back, with the new key: accepted once the gate opens.
    file.write(&jwks_with(&[rsa2_jwk("rsa-2")]));
    wait_for_the_gate().await;
    verifier.verify(&unknown).await.unwrap();
}
