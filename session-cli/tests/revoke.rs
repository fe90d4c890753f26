//! `session-tool revoke` against an application: a session layer in this test, on a tiny axum
//! router served on loopback, keeps its sessions (or only its revocation records) in a real
//! Redis or memcached started here; the tool, run as a process with the same environment,
//! logs one subject out, and the application sees it.

// The workspace tests' servers: each a child process on a free loopback port, killed by PID
// when its handle drops, also when a test panics.
#[path = "../../tests/servers/mod.rs"]
mod servers;

use std::collections::HashMap;
use std::process::{Command, Output, Stdio};

use axum::Router;
use axum::extract::Path;
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use session_runtime::{
    CookieSession, Key, Keys, Session, SessionError, SessionLayer, StoreSettings,
};

use servers::{Memcached, Redis};

#[derive(CookieSession, Serialize, Deserialize, Debug, Default)]
#[session(version = 1)]
struct Account {
    #[session(max_len = 32)]
    user: String,
}

/// How the application uses its store; `revoke_all` works in each.
#[derive(Debug, Clone, Copy)]
enum Mode {
    /// `with_store`: every session in the store.
    Store,
    /// `with_overflow_store`: sessions in cookies unless too large.
    Overflow,
    /// `with_revocation`: sessions in cookies, revocation records in the store.
    Revocation,
}

/// The settings the application and the tool share, as environment variables.
fn environment(store: &str, keys: &[&Key]) -> Vec<(String, String)> {
    let fallbacks: Vec<String> = keys[1..].iter().map(|k| k.to_base64()).collect();
    [
        ("SESSION_STORE", store.to_owned()),
        ("SESSION_STORE_PREFIX", "shop:".to_owned()),
        ("SESSION_IDLE_TIMEOUT", "600".to_owned()),
        ("SESSION_ABSOLUTE_TIMEOUT", "3600".to_owned()),
        ("SESSION_KEY", keys[0].to_base64()),
        ("SESSION_KEY_OLD", fallbacks.join(" ")),
    ]
    .into_iter()
    .map(|(name, value)| (name.to_owned(), value))
    .collect()
}

/// The application: its layer built from `env` as an application reads its environment.
fn app(env: &[(String, String)], mode: Mode) -> Router {
    let vars: HashMap<&str, &str> = env.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    let settings = StoreSettings::from_lookup(|name| vars.get(name).map(|v| (*v).to_owned()))
        .expect("settings");
    let mut keys = Keys::new(Key::from_base64(vars["SESSION_KEY"]).expect("key"));
    for fallback in vars["SESSION_KEY_OLD"].split_whitespace() {
        keys = keys.with_fallback(Key::from_base64(fallback).expect("key"));
    }
    let builder = SessionLayer::<Account>::builder(keys).with_secure(false);
    let layer = match mode {
        Mode::Store => builder.with_store_settings(&settings).expect("store"),
        Mode::Overflow | Mode::Revocation => {
            let store = settings
                .build_store()
                .expect("store")
                .expect("a server store");
            let builder = builder
                .with_idle_timeout(settings.idle_timeout)
                .with_absolute_timeout(settings.absolute_timeout);
            match mode {
                Mode::Overflow => builder.with_overflow_store(store),
                _ => builder.with_revocation(store),
            }
        }
    }
    .build()
    .expect("layer");
    Router::new()
        .route("/login/{user}", post(login))
        .route("/me", get(me))
        .layer(layer)
}

async fn login(
    mut session: Session<Account>,
    Path(user): Path<String>,
) -> Result<String, SessionError> {
    session.regenerate()?;
    session.set_subject(&user);
    session.update(|account| account.user = user.clone())?;
    Ok(user)
}

/// The user of the session the request opened, or `none`.
async fn me(session: Session<Account>) -> String {
    if session.is_new() {
        "none".to_owned()
    } else {
        session.get().user.clone()
    }
}

/// The application served on a free loopback port, and a client for it.
struct Served {
    base: String,
    client: reqwest::Client,
    server: tokio::task::JoinHandle<()>,
}

impl Served {
    async fn start(app: Router) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("serve");
        });
        Served {
            base,
            client: reqwest::Client::new(),
            server,
        }
    }

    /// Logs `user` in; returns the `Cookie` header that carries the session.
    async fn login(&self, user: &str) -> String {
        let response = self
            .client
            .post(format!("{}/login/{user}", self.base))
            .send()
            .await
            .expect("login");
        assert!(response.status().is_success(), "{}", response.status());
        let pairs: Vec<String> = response
            .headers()
            .get_all(reqwest::header::SET_COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .filter_map(|line| line.split(';').next())
            .filter(|pair| pair.split_once('=').is_some_and(|(_, v)| !v.is_empty()))
            .map(str::to_owned)
            .collect();
        assert!(!pairs.is_empty(), "no session cookie for {user}");
        pairs.join("; ")
    }

    /// Whose session `cookie` opens, or `none`.
    async fn me(&self, cookie: &str) -> String {
        let response = self
            .client
            .get(format!("{}/me", self.base))
            .header(reqwest::header::COOKIE, cookie)
            .send()
            .await
            .expect("me");
        assert!(response.status().is_success(), "{}", response.status());
        response.text().await.expect("body")
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// `session-tool` with `args` and exactly the session variables in `env`.
async fn tool(args: &[&str], env: &[(String, String)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_session-tool"));
    command.args(args).stdin(Stdio::null());
    for name in [
        "SESSION_KEY",
        "SESSION_KEY_OLD",
        "SESSION_STORE",
        "SESSION_STORE_PREFIX",
        "SESSION_IDLE_TIMEOUT",
        "SESSION_ABSOLUTE_TIMEOUT",
    ] {
        command.env_remove(name);
    }
    command.envs(env.iter().map(|(n, v)| (n, v)));
    tokio::task::spawn_blocking(move || command.output().expect("session-tool runs"))
        .await
        .expect("joined")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Alice and Bob log in; the tool revokes Alice; Alice's session is gone, Bob's is not, and
/// Alice can log in again.
async fn revoke_through_the_tool(store: &str, mode: Mode) {
    let (old, new) = (Key::generate(), Key::generate());
    let env = environment(store, &[&new, &old]);
    let served = Served::start(app(&env, mode)).await;
    // A session sealed before the rotation, under the key that is now a fallback.
    let before_rotation = Served::start(app(&environment(store, &[&old]), mode)).await;
    let alice_old = before_rotation.login("alice").await;
    let alice = served.login("alice").await;
    let bob = served.login("bob").await;
    assert_eq!(served.me(&alice).await, "alice", "{mode:?}");
    assert_eq!(served.me(&alice_old).await, "alice", "{mode:?}");
    assert_eq!(served.me(&bob).await, "bob", "{mode:?}");

    let out = tool(&["revoke", "alice"], &env).await;
    assert!(
        out.status.success(),
        "{mode:?}: {}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert!(
        text(&out.stdout).starts_with("revoked"),
        "{}",
        text(&out.stdout)
    );
    for key in [&new, &old] {
        let shown = format!("{}{}", text(&out.stdout), text(&out.stderr));
        assert!(!shown.contains(&key.to_base64()), "{shown}");
    }

    assert_eq!(
        served.me(&alice).await,
        "none",
        "{mode:?}: Alice is logged out"
    );
    assert_eq!(
        served.me(&alice_old).await,
        "none",
        "{mode:?}: also where her session was sealed with the fallback key"
    );
    assert_eq!(served.me(&bob).await, "bob", "{mode:?}: Bob is not");
    let again = served.login("alice").await;
    assert_eq!(
        served.me(&again).await,
        "alice",
        "{mode:?}: a new login works"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoke_logs_a_subject_out_through_redis_in_every_mode() {
    let redis = Redis::start();
    for mode in [Mode::Store, Mode::Overflow, Mode::Revocation] {
        revoke_through_the_tool(&redis.url(), mode).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoke_logs_a_subject_out_through_memcached_in_every_mode() {
    let memcached = Memcached::start();
    let store = format!("memcached://{}", memcached.address());
    for mode in [Mode::Store, Mode::Overflow, Mode::Revocation] {
        revoke_through_the_tool(&store, mode).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoke_without_a_store_is_an_error_that_says_so() {
    let key = Key::generate();
    for store in ["cookie", ""] {
        let out = tool(&["revoke", "alice"], &environment(store, &[&key])).await;
        assert_eq!(out.status.code(), Some(2), "{store:?}");
        let err = text(&out.stderr);
        assert!(err.contains("revocation needs a store"), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
    }
    let out = tool(&["revoke", "alice"], &environment("memory", &[&key])).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("revoke_all"),
        "{}",
        text(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoke_fails_in_one_line_when_the_store_or_the_key_is_missing() {
    let key = Key::generate();
    // A port that was just free: nothing answers there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let env = environment(&format!("redis://:hunter2@127.0.0.1:{port}"), &[&key]);
    let out = tool(&["revoke", "alice"], &env).await;
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.starts_with("session-tool: nothing revoked: "), "{err}");
    assert!(
        err.contains(&format!("redis://***@127.0.0.1:{port}")),
        "{err}"
    );
    assert!(!err.contains("hunter2"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");

    let no_key: Vec<(String, String)> = environment("redis://127.0.0.1:1", &[&key])
        .into_iter()
        .filter(|(name, _)| !name.starts_with("SESSION_KEY"))
        .collect();
    let out = tool(&["revoke", "alice"], &no_key).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("`SESSION_KEY` is not set"),
        "{}",
        text(&out.stderr)
    );
}
