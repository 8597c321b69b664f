//! Liveness and readiness probes.

use onboard_domain::usecases::UserService;
use poem::http::StatusCode;
use poem::web::{Data, Json};
use poem::{IntoResponse, Response, handler};
use serde_json::json;

/// The process is alive and serving.
#[handler]
pub fn healthz() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

/// The adapters answer: 200 when ready, 503 when not.
#[handler]
pub async fn readyz(Data(users): Data<&UserService>) -> Response {
    if users.ready().await {
        Json(json!({ "status": "ready" })).into_response()
    } else {
        let mut resp = Json(json!({ "status": "not ready" })).into_response();
        resp.set_status(StatusCode::SERVICE_UNAVAILABLE);
        resp
    }
}
