//! ZITADEL's Python SDK (`zitadel-client`, pinned in
//! `tests/sdk/python/requirements.txt`) against onboard over Connect: the
//! scenario in `tests/sdk/python/v2.py` runs the v2 invitation returned and
//! mailed (reading the link from the delivered email), resends, wrong,
//! expired and used codes, lists Initial users, deletes one, and checks every
//! error's id as the SDK reports it; here the server's state is checked
//! against what the SDK was told.

use std::time::Duration;

use onboard_tests::TestApp;
use onboard_tests::sdk::run_python;

#[tokio::test]
async fn zitadels_python_sdk_runs_the_v2_invitation() {
    let app = TestApp::spawn().await;
    let short = TestApp::spawn_with(|c| c.code_lifetime = Duration::from_secs(1)).await;
    let mail_dir = app.mail_dir.to_string_lossy().into_owned();
    let out = run_python(
        "v2.py",
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
    let [line] = out.lines.as_slice() else { panic!("one line: {:?}", out.lines) };
    for key in ["returned", "templated"] {
        let id = line[key].as_str().unwrap();
        let user = app.get(&format!("/management/v1/users/{id}")).await.body;
        assert_eq!(user["user"]["state"], "USER_STATE_ACTIVE", "{key}: {user}");
        assert_eq!(user["user"]["human"]["email"]["isEmailVerified"], true, "{key}");
    }
    let returned = line["returned_email"].as_str().unwrap();
    assert!(app.mails().iter().all(|m| m.to != returned), "a returned code was mailed");
    let deleted = line["deleted"].as_str().unwrap();
    app.get(&format!("/v2/users/{deleted}")).await.assert_error(404, 5, "QUERY-Dfbg2");
    let waiting = line["waiting"].as_str().unwrap();
    assert_eq!(app.get(&format!("/v2/users/{waiting}")).await.body["user"]["state"], "USER_STATE_INITIAL");
    let expiring = line["expiring"].as_str().unwrap();
    let user = short.get(&format!("/v2/users/{expiring}")).await.body;
    assert_eq!(user["user"]["state"], "USER_STATE_INITIAL", "{user}");
}
