//! `/metrics` serves Prometheus text, and requests are counted by route
//! pattern (never by raw path) and status.

use std::sync::Arc;

use onboard_domain::usecases::{TokenAuthorizer, UserService};
use onboard_domain::{CodeIssuer, CodeSecret, InitCodeConfig, PasswordPolicy, SystemClock};
use onboard_memory::{InMemoryDirectory, InMemoryStore};
use poem::{Endpoint, Request};

fn users() -> UserService {
    let authorizer = Arc::new(TokenAuthorizer::new(Arc::new(InMemoryDirectory::new()), Arc::new(SystemClock)));
    let codes = CodeIssuer::new(CodeSecret::new(vec![7; 32]).unwrap(), InitCodeConfig::default());
    let store = Arc::new(InMemoryStore::new());
    UserService::new(store.clone(), store, authorizer, Arc::new(SystemClock), codes, PasswordPolicy::default())
}

async fn get(app: &impl Endpoint, path: &str) -> (u16, String, String) {
    let resp = app.get_response(Request::builder().uri(path.parse().unwrap()).finish()).await;
    let status = resp.status().as_u16();
    let content_type = resp.content_type().unwrap_or_default().to_owned();
    (status, content_type, resp.into_body().into_string().await.unwrap())
}

/// The value of the one sample line starting with `series`, 0 when absent.
fn sample(text: &str, series: &str) -> f64 {
    text.lines().find_map(|l| l.strip_prefix(series)).map_or(0.0, |v| v.trim().parse().unwrap())
}

#[tokio::test]
async fn serves_prometheus_text_with_requests_counted_by_route_and_code() {
    let app = onboard_api::app(users());
    assert_eq!(get(&app, "/metrics").await.0, 404, "nothing is served before metrics are installed");

    onboard_api::metrics::install(Some(Arc::new(InMemoryStore::new()))).unwrap();
    let healthz = r#"onboard_http_requests_total{route="/healthz",method="GET",code="200"}"#;
    let (status, content_type, before) = get(&app, "/metrics").await;
    assert_eq!(status, 200);
    assert!(content_type.starts_with("text/plain; version=0.0.4"), "{content_type}");

    for _ in 0..3 {
        assert_eq!(get(&app, "/healthz").await.0, 200);
    }
    // A user id is labelled by the route's pattern (poem-openapi names its parameters param0…), not the id.
    assert_eq!(get(&app, "/management/v1/users/12345").await.0, 401);

    let (_, _, after) = get(&app, "/metrics").await;
    assert_eq!(sample(&after, healthz) - sample(&before, healthz), 3.0, "{after}");
    assert!(after.contains(r#"route="/management/v1/users/:param0",method="GET",code="401""#), "{after}");
    assert!(!after.contains("12345"), "raw paths must not become labels: {after}");
    assert!(
        after.contains("onboard_http_request_duration_seconds_bucket{route=\"/healthz\",method=\"GET\",le=\"0.001\"}")
    );
    assert!(after.contains("onboard_outbox_depth 0"), "{after}");

    // The invitation gauges hold the last statistics computed for an organization.
    use onboard_domain::usecases::{FunnelStep, InvitationStats};
    use onboard_domain::{DeliveryState, InvitationState};
    let step =
        |count, secs: Option<u64>| FunnelStep { count, median_from_previous: secs.map(std::time::Duration::from_secs) };
    let stats = InvitationStats {
        waiting: 3,
        completed: 1,
        withdrawn: 0,
        by_state: vec![(InvitationState::Pending, 3), (InvitationState::Completed, 1)],
        by_delivery: vec![(DeliveryState::Bounced, 2)],
        created: step(4, None),
        delivered: step(2, Some(30)),
        opened: step(1, Some(90)),
        finished: step(1, Some(600)),
    };
    onboard_api::metrics::record_invitation_stats("org-1", &stats);
    let (_, _, text) = get(&app, "/metrics").await;
    assert_eq!(sample(&text, r#"onboard_invitations{org="org-1",state="pending"}"#), 3.0, "{text}");
    assert_eq!(sample(&text, r#"onboard_invitation_deliveries{org="org-1",delivery="bounced"}"#), 2.0, "{text}");
    assert_eq!(sample(&text, r#"onboard_invitation_funnel{org="org-1",step="delivered"}"#), 2.0, "{text}");
    assert_eq!(sample(&text, r#"onboard_invitation_funnel_median_seconds{org="org-1",step="completed"}"#), 600.0);
    // Everyone resent: the bounced count is gone from the answer, and its gauge says 0, not the old 2.
    let resent = InvitationStats { by_delivery: vec![(DeliveryState::Queued, 3)], ..stats };
    onboard_api::metrics::record_invitation_stats("org-1", &resent);
    let (_, _, text) = get(&app, "/metrics").await;
    assert_eq!(sample(&text, r#"onboard_invitation_deliveries{org="org-1",delivery="bounced"}"#), 0.0, "{text}");
    assert_eq!(sample(&text, r#"onboard_invitation_deliveries{org="org-1",delivery="queued"}"#), 3.0, "{text}");
}
