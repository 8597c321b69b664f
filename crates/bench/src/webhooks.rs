//! Webhook events per second to a receiver on loopback: `n` users are
//! created through the store (each write records `invitation.created`),
//! then the webhook dispatcher fans them out to one endpoint and posts them
//! (signed, over keep-alive HTTP/1.1) to a receiver that answers 204 at
//! once; the clock runs from the first fan-out to the last 204.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use onboard_domain::ports::{HookDeliveries, HookQueue, UserRepository, WebhookEndpoints};
use onboard_domain::usecases::{Administration, WebhookConfig, WebhookDispatcher};
use onboard_domain::{Principal, SystemClock};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A receiver that answers every request 204, counting them.
async fn receiver() -> Result<(u16, Arc<AtomicUsize>), String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.map_err(|e| e.to_string())?;
    let port = listener.local_addr().map_err(|e| e.to_string())?.port();
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    tokio::spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            let seen = seen.clone();
            tokio::spawn(async move {
                let mut buf = Vec::with_capacity(8192);
                let mut chunk = [0u8; 8192];
                loop {
                    // One request: headers, then content-length bytes of body.
                    let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
                        match conn.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                        continue;
                    };
                    let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
                    let length: usize = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse().ok())
                        .unwrap_or(0);
                    while buf.len() < end + 4 + length {
                        match conn.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    }
                    buf.drain(..end + 4 + length);
                    seen.fetch_add(1, Ordering::Relaxed);
                    if conn.write_all(b"HTTP/1.1 204 No Content\r\n\r\n").await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    Ok((port, count))
}

/// The stores one run uses.
pub struct HookStores {
    pub users: Arc<dyn UserRepository>,
    pub queue: Arc<dyn HookQueue>,
    pub deliveries: Arc<dyn HookDeliveries>,
    pub endpoints: Arc<dyn WebhookEndpoints>,
    pub directory: Arc<dyn onboard_domain::ports::Directory>,
}

/// Events per second for `n` events to one endpoint.
pub async fn events_per_second(stores: HookStores, n: usize) -> Result<f64, String> {
    let (port, received) = receiver().await?;
    let admin =
        Administration::new(stores.directory.clone(), Arc::new(SystemClock)).with_webhooks(stores.endpoints.clone());
    let op = Principal::local_operator();
    let org = admin.create_organization(&op, "Bench").await.map_err(|e| e.to_string())?;
    let endpoint = admin
        .create_webhook(&op, &org, &format!("http://127.0.0.1:{port}/hooks"), &["invitation.created".into()])
        .await
        .map_err(|e| e.to_string())?
        .endpoint;
    for i in 0..n {
        let (_, write) = onboard_domain::testkit::new_user(&org, &format!("hook{i}"));
        stores.users.save(write).await.map_err(|e| e.to_string())?;
    }
    let sender = onboard_webhooks::WebhookSender::new(onboard_webhooks::SenderSettings {
        timeout: Duration::from_secs(10),
        allow_private: true,
    })?;
    let config = WebhookConfig { batch: 500, ..WebhookConfig::default() };
    let dispatcher = WebhookDispatcher::new(
        stores.queue,
        stores.deliveries,
        stores.endpoints,
        stores.users,
        Arc::new(sender),
        Arc::new(SystemClock),
        config,
        "bench",
    );
    let started = Instant::now();
    let deadline = started + Duration::from_secs(120);
    let fan = dispatcher.clone();
    let fanning = tokio::spawn(async move {
        loop {
            let mut added = 0;
            for p in 0..fan.partitions() {
                added += fan.fan_out(p).await.map_err(|e| e.to_string())?;
            }
            if added == 0 {
                return Ok::<_, String>(());
            }
        }
    });
    while received.load(Ordering::Relaxed) < n {
        if Instant::now() > deadline {
            return Err(format!("{} of {n} events arrived within 120 s", received.load(Ordering::Relaxed)));
        }
        let (round, _) = dispatcher.deliver(&endpoint.id).await.map_err(|e| e.to_string())?;
        if round.delivered == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    let elapsed = started.elapsed();
    fanning.await.map_err(|e| e.to_string())??;
    Ok(n as f64 / elapsed.as_secs_f64())
}
