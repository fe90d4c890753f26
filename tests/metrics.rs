//! The metrics (session-runtime's feature `metrics`) after real traffic: the test app served
//! over HTTP on loopback, cookie sessions with a revocation list in a `MemoryStore`, and a
//! `DebuggingRecorder` installed as this test binary's global recorder (the server's tasks
//! record on other threads, which a thread-local recorder would not see).
//!
//! Each step reads what it added: a snapshot of the recorder takes its counters back to zero.
//! One test in this binary, so no other test's traffic mixes in.

use std::collections::BTreeMap;

use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};
use reqwest::{Client, StatusCode};
use std::time::Duration;

use session_runtime::{
    BoxFuture, Condition, Keys, MemoryStore, SessionLayer, SessionMeta, SessionStore, StoreError,
};
use session_tests::{AppV1, AppV2, CookieJar, at, key, loopback, set_cookies, start};

/// What one step recorded: counters and gauges by `name{label=value,...}` (labels sorted), and
/// histogram samples.
#[derive(Debug, Default)]
struct Step {
    counters: BTreeMap<String, u64>,
    gauges: BTreeMap<String, f64>,
    histograms: BTreeMap<String, Vec<f64>>,
}

impl Step {
    /// The counters of the session metrics (`session_store_*` aside: their number depends on
    /// the store work of each mode, checked on their own).
    fn sessions(&self) -> BTreeMap<&str, u64> {
        self.counters
            .iter()
            .filter(|(name, _)| !name.starts_with("session_store_"))
            .map(|(name, &value)| (name.as_str(), value))
            .collect()
    }
}

/// Reads what was recorded since the last read, and keeps every label value seen.
struct Reader {
    snapshotter: Snapshotter,
    labels: Vec<String>,
    store: Step,
}

impl Reader {
    fn install() -> Self {
        let recorder = DebuggingRecorder::new();
        let snapshotter = recorder.snapshotter();
        recorder
            .install()
            .expect("the only recorder of this test binary");
        Reader {
            snapshotter,
            labels: Vec::new(),
            store: Step::default(),
        }
    }

    fn step(&mut self) -> Step {
        let mut step = Step::default();
        for (key, _, _, value) in self.snapshotter.snapshot().into_vec() {
            let key = key.key();
            let mut labels: Vec<String> = key
                .labels()
                .map(|label| {
                    self.labels.push(label.value().to_owned());
                    format!("{}={}", label.key(), label.value())
                })
                .collect();
            labels.sort();
            let name = if labels.is_empty() {
                key.name().to_owned()
            } else {
                format!("{}{{{}}}", key.name(), labels.join(","))
            };
            match value {
                DebugValue::Counter(0) => {}
                DebugValue::Counter(n) => {
                    if name.starts_with("session_store_") {
                        *self.store.counters.entry(name.clone()).or_default() += n;
                    }
                    step.counters.insert(name, n);
                }
                DebugValue::Gauge(value) => {
                    step.gauges.insert(name, value.into_inner());
                }
                DebugValue::Histogram(samples) if samples.is_empty() => {}
                DebugValue::Histogram(samples) => {
                    let samples: Vec<f64> = samples.into_iter().map(|s| s.into_inner()).collect();
                    if name.starts_with("session_store_") {
                        self.store
                            .histograms
                            .entry(name.clone())
                            .or_default()
                            .extend(&samples);
                    }
                    step.histograms.insert(name, samples);
                }
            }
        }
        step
    }
}

fn counts<'a>(pairs: &[(&'a str, u64)]) -> BTreeMap<&'a str, u64> {
    pairs.iter().copied().collect()
}

/// Sends `method path` with the jar's cookies and takes the response's into the jar.
async fn send(client: &Client, jar: &mut CookieJar, method: &str, url: reqwest::Url) -> StatusCode {
    let request = match method {
        "GET" => client.get(url),
        _ => client.post(url),
    };
    let response = request
        .header(reqwest::header::COOKIE, jar.header())
        .send()
        .await
        .expect("request");
    jar.apply(&set_cookies(&response));
    response.status()
}

/// A store of the application's own, down: every call fails.
#[derive(Debug)]
struct Down;

impl SessionStore for Down {
    fn load<'a>(&'a self, _: &'a str) -> BoxFuture<'a, Result<Option<Vec<u8>>, StoreError>> {
        Box::pin(async { Err(StoreError::Unavailable("down".into())) })
    }
    fn save<'a>(
        &'a self,
        _: &'a str,
        _: &'a [u8],
        _: Duration,
        _: Condition,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async { Err(StoreError::Unavailable("down".into())) })
    }
    fn delete<'a>(&'a self, _: &'a str) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async { Err(StoreError::Unavailable("down".into())) })
    }
}

fn now() -> u32 {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs();
    u32::try_from(secs).expect("before 2106")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_after_real_traffic_count_each_event_with_fixed_labels() {
    let mut reader = Reader::install();
    let keys = || Keys::new(key(1)).with_fallback(key(2));
    assert_ne!(key(1).id(), key(2).id(), "the test keys have distinct ids");

    // Built: the key ids, primary and fallback.
    let layer: SessionLayer<AppV2> = loopback::<AppV2>(keys())
        .with_revocation(MemoryStore::new())
        .build()
        .expect("layer");
    let built = reader.step();
    let primary = format!("session_key_loaded{{key_id={},role=primary}}", key(1).id());
    let fallback = format!("session_key_loaded{{key_id={},role=fallback}}", key(2).id());
    assert_eq!(
        built.gauges,
        BTreeMap::from([(fallback, 1.0), (primary, 1.0)]),
        "{built:?}"
    );
    assert!(built.counters.is_empty(), "{built:?}");

    let (base, _server) = start(layer.clone()).await;
    let client = Client::new();
    let mut alice = CookieJar::default();

    // A login without a session: a fresh session, written once, sealed once.
    let status = send(&client, &mut alice, "POST", at(&base, "login?user=alice")).await;
    assert_eq!(status, StatusCode::OK);
    let login = reader.step();
    assert_eq!(
        login.sessions(),
        counts(&[("session_fresh_total", 1), ("session_written_total", 1)]),
        "{login:?}"
    );
    let sizes = &login.histograms["session_cookie_budget_used_ratio"];
    assert!(
        sizes.len() == 1 && sizes[0] > 0.0 && sizes[0] <= 1.0,
        "{sizes:?}"
    );
    let logged_in = alice.clone();

    // A read: restored, seen as version 2, nothing written.
    let status = send(&client, &mut alice, "GET", at(&base, "show")).await;
    assert_eq!(status, StatusCode::OK);
    let read = reader.step();
    assert_eq!(
        read.sessions(),
        counts(&[
            ("session_opened_total", 1),
            ("session_schema_version_seen_total{version=2}", 1),
        ]),
        "{read:?}"
    );
    assert!(
        !read
            .histograms
            .contains_key("session_cookie_budget_used_ratio")
    );

    // The session id, to look for among the labels (this read counts as one more restore).
    let response = client
        .get(at(&base, "id"))
        .header(reqwest::header::COOKIE, alice.header())
        .send()
        .await
        .expect("request");
    let session_id = response.text().await.expect("body");
    assert_eq!(session_id.len(), 32, "{session_id}");
    reader.step();

    // A change: restored and written, not fresh.
    let status = send(&client, &mut alice, "POST", at(&base, "bump")).await;
    assert_eq!(status, StatusCode::OK);
    let change = reader.step();
    assert_eq!(
        change.sessions(),
        counts(&[
            ("session_opened_total", 1),
            ("session_schema_version_seen_total{version=2}", 1),
            ("session_written_total", 1),
        ]),
        "{change:?}"
    );
    assert_eq!(
        change.histograms["session_cookie_budget_used_ratio"].len(),
        1
    );

    // A tampered cookie: rejected as tampered, its cookies removed.
    let mut tampered = alice.clone();
    let name = layer.cookie_name().to_owned();
    tampered.tamper(&name);
    let status = send(&client, &mut tampered, "GET", at(&base, "show")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!tampered.0.contains_key(&name), "removed: {tampered:?}");
    let bad = reader.step();
    assert_eq!(
        bad.sessions(),
        counts(&[
            ("session_rejected_total{reason=tampered}", 1),
            ("session_removed_total", 1),
        ]),
        "{bad:?}"
    );

    // A cookie of the previous schema version: migrated from 1, seen as 1, re-sealed as 2.
    let v1 = loopback::<AppV1>(keys()).build_codec().expect("v1 codec");
    let old = AppV1 {
        user: "bob".to_owned(),
        items: vec![7],
    };
    let sealed = v1
        .seal(&old, &SessionMeta::new(now()).expect("random"))
        .expect("seal v1");
    let mut bob = CookieJar::default();
    bob.apply(&sealed.headers);
    let status = send(&client, &mut bob, "GET", at(&base, "show")).await;
    assert_eq!(status, StatusCode::OK);
    let migrated = reader.step();
    assert_eq!(
        migrated.sessions(),
        counts(&[
            ("session_migrated_total{from=1}", 1),
            ("session_opened_total", 1),
            ("session_schema_version_seen_total{version=1}", 1),
            ("session_written_total", 1),
        ]),
        "{migrated:?}"
    );

    // A logout: restored, its id recorded on the revocation list, its cookies removed.
    let status = send(&client, &mut alice, "POST", at(&base, "logout")).await;
    assert_eq!(status, StatusCode::OK);
    let logout = reader.step();
    assert_eq!(
        logout.sessions(),
        counts(&[
            ("session_opened_total", 1),
            ("session_removed_total", 1),
            ("session_revocations_total{scope=session}", 1),
            ("session_schema_version_seen_total{version=2}", 1),
        ]),
        "{logout:?}"
    );

    // The logged-out cookie replayed: rejected as revoked, removed.
    let mut replayed = logged_in.clone();
    let status = send(&client, &mut replayed, "GET", at(&base, "show")).await;
    assert_eq!(status, StatusCode::OK);
    let replay = reader.step();
    assert_eq!(
        replay.sessions(),
        counts(&[
            ("session_rejected_total{reason=revoked}", 1),
            ("session_removed_total", 1),
        ]),
        "{replay:?}"
    );

    // Log a subject out everywhere.
    layer.revoke_all("alice").await.expect("revoke_all");
    let everywhere = reader.step();
    assert_eq!(
        everywhere.sessions(),
        counts(&[("session_revocations_total{scope=subject}", 1)]),
        "{everywhere:?}"
    );

    // Moves: a session issued in one store, read by a layer that keeps sessions in another and
    // names the first as its previous store; and a session still in its cookies, read by a
    // layer that keeps every session in a store.
    let old_store = std::sync::Arc::new(MemoryStore::new());
    let old_layer = loopback::<AppV2>(keys())
        .with_store(std::sync::Arc::clone(&old_store))
        .build()
        .expect("layer");
    let (old_base, _old_server) = start(old_layer).await;
    let mut dave = CookieJar::default();
    let status = send(&client, &mut dave, "POST", at(&old_base, "login?user=dave")).await;
    assert_eq!(status, StatusCode::OK);
    let new_layer = loopback::<AppV2>(keys())
        .with_store(MemoryStore::new())
        .with_previous_store(old_store)
        .build()
        .expect("layer");
    let (new_base, _new_server) = start(new_layer).await;
    let mut erin = CookieJar::default();
    let status = send(&client, &mut erin, "POST", at(&base, "login?user=erin")).await;
    assert_eq!(status, StatusCode::OK);
    reader.step();
    for (jar, from) in [(&mut dave, "previous_store"), (&mut erin, "cookies")] {
        let status = send(&client, jar, "GET", at(&new_base, "show")).await;
        assert_eq!(status, StatusCode::OK);
        let moved = reader.step();
        let metric = format!("session_moved_total{{from={from}}}");
        assert_eq!(
            moved.sessions(),
            counts(&[
                (metric.as_str(), 1),
                ("session_opened_total", 1),
                ("session_schema_version_seen_total{version=2}", 1),
                ("session_written_total", 1),
            ]),
            "{moved:?}"
        );
    }

    // The store calls: all through the memory backend, each timed once, none failed.
    let store = &reader.store;
    assert!(
        store
            .counters
            .keys()
            .all(|name| name.starts_with("session_store_calls_total{backend=memory,op=")),
        "{store:?}"
    );
    for op in ["load_many", "save"] {
        let calls = format!("session_store_calls_total{{backend=memory,op={op}}}");
        let timed = format!("session_store_call_duration_seconds{{backend=memory,op={op}}}");
        let count = store.counters.get(&calls).copied().unwrap_or(0);
        assert!(count > 0, "no {op} call: {store:?}");
        let samples = store.histograms.get(&timed).map_or(0, Vec::len);
        assert_eq!(samples as u64, count, "{op}: one duration per call");
    }
    assert!(
        store
            .histograms
            .values()
            .flatten()
            .all(|&secs| (0.0..2.0).contains(&secs)),
        "{store:?}"
    );

    // A store of the application's own that is down: its calls counted as `custom`, failed as
    // `unavailable`; the session is not written.
    let (down, _down_server) = start(
        loopback::<AppV2>(keys())
            .with_store(Down)
            .build()
            .expect("layer"),
    )
    .await;
    let mut carol = CookieJar::default();
    let status = send(&client, &mut carol, "POST", at(&down, "login?user=carol")).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    let failed = reader.step();
    assert!(
        !failed.counters.contains_key("session_written_total"),
        "{failed:?}"
    );
    let errors: BTreeMap<&str, u64> = failed
        .counters
        .iter()
        .filter(|(name, _)| name.starts_with("session_store_errors_total"))
        .map(|(name, &n)| (name.as_str(), n))
        .collect();
    assert_eq!(
        errors,
        counts(&[(
            "session_store_errors_total{backend=custom,error=unavailable,op=save}",
            1
        )]),
        "{failed:?}"
    );
    assert_eq!(
        failed.counters["session_store_calls_total{backend=custom,op=save}"],
        1
    );

    // No label carries the session id, the subject, a user's name or a cookie: every value is
    // one of the fixed words, or a number.
    let fixed = [
        "tampered",
        "revoked",
        "memory",
        "custom",
        "unavailable",
        "load",
        "load_many",
        "save",
        "delete",
        "session",
        "subject",
        "primary",
        "fallback",
        "previous_store",
        "cookies",
    ];
    assert!(!reader.labels.is_empty());
    for value in &reader.labels {
        assert!(
            fixed.contains(&value.as_str())
                || (!value.is_empty()
                    && value.len() <= 5
                    && value.bytes().all(|b| b.is_ascii_digit())),
            "label value {value:?}"
        );
        assert!(!value.contains(&session_id), "label value {value:?}");
        assert!(
            ["alice", "bob", "carol", "dave", "erin"]
                .iter()
                .all(|name| !value.contains(name)),
            "label value {value:?}"
        );
    }
}
