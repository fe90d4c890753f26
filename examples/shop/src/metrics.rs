//! The shop's metrics on `/metrics`, in the Prometheus text format: the session layer records
//! through the `metrics` facade (session-runtime's feature `metrics`), and a Prometheus recorder
//! installed here keeps what it records. The exporter's own HTTP listener is off; the shop's
//! axum server answers `/metrics` with the recorder's text.
//!
//! The binary turns this on with `SHOP_METRICS=1`.

use core::time::Duration;

use axum::Router;
use axum::http::header::CONTENT_TYPE;
use axum::routing::get;
use metrics_exporter_prometheus::{BuildError, Matcher, PrometheusBuilder, PrometheusHandle};

/// The Prometheus text format's media type.
const TEXT_FORMAT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Installs a Prometheus recorder as this process's metrics recorder and returns its handle.
///
/// Install it before building the app: the layer records its key ids when it is built. Fails
/// if a recorder is already installed. Histograms get buckets: the share of the cookie budget
/// used in tenths, store latency from half a millisecond to five seconds.
pub fn install() -> Result<PrometheusHandle, BuildError> {
    PrometheusBuilder::new()
        .set_buckets_for_metric(
            Matcher::Full("session_cookie_budget_used_ratio".to_owned()),
            &[0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0],
        )?
        .set_buckets_for_metric(
            Matcher::Full("session_store_call_duration_seconds".to_owned()),
            &[
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
            ],
        )?
        .install_recorder()
}

/// `GET /metrics`: every metric recorded so far, in the Prometheus text format. Merge it into
/// the app outside the session layer, so a scrape opens no session.
pub fn routes(handle: PrometheusHandle) -> Router {
    Router::new().route(
        "/metrics",
        get(move || {
            let text = handle.render();
            async move { ([(CONTENT_TYPE, TEXT_FORMAT)], text) }
        }),
    )
}

/// Runs the recorder's upkeep (draining histogram samples into their buckets) every five
/// seconds, forever: without an HTTP listener of its own, the exporter leaves that to its user.
pub async fn upkeep(handle: PrometheusHandle) {
    let mut every = tokio::time::interval(Duration::from_secs(5));
    loop {
        every.tick().await;
        handle.run_upkeep();
    }
}
