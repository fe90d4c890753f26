//! The example shop's `/metrics` (`SHOP_METRICS=1` in the binary): after real traffic over
//! HTTP, it answers the Prometheus text format with the documented metric names. Its own test
//! binary, as it installs the process's one metrics recorder.

use example_shop::metrics;
use reqwest::header::CONTENT_TYPE;
use reqwest::{Client, StatusCode};
use session_tests::{CookieJar, at, base, key, serve, set_cookies};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shop_serves_its_session_metrics_as_prometheus_text() {
    let handle = metrics::install().expect("the only recorder of this test binary");
    let app = example_shop::app(session_runtime::Keys::new(key(7))).merge(metrics::routes(handle));
    let (addr, _server) = serve(app).await;
    let base = base(addr);
    // Each response's cookies are read before its redirect.
    let client = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");

    // Log in, add to the cart, then send a tampered cookie.
    let mut jar = CookieJar::default();
    for (path, form) in [
        ("login", vec![("name", "alice")]),
        ("cart/add", vec![("sku", "1"), ("count", "2")]),
    ] {
        let response = client
            .post(at(&base, path))
            .header(reqwest::header::COOKIE, jar.header())
            .form(&form)
            .send()
            .await
            .expect("request");
        assert!(
            response.status().is_redirection(),
            "{path}: {}",
            response.status()
        );
        jar.apply(&set_cookies(&response));
    }
    jar.tamper(example_shop::COOKIE);
    let response = client
        .get(at(&base, ""))
        .header(reqwest::header::COOKIE, jar.header())
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::OK);

    let response = client
        .get(at(&base, "metrics"))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::OK);
    let content_type = response.headers()[CONTENT_TYPE]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    let text = response.text().await.expect("body");
    for line in [
        "# TYPE session_written_total counter",
        "# TYPE session_opened_total counter",
        "# TYPE session_cookie_budget_used_ratio histogram",
        "# TYPE session_key_loaded gauge",
        "session_fresh_total 1",
        "session_rejected_total{reason=\"tampered\"} 1",
        "session_schema_version_seen_total{version=\"2\"} 1",
        &format!(
            "session_key_loaded{{key_id=\"{}\",role=\"primary\"}} 1",
            key(7).id()
        ),
        "session_cookie_budget_used_ratio_bucket{le=\"1\"} 2",
        "session_cookie_budget_used_ratio_count 2",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "no line {line:?} in:\n{text}"
        );
    }
    assert!(!text.contains("alice"), "{text}");
}
