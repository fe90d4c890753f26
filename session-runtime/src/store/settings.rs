//! Where sessions live and how long they last, read from the environment: one reading of
//! `SESSION_STORE` and its companions, shared by applications and by `session-tool`, so that a
//! command run by an operator (`session-tool revoke`) reaches the same store, under the same
//! prefix, with the same timeouts, as the application it serves.

use core::fmt;
use core::time::Duration;
use std::sync::Arc;

use super::{MemoryStore, SessionStore, StoreConfigError, redact};
use crate::clock::Lifetime;

/// Where the application keeps its sessions, as `SESSION_STORE` names it.
///
/// Parsing does not need the store's feature; [`StoreSettings::build_store`] does. The
/// [`Debug`] and [`Display`](fmt::Display) forms show `***` for a URL's credentials.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoreAddress {
    /// `cookie` (or unset, or empty): the whole session in its cookies, no server.
    Cookie,
    /// `memory`: in the application's own memory ([`MemoryStore`]); for development, as
    /// sessions end with the process and no other process can reach them.
    Memory,
    /// `memcached://host:port,host:port`: a memcached pool (feature `memcached`).
    Memcached(Vec<String>),
    /// `redis://[user:password@]host[:port][/db]`: one Redis node (feature `redis`), the URL as
    /// given.
    Redis(String),
    /// `redis-cluster://host:port,host:port`: a Redis Cluster given some of its nodes (feature
    /// `redis`), each as a `redis://host:port` URL.
    RedisCluster(Vec<String>),
}

impl StoreAddress {
    /// Parses a `SESSION_STORE` value: `cookie` (also the empty string), `memory`,
    /// `memcached://host:port,…`, `redis://…` or `redis-cluster://host:port,…`. Spaces around
    /// the value and around each server of a list are ignored.
    ///
    /// ```
    /// use session_runtime::StoreAddress;
    ///
    /// assert_eq!(
    ///     StoreAddress::parse("memcached://10.0.0.1:11211, 10.0.0.2:11211")?,
    ///     StoreAddress::Memcached(vec!["10.0.0.1:11211".into(), "10.0.0.2:11211".into()]),
    /// );
    /// assert_eq!(StoreAddress::parse("")?, StoreAddress::Cookie);
    /// assert!(StoreAddress::parse("mongodb://db").is_err());
    /// # Ok::<(), session_runtime::StoreSettingsError>(())
    /// ```
    pub fn parse(value: &str) -> Result<Self, StoreSettingsError> {
        let list = |rest: &str| -> Vec<String> {
            rest.split(',')
                .map(str::trim)
                .filter(|server| !server.is_empty())
                .map(str::to_owned)
                .collect()
        };
        let value = value.trim();
        if value.is_empty() || value == "cookie" {
            Ok(StoreAddress::Cookie)
        } else if value == "memory" {
            Ok(StoreAddress::Memory)
        } else if let Some(rest) = value.strip_prefix("memcached://") {
            Ok(StoreAddress::Memcached(list(rest)))
        } else if let Some(rest) = value.strip_prefix("redis-cluster://") {
            Ok(StoreAddress::RedisCluster(
                list(rest)
                    .into_iter()
                    .map(|node| format!("redis://{node}"))
                    .collect(),
            ))
        } else if value.starts_with("redis://") {
            Ok(StoreAddress::Redis(value.to_owned()))
        } else {
            Err(StoreSettingsError::UnknownStore(redact(value)))
        }
    }

    /// Whether sessions live on servers that other processes reach (memcached or Redis).
    pub fn is_shared(&self) -> bool {
        matches!(
            self,
            StoreAddress::Memcached(_) | StoreAddress::Redis(_) | StoreAddress::RedisCluster(_)
        )
    }
}

impl fmt::Display for StoreAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |servers: &[String], strip: &str| -> String {
            servers
                .iter()
                .map(|server| redact(server.strip_prefix(strip).unwrap_or(server)))
                .collect::<Vec<_>>()
                .join(",")
        };
        match self {
            StoreAddress::Cookie => f.write_str("cookie"),
            StoreAddress::Memory => f.write_str("memory"),
            StoreAddress::Memcached(servers) => write!(f, "memcached://{}", list(servers, "")),
            StoreAddress::Redis(url) => f.write_str(&redact(url)),
            StoreAddress::RedisCluster(nodes) => {
                write!(f, "redis-cluster://{}", list(nodes, "redis://"))
            }
        }
    }
}

impl fmt::Debug for StoreAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StoreAddress({self})")
    }
}

impl core::str::FromStr for StoreAddress {
    type Err = StoreSettingsError;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        StoreAddress::parse(value)
    }
}

/// The store and lifetime settings an application reads from its environment, and every tool
/// that must act on its sessions reads the same way.
///
/// | variable | meaning | default |
/// |---|---|---|
/// | `SESSION_STORE` | where sessions live: `cookie`, `memory`, `memcached://host:port,…`, `redis://[user:password@]host[:port][/db]`, `redis-cluster://host:port,…` ([`StoreAddress`]) | `cookie` |
/// | `SESSION_STORE_PREFIX` | the prefix of every key in memcached or Redis, so that applications can share servers (on a Redis Cluster, a hash tag such as `{shop}:` keeps them on one slot) | the store's own, `session:` |
/// | `SESSION_IDLE_TIMEOUT` | seconds a session may go unused; `none` for no limit | `1800` (30 minutes) |
/// | `SESSION_ABSOLUTE_TIMEOUT` | seconds a session may last however busy; `none` for no limit | `43200` (12 hours) |
/// | `SESSION_PREVIOUS_STORE` | while moving to another store: where sessions lived before, read for the sessions issued there until they have moved (as `SESSION_STORE`; see [`with_previous_store`](crate::SessionLayerBuilder::with_previous_store)) | none |
/// | `SESSION_PREVIOUS_STORE_PREFIX` | the key prefix in the previous store | `SESSION_STORE_PREFIX` |
///
/// The keys are read apart, by [`Keys::from_env`](crate::Keys::from_env) (`SESSION_KEY`,
/// `SESSION_KEY_OLD`). `session-tool revoke` reads all of these, so a subject it revokes is
/// revoked in the store the application uses, under the application's keys.
///
/// ```no_run
/// use session_runtime::{CookieSession, Keys, SessionLayer, StoreSettings};
/// # #[derive(CookieSession, serde::Serialize, serde::Deserialize, Default)]
/// # #[session(version = 1)]
/// # struct Cart { user_id: u64 }
///
/// let settings = StoreSettings::from_env()?;
/// let layer = SessionLayer::<Cart>::builder(Keys::from_env()?)
///     .with_store_settings(&settings)?
///     .build()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreSettings {
    /// Where sessions live (`SESSION_STORE`).
    pub store: StoreAddress,
    /// The key prefix in memcached or Redis (`SESSION_STORE_PREFIX`); `None` for the store's
    /// default. Ignored by the cookie and memory stores.
    pub prefix: Option<String>,
    /// The idle timeout (`SESSION_IDLE_TIMEOUT`), `None` for no limit.
    pub idle_timeout: Option<Duration>,
    /// The absolute timeout (`SESSION_ABSOLUTE_TIMEOUT`), `None` for no limit.
    pub absolute_timeout: Option<Duration>,
    /// Where sessions lived before a move to `store` (`SESSION_PREVIOUS_STORE`);
    /// [`StoreAddress::Cookie`] when there is no move (a move from cookies needs none).
    pub previous: StoreAddress,
    /// The key prefix in the previous store (`SESSION_PREVIOUS_STORE_PREFIX`); `None` for
    /// `prefix`.
    pub previous_prefix: Option<String>,
}

impl Default for StoreSettings {
    /// Sessions in their cookies, the layer's default timeouts.
    fn default() -> Self {
        let lifetime = Lifetime::default();
        StoreSettings {
            store: StoreAddress::Cookie,
            prefix: None,
            idle_timeout: lifetime.idle,
            absolute_timeout: lifetime.absolute,
            previous: StoreAddress::Cookie,
            previous_prefix: None,
        }
    }
}

impl StoreSettings {
    /// The variable naming the store: `SESSION_STORE`.
    pub const STORE_VAR: &'static str = "SESSION_STORE";
    /// The variable holding the key prefix: `SESSION_STORE_PREFIX`.
    pub const PREFIX_VAR: &'static str = "SESSION_STORE_PREFIX";
    /// The variable holding the idle timeout in seconds: `SESSION_IDLE_TIMEOUT`.
    pub const IDLE_TIMEOUT_VAR: &'static str = "SESSION_IDLE_TIMEOUT";
    /// The variable holding the absolute timeout in seconds: `SESSION_ABSOLUTE_TIMEOUT`.
    pub const ABSOLUTE_TIMEOUT_VAR: &'static str = "SESSION_ABSOLUTE_TIMEOUT";
    /// The variable naming the store sessions move from: `SESSION_PREVIOUS_STORE`.
    pub const PREVIOUS_STORE_VAR: &'static str = "SESSION_PREVIOUS_STORE";
    /// The variable holding the previous store's key prefix: `SESSION_PREVIOUS_STORE_PREFIX`.
    pub const PREVIOUS_PREFIX_VAR: &'static str = "SESSION_PREVIOUS_STORE_PREFIX";

    /// The settings from the process environment (the variables are in the
    /// [type's documentation](StoreSettings)). An unset or empty variable takes its default;
    /// one that is set but not valid is an error naming it, never silently replaced.
    pub fn from_env() -> Result<Self, StoreSettingsError> {
        Self::from_lookup(|name| {
            // Not UTF-8: kept (lossily) so that it is refused rather than taken as unset.
            std::env::var_os(name).map(|value| value.to_string_lossy().into_owned())
        })
    }

    /// [`from_env`](Self::from_env) with the variables looked up by `lookup` (a name in, its
    /// value or `None` out): for configuration read from elsewhere, and for tests.
    pub fn from_lookup(
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, StoreSettingsError> {
        let defaults = StoreSettings::default();
        let set = |name: &str| lookup(name).filter(|value| !value.trim().is_empty());
        let store = match set(Self::STORE_VAR) {
            Some(value) => StoreAddress::parse(&value)?,
            None => defaults.store,
        };
        let previous = match set(Self::PREVIOUS_STORE_VAR) {
            Some(value) => StoreAddress::parse(&value)
                .map_err(|_| StoreSettingsError::UnknownPreviousStore(redact(value.trim())))?,
            None => defaults.previous,
        };
        let timeout = |name: &'static str, default: Option<Duration>| match set(name) {
            Some(value) => parse_timeout(name, &value),
            None => Ok(default),
        };
        Ok(StoreSettings {
            store,
            prefix: set(Self::PREFIX_VAR).map(|prefix| prefix.trim().to_owned()),
            idle_timeout: timeout(Self::IDLE_TIMEOUT_VAR, defaults.idle_timeout)?,
            absolute_timeout: timeout(Self::ABSOLUTE_TIMEOUT_VAR, defaults.absolute_timeout)?,
            previous,
            previous_prefix: set(Self::PREVIOUS_PREFIX_VAR).map(|prefix| prefix.trim().to_owned()),
        })
    }

    /// Builds the store the settings name, with the prefix; `None` for the cookie store.
    /// Does not connect: an unreachable server shows in the first call.
    ///
    /// # Errors
    /// [`StoreSettingsError::FeatureDisabled`] for a memcached or Redis store when this crate
    /// was built without that feature; [`StoreSettingsError::Store`] when the servers or the
    /// prefix are refused (an address's credentials shown as `***`).
    pub fn build_store(&self) -> Result<Option<Arc<dyn SessionStore>>, StoreSettingsError> {
        build(&self.store, self.prefix.as_ref())
    }

    /// Builds the previous store the settings name (`SESSION_PREVIOUS_STORE`), with its
    /// prefix; `None` when there is none. Errors as [`build_store`](Self::build_store).
    pub fn build_previous_store(
        &self,
    ) -> Result<Option<Arc<dyn SessionStore>>, StoreSettingsError> {
        build(
            &self.previous,
            self.previous_prefix.as_ref().or(self.prefix.as_ref()),
        )
    }
}

/// Builds the store `address` names, with `prefix`; `None` for the cookie store.
fn build(
    address: &StoreAddress,
    prefix: Option<&String>,
) -> Result<Option<Arc<dyn SessionStore>>, StoreSettingsError> {
    #[cfg(not(any(feature = "memcached", feature = "redis")))]
    let _ = prefix;
    let store: Arc<dyn SessionStore> = match address {
        StoreAddress::Cookie => return Ok(None),
        StoreAddress::Memory => Arc::new(MemoryStore::new()),
        #[cfg(feature = "memcached")]
        StoreAddress::Memcached(servers) => {
            let store = super::MemcachedStore::new(servers.iter().cloned())?;
            Arc::new(match prefix {
                Some(prefix) => store.with_prefix(prefix)?,
                None => store,
            })
        }
        #[cfg(feature = "redis")]
        StoreAddress::Redis(url) => {
            let store = super::RedisStore::new(url)?;
            Arc::new(match prefix {
                Some(prefix) => store.with_prefix(prefix)?,
                None => store,
            })
        }
        #[cfg(feature = "redis")]
        StoreAddress::RedisCluster(nodes) => {
            let store = super::RedisStore::cluster(nodes)?;
            Arc::new(match prefix {
                Some(prefix) => store.with_prefix(prefix)?,
                None => store,
            })
        }
        #[cfg(not(feature = "memcached"))]
        StoreAddress::Memcached(_) => {
            return Err(StoreSettingsError::FeatureDisabled {
                store: "memcached",
                feature: "memcached",
            });
        }
        #[cfg(not(feature = "redis"))]
        StoreAddress::Redis(_) | StoreAddress::RedisCluster(_) => {
            return Err(StoreSettingsError::FeatureDisabled {
                store: "Redis",
                feature: "redis",
            });
        }
    };
    Ok(Some(store))
}

/// A timeout in whole seconds, or `none`.
fn parse_timeout(name: &'static str, value: &str) -> Result<Option<Duration>, StoreSettingsError> {
    let value = value.trim();
    if value.eq_ignore_ascii_case("none") {
        return Ok(None);
    }
    match value.parse::<u32>() {
        Ok(seconds) if seconds > 0 => Ok(Some(Duration::from_secs(seconds.into()))),
        _ => Err(StoreSettingsError::InvalidTimeout {
            variable: name,
            value: value.chars().take(40).collect(),
        }),
    }
}

/// Why the store settings cannot be used. Each message names the variable and says what to
/// change; none shows a URL's credentials.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StoreSettingsError {
    /// `SESSION_STORE` names no known store (the value, credentials shown as `***`).
    #[error(
        "SESSION_STORE={0:?} names no store: use cookie, memory, memcached://host:port,..., \
         redis://host:port or redis-cluster://host:port,..."
    )]
    UnknownStore(String),
    /// `SESSION_PREVIOUS_STORE` names no known store (the value, credentials shown as `***`).
    #[error(
        "SESSION_PREVIOUS_STORE={0:?} names no store: use memcached://host:port,..., \
         redis://host:port or redis-cluster://host:port,..., or leave it unset"
    )]
    UnknownPreviousStore(String),
    /// A timeout that is not a positive number of seconds or `none`.
    #[error(
        "{variable}={value:?} is not a timeout: give a number of seconds (at least 1), or none"
    )]
    InvalidTimeout {
        /// The variable.
        variable: &'static str,
        /// Its value (at most 40 characters of it).
        value: String,
    },
    /// The store needs a feature of this crate that the build left out.
    #[error(
        "SESSION_STORE names a {store} store, but session-runtime was built without its \
         feature `{feature}`"
    )]
    FeatureDisabled {
        /// The store named.
        store: &'static str,
        /// The crate feature it needs.
        feature: &'static str,
    },
    /// The store refused its servers or its prefix.
    #[error("SESSION_STORE: {0}")]
    Store(#[from] StoreConfigError),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from(vars: &[(&str, &str)]) -> Result<StoreSettings, StoreSettingsError> {
        StoreSettings::from_lookup(|name| {
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    #[test]
    fn store_values_parse() {
        assert_eq!(StoreAddress::parse(""), Ok(StoreAddress::Cookie));
        assert_eq!(StoreAddress::parse(" cookie "), Ok(StoreAddress::Cookie));
        assert_eq!(StoreAddress::parse("memory"), Ok(StoreAddress::Memory));
        assert_eq!(
            StoreAddress::parse("memcached://127.0.0.1:11211, 127.0.0.1:11212"),
            Ok(StoreAddress::Memcached(vec![
                "127.0.0.1:11211".into(),
                "127.0.0.1:11212".into()
            ]))
        );
        assert_eq!(
            StoreAddress::parse("redis-cluster://127.0.0.1:7000,127.0.0.1:7001"),
            Ok(StoreAddress::RedisCluster(vec![
                "redis://127.0.0.1:7000".into(),
                "redis://127.0.0.1:7001".into()
            ]))
        );
        assert_eq!(
            StoreAddress::parse("redis://127.0.0.1:6379/2"),
            Ok(StoreAddress::Redis("redis://127.0.0.1:6379/2".into()))
        );
        assert!(StoreAddress::parse("mongodb://x").is_err());
    }

    #[test]
    fn credentials_stay_out_of_errors_and_debug() {
        let err = StoreAddress::parse("rediss://user:hunter2@h:6380").expect_err("no TLS scheme");
        assert!(!err.to_string().contains("hunter2"), "{err}");
        assert!(err.to_string().contains("rediss://***@h:6380"), "{err}");
        let settings = from(&[("SESSION_STORE", "redis://:hunter2@h:6379/1")]).expect("parses");
        let shown = format!("{settings:?} {}", settings.store);
        let err = from(&[("SESSION_PREVIOUS_STORE", "rediss://user:hunter2@h:6380")])
            .expect_err("no TLS scheme");
        assert!(!err.to_string().contains("hunter2"), "{err}");
        assert!(err.to_string().contains("SESSION_PREVIOUS_STORE"), "{err}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("redis://***@h:6379/1"), "{shown}");
    }

    #[test]
    fn defaults_are_the_layers() {
        let settings = from(&[]).expect("defaults");
        assert_eq!(settings, StoreSettings::default());
        assert_eq!(settings.store, StoreAddress::Cookie);
        assert_eq!(settings.idle_timeout, Some(Duration::from_secs(1800)));
        assert_eq!(settings.absolute_timeout, Some(Duration::from_secs(43_200)));
        assert!(settings.build_store().expect("cookie").is_none());
        // Empty is unset.
        assert_eq!(
            from(&[("SESSION_IDLE_TIMEOUT", ""), ("SESSION_STORE", " ")]),
            Ok(StoreSettings::default())
        );
    }

    #[test]
    fn every_variable_is_read() {
        let settings = from(&[
            ("SESSION_STORE", "memory"),
            ("SESSION_STORE_PREFIX", "shop:"),
            ("SESSION_IDLE_TIMEOUT", "600"),
            ("SESSION_ABSOLUTE_TIMEOUT", "none"),
            ("SESSION_PREVIOUS_STORE", "memcached://127.0.0.1:11211"),
        ])
        .expect("valid");
        assert_eq!(
            settings.previous,
            StoreAddress::Memcached(vec!["127.0.0.1:11211".into()])
        );
        assert_eq!(settings.previous_prefix, None);
        assert_eq!(settings.store, StoreAddress::Memory);
        assert_eq!(settings.prefix.as_deref(), Some("shop:"));
        assert_eq!(settings.idle_timeout, Some(Duration::from_secs(600)));
        assert_eq!(settings.absolute_timeout, None);
        assert!(settings.build_store().expect("memory").is_some());
        for bad in ["0", "-5", "10m", "1.5"] {
            assert_eq!(
                from(&[("SESSION_ABSOLUTE_TIMEOUT", bad)]),
                Err(StoreSettingsError::InvalidTimeout {
                    variable: "SESSION_ABSOLUTE_TIMEOUT",
                    value: bad.into()
                })
            );
        }
    }

    #[test]
    #[cfg(all(feature = "memcached", feature = "redis"))]
    fn servers_and_prefixes_are_checked_when_built() {
        let built = |vars: &[(&str, &str)]| {
            from(vars)
                .expect("parses")
                .build_store()
                .map(|s| s.is_some())
        };
        assert_eq!(
            built(&[("SESSION_STORE", "memcached://127.0.0.1:1")]),
            Ok(true)
        );
        assert_eq!(built(&[("SESSION_STORE", "redis://127.0.0.1:1")]), Ok(true));
        assert_eq!(
            built(&[("SESSION_STORE", "memcached://")]),
            Err(StoreSettingsError::Store(StoreConfigError::NoServers))
        );
        assert!(matches!(
            built(&[
                ("SESSION_STORE", "redis://127.0.0.1:1"),
                ("SESSION_STORE_PREFIX", "a b")
            ]),
            Err(StoreSettingsError::Store(StoreConfigError::InvalidPrefix(
                _
            )))
        ));
    }
}
