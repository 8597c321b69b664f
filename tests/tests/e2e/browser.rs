//! The init page in a real browser: headless Chromium driven over
//! chromedriver, which the test starts itself on a free loopback port.
//! Each step leaves a screenshot in `target/screenshots/`.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use onboard_tests::{TestApp, free_port};

/// The whole scenario must finish in this time.
const BUDGET: Duration = Duration::from_secs(180);
const GOOD: &str = "Good-passw0rd";

/// chromedriver, stopped when dropped.
struct Driver {
    child: Child,
    url: String,
    _profile: tempfile::TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn on_path(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")
        .and_then(|paths| std::env::split_paths(&paths).map(|dir| dir.join(program)).find(|p| p.is_file()))
}

async fn start_driver() -> Driver {
    let missing = "the browser test needs `chromedriver` and `chromium` on PATH: \
                   apt-get install -y chromium chromium-driver (.ci/run installs them)";
    let chromedriver = on_path("chromedriver").expect(missing);
    on_path("chromium").expect(missing);
    let port = free_port();
    let child = Command::new(chromedriver)
        .arg(format!("--port={port}"))
        .arg("--allowed-ips=127.0.0.1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let driver =
        Driver { child, url: format!("http://127.0.0.1:{port}"), _profile: tempfile::tempdir().expect("profile dir") };
    let probe = reqwest::Client::new();
    for _ in 0..100 {
        if probe.get(format!("{}/status", driver.url)).send().await.is_ok_and(|r| r.status().is_success()) {
            return driver;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not answer on port {port}");
}

async fn browser(driver: &Driver) -> Client {
    // Headless as root on a machine without outside network: no sandbox,
    // nothing in the background that would try to reach the internet.
    let args = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-proxy-server",
        "--lang=en-US",
        "--window-size=1280,900",
        &format!("--user-data-dir={}", driver._profile.path().display()),
    ];
    let mut caps = serde_json::Map::new();
    caps.insert("goog:chromeOptions".into(), serde_json::json!({ "args": args, "binary": on_path("chromium") }));
    ClientBuilder::new(HttpConnector::new()).capabilities(caps).connect(&driver.url).await.expect("a browser session")
}

fn screenshot_dir() -> PathBuf {
    // CARGO_TARGET_TMPDIR is `<target>/tmp`.
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).parent().expect("target dir").join("screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    dir
}

async fn snap(client: &Client, name: &str) {
    let png = client.screenshot().await.expect("screenshot");
    std::fs::write(screenshot_dir().join(format!("{name}.png")), png).expect("screenshot written");
}

async fn field(client: &Client, css: &str) -> Element {
    client.wait().at_most(Duration::from_secs(10)).for_element(Locator::Css(css)).await.expect(css)
}

async fn fill(client: &Client, css: &str, text: &str) {
    let input = field(client, css).await;
    input.clear().await.expect("cleared");
    input.send_keys(text).await.expect("typed");
}

async fn submit(client: &Client, code: &str, password: &str, confirm: &str) {
    fill(client, "#code", code).await;
    fill(client, "#password", password).await;
    fill(client, "#passwordConfirm", confirm).await;
    field(client, "button[type=submit]").await.click().await.expect("submitted");
}

async fn text_of(client: &Client, css: &str) -> String {
    field(client, css).await.text().await.expect("text")
}

/// The first user's whole journey on a desktop-sized window.
async fn desktop_journey(client: &Client, app: &TestApp) {
    let id = app.create_user("browser", "browser@example.com").await;
    let mail = app.wait_for_mails("browser@example.com", 1).await.remove(0);

    client.goto(&mail.link).await.expect("link opened");
    let code = field(client, "#code").await;
    let url = client.current_url().await.unwrap();
    assert!(!url.as_str().contains("code="), "the code left the URL: {url}");
    assert_eq!(code.prop("value").await.unwrap().as_deref(), Some(mail.code.as_str()), "code prefilled");
    assert!(text_of(client, "#password-rules").await.contains("an upper-case letter"));
    snap(client, "01-form-desktop").await;

    submit(client, "WRONG1", GOOD, GOOD).await;
    assert_eq!(text_of(client, "#code-error").await, "The code is wrong. 4 attempts left.");
    let described = field(client, "#code").await.attr("aria-describedby").await.unwrap();
    assert_eq!(described.as_deref(), Some("code-hint code-error"));
    snap(client, "02-wrong-code-desktop").await;

    submit(client, &mail.code, "no-upper-case-1", "no-upper-case-1").await;
    assert_eq!(text_of(client, "#password-error").await, "The password must contain an upper-case letter.");
    snap(client, "03-policy-error-desktop").await;

    submit(client, &mail.code, GOOD, GOOD).await;
    assert!(text_of(client, ".success").await.contains("Your account is ready."));
    assert!(client.current_url().await.unwrap().path().ends_with("/ui/login/user/init/done"));
    snap(client, "04-done-desktop").await;

    let user = app.get(&format!("/management/v1/users/{id}")).await;
    assert_eq!(user.body["user"]["state"], "USER_STATE_ACTIVE");
}

/// A second user on a phone-sized window, in German.
async fn phone_journey(client: &Client, app: &TestApp) {
    client.set_window_size(390, 844).await.expect("phone-sized window");
    let r = app
        .post(
            "/management/v1/users/human",
            serde_json::json!({
                "userName": "handy",
                "profile": {"firstName": "Hanna", "lastName": "Dy", "preferredLanguage": "de"},
                "email": {"email": "handy@example.com"},
            }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let mail = app.wait_for_mails("handy@example.com", 1).await.remove(0);
    client.goto(&mail.link).await.expect("link opened");
    field(client, "#code").await;
    snap(client, "05-form-phone-de").await;
    submit(client, &mail.code, GOOD, "Other-passw0rd").await;
    assert_eq!(text_of(client, "#passwordConfirm-error").await, "Die Passwörter stimmen nicht überein.");
    snap(client, "06-mismatch-phone-de").await;
    client.goto(&app.url("/ui/login/user/init?userID=nobody")).await.unwrap();
    assert!(text_of(client, ".alert").await.contains("This initialization link is not valid."));
    snap(client, "07-invalid-link-phone").await;
}

/// A newcomer reads the email in the development mailbox and follows its
/// link to a finished initialization.
async fn mailbox_journey(client: &Client, app: &TestApp) {
    client.set_window_size(1280, 900).await.expect("desktop-sized window");
    app.create_user("mailbox", "mailbox@example.com").await;
    let mail = app.wait_for_mails("mailbox@example.com", 1).await.remove(0);
    client.goto(&app.url("/_dev/mail/")).await.expect("mailbox opened");
    let row = field(client, &format!("a[href='/_dev/mail/{}']", mail.file)).await;
    assert_eq!(row.text().await.unwrap(), "Test User <mailbox@example.com>");
    snap(client, "08-mailbox-list").await;
    row.click().await.expect("email opened");
    field(client, "iframe").await;
    snap(client, "09-mailbox-email").await;
    // The email's own button, inside the sandboxed frame, leads to the page.
    let frame = field(client, "iframe").await;
    frame.enter_frame().await.expect("into the email");
    field(client, "a[href*='/ui/login/user/init']").await.click().await.expect("link followed");
    // The link opened in the whole window; the frame is gone.
    client.enter_parent_frame().await.expect("back to the window");
    let code = field(client, "#code").await;
    assert_eq!(code.prop("value").await.unwrap().as_deref(), Some(mail.code.as_str()), "code carried");
    fill(client, "#password", GOOD).await;
    fill(client, "#passwordConfirm", GOOD).await;
    field(client, "button[type=submit]").await.click().await.expect("submitted");
    assert!(text_of(client, ".success").await.contains("Your account is ready."));
    snap(client, "10-mailbox-done").await;
}

/// Whether the image `css` finds was loaded and drawn (CSP let it in).
async fn image_shown(client: &Client, css: &str) -> bool {
    let script = format!("const i = document.querySelector({css:?}); return !!i && i.complete && i.naturalWidth > 0;");
    client.execute(&script, vec![]).await.expect("script ran").as_bool().unwrap_or(false)
}

/// The computed `property` of the element `css` finds.
async fn computed(client: &Client, css: &str, property: &str) -> String {
    let script = format!("return getComputedStyle(document.querySelector({css:?})).getPropertyValue({property:?});");
    client.execute(&script, vec![]).await.expect("script ran").as_str().unwrap_or_default().to_owned()
}

/// A user of a branded organization: the email in the mailbox and the page
/// wear its logo, colours and name.
async fn branded_journey(client: &Client, app: &TestApp) {
    client.set_window_size(1280, 900).await.expect("desktop-sized window");
    let org = app.create_org("Acme").await;
    crate::branding::brand_as_acme(app, &org).await;
    crate::branding::create_user_in(app, &org, "branded", "branded@acme.example").await;
    let mail = app.wait_for_mails("branded@acme.example", 1).await.remove(0);
    assert_eq!(mail.subject, "Your Acme Corporation account");

    client.goto(&app.url(&format!("/_dev/mail/{}", mail.file))).await.expect("email opened");
    let frame = field(client, "iframe").await;
    snap(client, "11-branded-email").await;
    frame.enter_frame().await.expect("into the email");
    assert!(image_shown(client, "img").await, "the logo shows in the email");
    assert_eq!(computed(client, "body", "background-color").await, "rgb(255, 251, 254)");
    let button = "a[href*='/ui/login/user/init']";
    assert_eq!(computed(client, button, "background-color").await, "rgb(179, 38, 30)");
    client.enter_parent_frame().await.expect("back to the window");

    client.goto(&mail.link).await.expect("link opened");
    field(client, "#code").await;
    assert_eq!(text_of(client, ".org").await.to_lowercase(), "acme corporation");
    assert!(image_shown(client, "img.logo").await, "the logo shows on the page");
    assert_eq!(computed(client, "body", "background-color").await, "rgb(255, 251, 254)");
    assert_eq!(computed(client, "button[type=submit]", "background-color").await, "rgb(179, 38, 30)");
    assert_eq!(computed(client, "button[type=submit]", "color").await, "rgb(255, 255, 255)");
    assert_eq!(text_of(client, ".help").await, "Questions? Call the Acme desk on 555 0100.");
    snap(client, "12-branded-page").await;
    fill(client, "#password", GOOD).await;
    fill(client, "#passwordConfirm", GOOD).await;
    field(client, "button[type=submit]").await.click().await.expect("submitted");
    assert!(text_of(client, ".success").await.contains("Your account is ready."));
    assert!(image_shown(client, "img.logo").await);
    snap(client, "13-branded-done").await;
}

/// A user opens an earlier email after a resend: the page names the newer
/// email, sends a new link on request, and that link finishes the set-up.
async fn renewal_journey(client: &Client, app: &TestApp) {
    client.set_window_size(1280, 900).await.expect("desktop-sized window");
    // After success the page returns to the organization's application: here a page of the server itself.
    let back = app.url("/_dev/mail/");
    let path = format!("/admin/v1/orgs/{}/completion_url", app.org);
    let r =
        app.call(reqwest::Method::PUT, &path, Some(&app.token), None, Some(serde_json::json!({ "url": back }))).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let id = app.create_user("renewal", "renewal@example.com").await;
    let first = app.wait_for_mails("renewal@example.com", 1).await.remove(0);
    let r = app.post(&format!("/management/v1/users/{id}/_resend_initialization"), serde_json::json!({})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    app.wait_for_mails("renewal@example.com", 2).await;

    client.goto(&first.link).await.expect("earlier link opened");
    let said = text_of(client, ".alert").await;
    assert!(said.starts_with("A newer email was sent to you on "), "{said}");
    assert!(said.ends_with("; use the link in that one."), "{said}");
    assert_eq!(text_of(client, "h1").await, "A newer email was sent");
    snap(client, "14-superseded").await;

    field(client, "form.renew button").await.click().await.expect("renewal asked for");
    assert!(text_of(client, ".success").await.contains("it is on its way to the email address on file"));
    assert!(client.current_url().await.unwrap().path().ends_with("/ui/login/user/init/renew"));
    snap(client, "15-renewal-requested").await;

    let third = app.wait_for_mails("renewal@example.com", 3).await.pop().unwrap();
    client.goto(&app.url(&format!("/_dev/mail/{}", third.file))).await.expect("new email opened");
    let frame = field(client, "iframe").await;
    snap(client, "16-renewal-email").await;
    frame.enter_frame().await.expect("into the email");
    field(client, "a[href*='/ui/login/user/init']").await.click().await.expect("new link followed");
    client.enter_parent_frame().await.expect("back to the window");
    let code = field(client, "#code").await;
    assert_eq!(code.prop("value").await.unwrap().as_deref(), Some(third.code.as_str()), "the new code carried");
    fill(client, "#password", GOOD).await;
    fill(client, "#passwordConfirm", GOOD).await;
    field(client, "button[type=submit]").await.click().await.expect("submitted");
    assert!(text_of(client, ".success").await.contains("Your account is ready."));
    assert_eq!(text_of(client, "#return").await, "Back to the application");
    snap(client, "17-renewal-done").await;
    // No script: the meta refresh takes the browser back after a few seconds.
    let mut returned = false;
    for _ in 0..100 {
        if client.current_url().await.unwrap().as_str() == back {
            returned = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(returned, "the page returned to {back}");
    snap(client, "18-returned-to-the-application").await;
    let user = app.get(&format!("/management/v1/users/{id}")).await;
    assert_eq!(user.body["user"]["state"], "USER_STATE_ACTIVE");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_user_sets_up_the_account_in_a_real_browser() {
    let driver = start_driver().await;
    let app = TestApp::spawn().await;
    let client = browser(&driver).await;
    // Run the steps apart so the browser is closed even when one fails.
    let steps = {
        let (client, app) = (client.clone(), std::sync::Arc::new(app));
        let app2 = app.clone();
        let run = tokio::spawn(async move {
            tokio::time::timeout(BUDGET, async {
                desktop_journey(&client, &app2).await;
                phone_journey(&client, &app2).await;
                mailbox_journey(&client, &app2).await;
                branded_journey(&client, &app2).await;
                renewal_journey(&client, &app2).await;
            })
            .await
            .expect("the browser scenario finished in time");
        });
        (run.await, app)
    };
    let (result, app) = steps;
    client.close().await.expect("browser closed");
    if let Err(e) = result {
        std::panic::resume_unwind(e.into_panic());
    }
    if let Ok(app) = std::sync::Arc::try_unwrap(app) {
        app.stop().await;
    }
}
