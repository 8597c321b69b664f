//! Filling the server with Initial users over its API, as a back office
//! would: the creation use case runs for every user (and mails each one).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Request;

/// Creates `n` users named `bench<i>` over `connections` keep-alive
/// connections; returns their ids. Stops at the first failed creation.
pub async fn users_over_http(
    addr: SocketAddr,
    token: &str,
    n: usize,
    connections: usize,
) -> Result<Vec<String>, String> {
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..connections {
        let (next, token) = (next.clone(), token.to_owned());
        tasks.spawn(async move {
            let mut sender = crate::load::open(addr).await.map_err(|e| e.to_string())?;
            let mut ids = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    return Ok::<_, String>(ids);
                }
                let body = format!(
                    r#"{{"userName":"bench{i}","profile":{{"firstName":"Bench","lastName":"User{i}"}},"email":{{"email":"bench{i}@example.com"}}}}"#
                );
                let req = Request::builder()
                    .method("POST")
                    .uri("/management/v1/users/human")
                    .header("host", addr.to_string())
                    .header("authorization", format!("Bearer {token}"))
                    .header("content-type", "application/json")
                    .body(Full::new(Bytes::from(body)))
                    .map_err(|e| e.to_string())?;
                let resp = sender.send_request(req).await.map_err(|e| format!("create user {i}: {e}"))?;
                let status = resp.status();
                let bytes = resp.into_body().collect().await.map_err(|e| e.to_string())?.to_bytes();
                if !status.is_success() {
                    return Err(format!("create user {i}: {status} {}", String::from_utf8_lossy(&bytes)));
                }
                let answer: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
                let id = answer["userId"].as_str().ok_or("creation answer without userId")?;
                ids.push(id.to_owned());
            }
        });
    }
    let mut all = Vec::with_capacity(n);
    while let Some(done) = tasks.join_next().await {
        all.extend(done.map_err(|e| e.to_string())??);
    }
    Ok(all)
}
