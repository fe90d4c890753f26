//! A small shop on cookie sessions: log in and out, fill a cart until it spreads over several
//! cookies, see one-shot flash messages, and watch a session written by the previous schema
//! version migrate.
//!
//! Run with
//!
//! ```sh
//! cargo run -p example-shop
//! ```
//!
//! then open <http://127.0.0.1:3000>. Set `SESSION_KEY` (base64 of 32 random bytes) to keep
//! sessions across restarts; without it a key is generated and a warning logged. Or set
//! `SESSION_KEY_FILE` to a key file (one base64 key per line, the primary first, `#` comments),
//! or `SESSION_KEY_DIR` to a directory holding one named `keys` (a Kubernetes secret mount): it
//! is read again every 10 s and on `SIGHUP` (`kill -HUP <pid>`), so keys rotate without a
//! restart (README.md, "Keys from a file, rotated without a restart"). `PORT` changes
//! the port. `SESSION_STORE` picks where sessions live: `cookie` (the default, no server),
//! `memory`, `memcached://host:port,host:port`, `redis://host:port` or
//! `redis-cluster://host:port,host:port`; `SESSION_STORE_PREFIX` the key prefix in the store,
//! `SESSION_IDLE_TIMEOUT` and `SESSION_ABSOLUTE_TIMEOUT` the timeouts in seconds (default 1800
//! and 43200), `SESSION_PREVIOUS_STORE` the store to move sessions from without a logout
//! (README.md, "Moving to another store without logging anyone out"). These are read by `session_runtime::StoreSettings::from_env`, as
//! `session-tool revoke` reads them to log a user out of the shop everywhere. `SHOP_METRICS=1`
//! serves the session metrics on `/metrics` in the Prometheus text format.

use std::net::SocketAddr;

use session_runtime::{KeySource, Keys, StoreSettings};

/// The session keys: from `SESSION_KEY_FILE` or `SESSION_KEY_DIR` when either is set, watched
/// for changes; otherwise from `SESSION_KEY` / `SESSION_KEY_OLD`, or generated (with a warning)
/// when those are unset too.
fn key_source() -> Result<KeySource, String> {
    let file = std::env::var_os("SESSION_KEY_FILE").filter(|v| !v.is_empty());
    let dir = std::env::var_os("SESSION_KEY_DIR").filter(|v| !v.is_empty());
    let source = match (file, dir) {
        (Some(_), Some(_)) => {
            return Err("set SESSION_KEY_FILE or SESSION_KEY_DIR, not both".to_owned());
        }
        (Some(file), None) => KeySource::file(file),
        (None, Some(dir)) => KeySource::dir(dir),
        (None, None) => {
            return Keys::from_env_or_generate()
                .map(KeySource::from)
                .map_err(|e| e.to_string());
        }
    };
    let source = source.map_err(|e| e.to_string())?;
    source.watch();
    tracing::info!(
        path = %source.path().map(|p| p.display().to_string()).unwrap_or_default(),
        primary_key_id = source.keys().primary_id(),
        "session keys read from a file; re-read every 10 s and on SIGHUP"
    );
    Ok(source)
}

/// Reloads `keys` on every `SIGHUP`. The library installs no signal handler: this is the
/// application's choice.
#[cfg(unix)]
fn reload_on_sighup(keys: KeySource) -> std::io::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};

    let mut hangups = signal(SignalKind::hangup())?;
    tokio::spawn(async move {
        while hangups.recv().await.is_some() {
            let keys = keys.clone();
            // A small file, read off the async workers.
            let reloaded = tokio::task::spawn_blocking(move || keys.reload()).await;
            match reloaded {
                Ok(Ok(true)) => tracing::info!("SIGHUP: session keys reloaded"),
                Ok(Ok(false)) => tracing::info!("SIGHUP: session keys unchanged"),
                // Logged by the library, with why; the keys in use stay.
                Ok(Err(_)) => {}
                Err(err) => tracing::error!("SIGHUP: the reload task failed: {err}"),
            }
        }
    });
    Ok(())
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,session_runtime=debug".into()),
        )
        .init();

    // A key file, watched; or SESSION_KEY seals and SESSION_KEY_OLD (optional) only opens.
    // Nothing set: a generated key and a warning. Set but invalid: refuse to start.
    let keys = match key_source() {
        Ok(keys) => keys,
        Err(err) => {
            tracing::error!("{err}");
            std::process::exit(1);
        }
    };
    // Installed before the app is built: the layer records its keys when it is built.
    let metrics = match std::env::var("SHOP_METRICS").as_deref() {
        Ok("1") => match example_shop::metrics::install() {
            Ok(handle) => Some(handle),
            Err(err) => {
                tracing::error!("the metrics recorder: {err}");
                std::process::exit(1);
            }
        },
        _ => None,
    };
    #[cfg(unix)]
    if keys.path().is_some() {
        reload_on_sighup(keys.clone())?;
    }
    let app = match StoreSettings::from_env()
        .map_err(|e| e.to_string())
        .and_then(|settings| example_shop::app_with_store(keys, &settings))
    {
        Ok(app) => app,
        Err(err) => {
            tracing::error!("{err}");
            std::process::exit(1);
        }
    };

    let app = match metrics {
        Some(handle) => {
            tokio::spawn(example_shop::metrics::upkeep(handle.clone()));
            tracing::info!("metrics on /metrics");
            app.merge(example_shop::metrics::routes(handle))
        }
        None => app,
    };

    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(3000);
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!("shop listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await
}
