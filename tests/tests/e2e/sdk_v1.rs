//! ZITADEL's own JavaScript clients against onboard, over gRPC and gRPC-Web:
//! the scenario in `tests/sdk/node/v1.mjs` creates, imports, resends to a
//! corrected address and reads users, lists the Initial ones, checks a user
//! name, removes a user and reads its changes, and checks every error's code and id
//! as each client reports it; here the server's state is checked against
//! what the clients were told.

use onboard_domain::Role;
use onboard_tests::TestApp;
use onboard_tests::sdk::run_node;

#[tokio::test]
async fn zitadels_javascript_clients_run_the_v1_scenario_unchanged() {
    let app = TestApp::spawn().await;
    let reader = app.token_with(&app.org, Role::OrgOwnerViewer, &app.org).await;
    let out = run_node(
        "v1.mjs",
        &[],
        &[
            ("ONBOARD_URL", &app.base),
            ("ONBOARD_TOKEN", &app.token),
            ("ONBOARD_ORG", &app.org),
            ("ONBOARD_READER_TOKEN", &reader),
        ],
    )
    .await;
    assert_eq!(out.lines.len(), 3, "one line per client: {:?}", out.lines);
    for line in &out.lines {
        let (added, imported, email) =
            (line["added"].as_str().unwrap(), line["imported"].as_str().unwrap(), line["email"].as_str().unwrap());
        let user = app.get(&format!("/management/v1/users/{added}")).await.body;
        assert_eq!(user["user"]["state"], "USER_STATE_INITIAL", "{line}");
        assert_eq!(user["user"]["human"]["email"]["email"], email, "{line}");
        // Only the corrected address gets the code that works: the resend's.
        let mails = app.wait_for_mails(email, 1).await;
        assert_eq!(mails.len(), 1, "{line}");
        let user = app.get(&format!("/management/v1/users/{imported}")).await.body;
        assert_eq!(user["user"]["state"], "USER_STATE_ACTIVE", "{line}");
    }
}
