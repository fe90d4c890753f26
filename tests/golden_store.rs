//! The golden id cookie: a session kept in a server-side store, frozen as the cookie a browser
//! holds and the entry the store holds (`tests/golden/id-cookie.*`, layout in docs/FORMAT.md).
//! Both must keep opening forever, and the store key must be the one the document derives.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use session_runtime::{
    BoxFuture, Condition, ManualClock, MemoryStore, SessionLayer, SessionStore, StoreError,
};
use session_tests::{AppV2, golden_key, router, serve};
use sha2::Digest;

/// When the golden id cookie was sealed.
const SEALED_AT: u32 = 1_763_800_000;

fn path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("golden")
        .join(name)
}

fn layer(store: impl SessionStore, now: u32) -> SessionLayer<AppV2> {
    SessionLayer::<AppV2>::builder(golden_key())
        .with_secure(false)
        .with_max_cookies(3)
        .with_idle_timeout(None)
        // A store needs a timeout; ten years keeps the golden pair opening for good.
        .with_absolute_timeout(Some(Duration::from_secs(10 * 365 * 24 * 60 * 60)))
        .with_clock(ManualClock::new(now))
        .with_store(store)
        .build()
        .expect("layer")
}

/// A store that remembers the last save, to write the golden entry.
#[derive(Debug, Default)]
struct Recording(Mutex<Option<(String, Vec<u8>)>>);

impl SessionStore for Recording {
    fn load<'a>(&'a self, _key: &'a str) -> BoxFuture<'a, Result<Option<Vec<u8>>, StoreError>> {
        Box::pin(async { Ok(None) })
    }
    fn save<'a>(
        &'a self,
        key: &'a str,
        value: &'a [u8],
        _ttl: Duration,
        _condition: Condition,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        *self.0.lock().expect("lock") = Some((key.to_owned(), value.to_vec()));
        Box::pin(async { Ok(true) })
    }
    fn delete<'a>(&'a self, _key: &'a str) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async { Ok(()) })
    }
}

/// Writes the golden pair once, when blessing (`GOLDEN_BLESS=1`).
async fn bless() {
    let store = Arc::new(Recording::default());
    let (addr, server) = serve(router(layer(Arc::clone(&store), SEALED_AT))).await;
    let response = reqwest::Client::new()
        .post(format!("http://{addr}/login?user=golden"))
        .send()
        .await
        .expect("login");
    let cookie = response
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .expect("an id cookie")
        .to_owned();
    server.abort();
    let (key, value) = store.0.lock().expect("lock").clone().expect("a save");
    std::fs::write(path("id-cookie.cookie"), format!("{cookie}\n")).expect("write");
    let stored = format!("{key}\n{}\n", URL_SAFE_NO_PAD.encode(value));
    std::fs::write(path("id-cookie.stored"), stored).expect("write");
}

#[tokio::test]
async fn the_golden_id_cookie_and_its_store_entry_still_open() {
    if !path("id-cookie.cookie").exists() && std::env::var_os("GOLDEN_BLESS").is_some() {
        bless().await;
    }
    let read = |name: &str| {
        std::fs::read_to_string(path(name))
            .unwrap_or_else(|e| panic!("{name}: {e} (bless with GOLDEN_BLESS=1)"))
    };
    let cookie = read("id-cookie.cookie").trim_end().to_owned();
    let stored = read("id-cookie.stored");
    let mut lines = stored.lines();
    let key = lines.next().expect("key line").to_owned();
    let value = URL_SAFE_NO_PAD
        .decode(lines.next().expect("value line"))
        .expect("base64url");

    let value_chars = cookie
        .strip_prefix("session=")
        .expect("named session")
        .len();
    assert_eq!(value_chars, 78, "an id cookie is 58 bytes, 78 characters");

    let memory = Arc::new(MemoryStore::new());
    memory
        .save(&key, &value, Duration::from_secs(60), Condition::Always)
        .await
        .expect("save");
    let (addr, server) = serve(router(layer(Arc::clone(&memory), SEALED_AT + 10))).await;
    let client = reqwest::Client::new();
    let get = |route: &'static str| {
        client
            .get(format!("http://{addr}{route}"))
            .header("cookie", &cookie)
            .send()
    };
    let show = get("/show")
        .await
        .expect("show")
        .text()
        .await
        .expect("body");
    let id = get("/id").await.expect("id").text().await.expect("body");
    server.abort();
    assert!(show.starts_with("user=golden items=0 new=false"), "{show}");

    // The store key, derived as docs/FORMAT.md says, from the id the session reports.
    let id: Vec<u8> = (0..id.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&id[i..i + 2], 16).expect("hex"))
        .collect();
    let digest = sha2::Sha256::new()
        .chain_update(b"session-runtime v1 store key")
        .chain_update(&id)
        .finalize();
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(key, format!("s:{hex}"));
}
