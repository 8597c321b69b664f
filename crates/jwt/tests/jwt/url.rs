//! The JWKS fetched from a URL (a loopback HTTP server).

use std::time::Duration;

use crate::support::*;
use onboard_domain::ports::{AuthenticateError, TokenVerifier};
use onboard_jwt::{JwksSource, JwtSettings, JwtVerifier};

const INTERVAL: Duration = Duration::from_millis(1000);

fn url_settings(url: &str) -> JwtSettings {
    JwtSettings {
        refresh_min_interval: INTERVAL,
        timeout: Duration::from_secs(2),
        ..settings(JwksSource::Url(url.to_owned()))
    }
}

async fn wait_for_the_gate() {
    tokio::time::sleep(INTERVAL + Duration::from_millis(100)).await;
}

#[tokio::test]
async fn tokens_verify_with_keys_from_the_url() {
    let server = JwksServer::start(&jwks_with(&[])).await;
    let verifier = JwtVerifier::new(url_settings(&server.url)).await.unwrap();
    assert_eq!(server.hits(), 1);
    for key in [TestKey::Rsa, TestKey::Ec, TestKey::Ed] {
        verifier.verify(&sign(key, &claims())).await.unwrap();
    }
    // Known keys are served from memory.
    assert_eq!(server.hits(), 1);
    server.stop().await;
}

#[tokio::test]
async fn an_unreachable_url_at_start_is_an_error() {
    let url = unreachable_url().await;
    let error = JwtVerifier::new(url_settings(&url)).await.unwrap_err();
    assert!(error.contains("cannot load the JWKS") && error.contains(&url), "{error}");
}

#[tokio::test]
async fn https_to_a_server_that_does_not_speak_tls_is_an_error_not_a_panic() {
    // Exercises the rustls-on-ring client up to the handshake.
    let server = JwksServer::start(&jwks_with(&[])).await;
    let url = server.url.replace("http://", "https://");
    let error = JwtVerifier::new(url_settings(&url)).await.unwrap_err();
    assert!(error.contains("cannot load the JWKS"), "{error}");
    server.stop().await;
}

#[tokio::test]
async fn made_up_kids_fetch_the_keys_at_most_once_per_interval() {
    let server = JwksServer::start(&jwks_with(&[])).await;
    let verifier = JwtVerifier::new(url_settings(&server.url)).await.unwrap();
    // Signed beforehand, so the rounds below are quick next to the interval.
    let mut rounds = (0..3).map(|round| {
        (0..20).map(|i| sign_with_kid(TestKey::Ec, &format!("made-up-{round}-{i}"), &claims())).collect::<Vec<_>>()
    });
    // A burst of made-up kids, verified concurrently; all refused.
    let burst = |tokens: Vec<String>| {
        let verifier = verifier.clone();
        async move {
            let tasks: Vec<_> = tokens
                .into_iter()
                .map(|token| {
                    let verifier = verifier.clone();
                    tokio::spawn(async move { verifier.verify(&token).await })
                })
                .collect();
            for task in tasks {
                assert_eq!(task.await.unwrap(), Err(AuthenticateError::InvalidToken));
            }
        }
    };
    wait_for_the_gate().await;

    burst(rounds.next().unwrap()).await;
    assert_eq!(server.hits(), 2, "one fetch for the whole burst");
    burst(rounds.next().unwrap()).await;
    assert_eq!(server.hits(), 2, "none right after");
    wait_for_the_gate().await;
    burst(rounds.next().unwrap()).await;
    assert_eq!(server.hits(), 3, "one more once the interval is over");
    server.stop().await;
}

#[tokio::test]
async fn a_rotated_key_is_fetched_from_the_url() {
    let server = JwksServer::start(&jwks_with(&[])).await;
    let verifier = JwtVerifier::new(url_settings(&server.url)).await.unwrap();
    server.set_body(&jwks_with(&[rsa2_jwk("rsa-2")]));
    wait_for_the_gate().await;
    verifier.verify(&sign(TestKey::Rsa2, &claims())).await.unwrap();
    assert_eq!(server.hits(), 2);
    server.stop().await;
}

#[tokio::test]
async fn when_the_url_becomes_unreachable_known_keys_work_and_unknown_kids_are_unavailable() {
    let server = JwksServer::start(&jwks_with(&[])).await;
    let url = server.url.clone();
    let verifier = JwtVerifier::new(url_settings(&url)).await.unwrap();
    server.stop().await;
    wait_for_the_gate().await;

    let rotated = sign(TestKey::Rsa2, &claims());
    match verifier.verify(&rotated).await {
        Err(AuthenticateError::Unavailable(u)) => assert!(u.0.contains(&url), "{u}"),
        other => panic!("expected Unavailable, got {other:?}"),
    }
    for key in [TestKey::Rsa, TestKey::Ec, TestKey::Ed] {
        verifier.verify(&sign(key, &claims())).await.unwrap();
    }
    // Forged tokens get the same answer while the keys cannot be fetched:
    // whether their key exists cannot be told.
    let made_up = sign_with_kid(TestKey::Rsa, "made-up", &claims());
    assert!(matches!(verifier.verify(&made_up).await, Err(AuthenticateError::Unavailable(_))));
    // A token that fails before the key lookup is still simply invalid.
    rejected(&verifier, "a.b", "malformed").await;

    // The identity provider is back, with the rotated key.
    let back = JwksServer::start_at(&url, &jwks_with(&[rsa2_jwk("rsa-2")])).await;
    wait_for_the_gate().await;
    verifier.verify(&rotated).await.unwrap();
    rejected(&verifier, &made_up, "no key with this kid").await;
    back.stop().await;
}
