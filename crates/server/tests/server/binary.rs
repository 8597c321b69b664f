//! The `onboard` binary as an operator runs it.

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use crate::support::{BIN, Server};

#[test]
fn help_lists_every_setting_with_its_variable() {
    let out = Command::new(BIN).arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    for var in [
        "ONBOARD_CONFIG",
        "ONBOARD_HTTP_ADDR",
        "ONBOARD_DATA_DIR",
        "ONBOARD_EXTERNAL_URL",
        "ONBOARD_LOG",
        "ONBOARD_CODE_LENGTH",
        "ONBOARD_CODE_LIFETIME",
        "ONBOARD_CODE_MAX_ATTEMPTS",
        "ONBOARD_PASSWORD_MIN_LENGTH",
        "ONBOARD_PASSWORD_CLASSES",
        "ONBOARD_REDIS_URL",
        "ONBOARD_REDIS_CLUSTER_NODES",
        "ONBOARD_REDIS_TIMEOUT",
        "ONBOARD_OUTBOX_PARTITIONS",
        "ONBOARD_OUTBOX_RECLAIM_AFTER",
        "ONBOARD_NODE_NAME",
        "ONBOARD_METRICS",
        "ONBOARD_SENDGRID_API_KEY",
        "ONBOARD_SENDGRID_API_KEY_FILE",
        "ONBOARD_SENDGRID_BASE_URL",
        "ONBOARD_SENDGRID_TEMPLATE_ID",
        "ONBOARD_SENDGRID_BATCH",
        "ONBOARD_SENDGRID_WEBHOOK_PUBLIC_KEY",
        "ONBOARD_MAIL_TEMPLATES",
        "ONBOARD_DELIVERY_MAX_ATTEMPTS",
        "ONBOARD_DELIVERY_MAX_AGE",
        "ONBOARD_DELIVERY_RETRY_BASE",
        "ONBOARD_DELIVERY_BATCH",
        "ONBOARD_MAIL_FROM",
        "ONBOARD_SHUTDOWN_TIMEOUT",
        "ONBOARD_RESEND_COOLDOWN",
        "ONBOARD_RECIPIENT_DAILY_CAP",
        "ONBOARD_CALLER_RATE",
        "ONBOARD_CALLER_BURST",
        "ONBOARD_JWT_ISSUER",
        "ONBOARD_JWT_AUDIENCE",
        "ONBOARD_JWT_JWKS",
        "ONBOARD_JWT_ORG_CLAIM",
        "ONBOARD_JWT_ROLES_CLAIM",
    ] {
        assert!(help.contains(var), "{var} missing from --help");
    }
}

#[test]
fn a_bad_value_stops_the_start_with_one_line_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let out =
        Command::new(BIN).env("ONBOARD_DATA_DIR", dir.path()).env("ONBOARD_CODE_LIFETIME", "forever").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("ONBOARD_CODE_LIFETIME"), "{err}");
    assert!(!dir.path().join("admin.pat").exists());
}

#[test]
fn serves_writes_a_private_admin_token_and_stops_on_sigterm() {
    let mut server = Server::start(&[]);
    let second = server.stdout.next().unwrap().unwrap();
    assert!(second.contains("admin.pat"), "{second}");

    let pat = server.data.path().join("admin.pat");
    assert_eq!(std::fs::metadata(&pat).unwrap().permissions().mode() & 0o777, 0o600);
    assert!(server.admin_token().starts_with("onb_"));

    // One plain HTTP/1.1 request, to see it serve.
    let health = server.request("GET", "/healthz", "", &[], "");
    assert_eq!(health.status, 200, "{}", health.body);
    server.stop();
}
