//! ZITADEL's TypeScript client (`@zitadel/client` 1.3.1) against onboard's
//! v2 User Service over both of its transports (gRPC from its `node` entry,
//! gRPC-Web from its `web` entry): the scenario in `tests/sdk/node/v2.mjs`
//! runs the returned and the mailed invitation, resends, wrong, expired and
//! used codes and the errors with their ids; here the server's state is
//! checked against what the clients were told.

use std::time::Duration;

use onboard_tests::TestApp;
use onboard_tests::sdk::run_node;

#[tokio::test]
async fn zitadels_typescript_client_runs_the_v2_invitation_over_both_transports() {
    let app = TestApp::spawn().await;
    let short = TestApp::spawn_with(|c| c.code_lifetime = Duration::from_secs(1)).await;
    let mail_dir = app.mail_dir.to_string_lossy().into_owned();
    let out = run_node(
        "v2.mjs",
        &[],
        &[
            ("ONBOARD_URL", &app.base),
            ("ONBOARD_TOKEN", &app.token),
            ("ONBOARD_ORG", &app.org),
            ("ONBOARD_MAIL_DIR", &mail_dir),
            ("ONBOARD_SHORT_URL", &short.base),
            ("ONBOARD_SHORT_TOKEN", &short.token),
            ("ONBOARD_SHORT_ORG", &short.org),
        ],
    )
    .await;
    assert_eq!(out.lines.len(), 2, "one line per transport: {:?}", out.lines);
    for line in &out.lines {
        for key in ["returned", "templated"] {
            let id = line[key].as_str().unwrap();
            let user = app.get(&format!("/management/v1/users/{id}")).await.body;
            assert_eq!(user["user"]["state"], "USER_STATE_ACTIVE", "{line} {key}: {user}");
        }
        let deleted = line["deleted"].as_str().unwrap();
        app.get(&format!("/v2/users/{deleted}")).await.assert_error(404, 5, "QUERY-Dfbg2");
        let returned = line["returned_email"].as_str().unwrap();
        assert!(app.mails().iter().all(|m| m.to != returned), "a returned code was mailed: {line}");
    }
}
