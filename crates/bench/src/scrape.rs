//! Reading figures back from the server: its Prometheus text, or the mail
//! folder of the embedded mailer when metrics are off.

use std::net::SocketAddr;
use std::path::Path;

/// Sum of the samples of `name` whose label set contains `label` (e.g.
/// `outcome="sent"`; empty matches all). `None` when /metrics is not served.
pub async fn metric_sum(addr: SocketAddr, name: &str, label: &str) -> Option<f64> {
    let (status, body) = crate::load::once(addr, hyper::Method::GET, "/metrics", None, None).await.ok()?;
    (status == 200).then(|| sum_samples(&String::from_utf8_lossy(&body), name, label))
}

pub fn sum_samples(text: &str, name: &str, label: &str) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let (series, value) = l.rsplit_once(' ')?;
            let (metric, labels) = series.split_once('{').unwrap_or((series, ""));
            (metric == name && labels.contains(label)).then(|| value.parse::<f64>().ok()).flatten()
        })
        .sum()
}

/// Emails the embedded mailer wrote so far.
pub fn eml_files(data_dir: &Path) -> u64 {
    std::fs::read_dir(data_dir.join("mail"))
        .map(|dir| dir.filter_map(Result::ok).filter(|e| e.path().extension().is_some_and(|x| x == "eml")).count())
        .unwrap_or(0) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_the_matching_series_only() {
        let text = "# HELP onboard_deliveries_total x\n\
            onboard_deliveries_total{outcome=\"sent\"} 12\n\
            onboard_deliveries_total{outcome=\"superseded\"} 3\n\
            onboard_deliveries_total_other{outcome=\"sent\"} 100\n\
            onboard_outbox_depth 7\n";
        assert_eq!(sum_samples(text, "onboard_deliveries_total", "outcome=\"sent\""), 12.0);
        assert_eq!(sum_samples(text, "onboard_deliveries_total", ""), 15.0);
        assert_eq!(sum_samples(text, "onboard_outbox_depth", ""), 7.0);
    }
}
