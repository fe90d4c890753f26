//! [`SessionLayer`], the tower `Layer` that carries a typed session in sealed cookies, and
//! [`SessionLayerBuilder`], the one place every setting is made.

use core::fmt;
use core::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use tower_layer::Layer;

use crate::clock::{Clock, Lifetime};
use crate::codec::Codec;
use crate::config::{Config, ConfigError, Padding, SameSite};
use crate::envelope::SessionMeta;
use crate::flash;
use crate::key::KeySource;
use crate::lifecycle::{BadCookiePolicy, Core, Hook, Writer};
use crate::schema::{CookieSession, Downgrade};
use crate::service::SessionService;
use crate::store::persistence::{Persistence, RevocationLoss, StoreFailure, StoreMode};
use crate::store::{SessionStore, StoreError, StoreSettings, StoreSettingsError, Timed};

/// The session middleware: put it on a router and take [`Session<T>`](crate::Session) in
/// handlers.
///
/// `T` is the session schema, a `#[derive(CookieSession)]` struct. The layer is cheap to clone;
/// every clone shares the same keys and configuration.
///
/// With the `actix` feature the same layer is also actix-web middleware: `.wrap(layer.clone())`
/// on an `App` or a scope (its service is `ActixService`, whose documentation has the example).
/// Build it once, outside `HttpServer::new`'s closure, and clone it into every worker.
///
/// ```
/// use axum::{Router, routing::get};
/// use serde::{Deserialize, Serialize};
/// use session_runtime::{CookieSession, Key, Session, SessionError, SessionLayer};
///
/// #[derive(CookieSession, Serialize, Deserialize, Default)]
/// #[session(version = 1, max_cookies = 1)]
/// struct Visits {
///     count: u32,
/// }
///
/// async fn count(mut session: Session<Visits>) -> Result<String, SessionError> {
///     let n = session.update(|v| {
///         v.count += 1;
///         v.count
///     })?;
///     Ok(format!("visit number {n}"))
/// }
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let key = Key::generate(); // in production: Keys::from_env()?
/// let app: Router = Router::new()
///     .route("/", get(count))
///     .layer(SessionLayer::<Visits>::new(key));
/// # Ok(())
/// # }
/// ```
pub struct SessionLayer<T> {
    core: Arc<Core<T>>,
}

impl<T> Clone for SessionLayer<T> {
    fn clone(&self) -> Self {
        SessionLayer {
            core: Arc::clone(&self.core),
        }
    }
}

impl<T> fmt::Debug for SessionLayer<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionLayer")
            .field("codec", &self.core.codec)
            .field("policy", &self.core.policy)
            .finish_non_exhaustive()
    }
}

impl<T: CookieSession> SessionLayer<T> {
    /// A layer with the default cookie settings (`session`, Secure, HttpOnly, SameSite=Lax,
    /// Path=/, at most 2 cookies, idle 30 min, absolute 12 h).
    ///
    /// # Panics
    ///
    /// If `T`'s worst case cannot fit two cookies. Use [`builder`](Self::builder) to configure
    /// more cookies, or [`try_new`](Self::try_new) to get the error instead; both refuse a bad
    /// configuration when the layer is built, never at request time.
    pub fn new(keys: impl Into<KeySource>) -> Self {
        match Self::try_new(keys) {
            Ok(layer) => layer,
            Err(err) => panic!("SessionLayer<{}>: {err}", T::NAME),
        }
    }

    /// [`new`](Self::new), returning the configuration error instead of panicking.
    pub fn try_new(keys: impl Into<KeySource>) -> Result<Self, ConfigError> {
        Self::builder(keys).build()
    }

    /// A builder, starting from the defaults.
    ///
    /// `keys`: a [`Key`](crate::Key) or [`Keys`](crate::Keys), fixed for the layer's life, or
    /// a [`KeySource`] read from a key file that can change while the process runs (see
    /// [`KeySource`] for reloading and the rotation procedure).
    pub fn builder(keys: impl Into<KeySource>) -> SessionLayerBuilder<T> {
        SessionLayerBuilder {
            keys: keys.into(),
            config: Config::new("session"),
            host_prefix: false,
            policy: BadCookiePolicy::default(),
            lifetime: Lifetime::default(),
            writer: Writer::current(),
            writing_as: T::NAME,
            store: None,
            revocation: None,
            previous: None,
            store_timeout: Duration::from_millis(500),
            on_store_failure: StoreFailure::default(),
            on_revocation_loss: RevocationLoss::default(),
            clock: Clock::System,
            on_restored: Vec::new(),
            before_save: Vec::new(),
            _schema: PhantomData,
        }
    }

    /// The core the actix-web adapter's services share.
    #[cfg(feature = "actix")]
    pub(crate) fn core(&self) -> &Arc<Core<T>> {
        &self.core
    }

    /// The codec the layer seals and opens with (for tools and tests that need the raw values).
    pub fn codec(&self) -> &Codec {
        &self.core.codec
    }

    /// Where the layer's keys come from: the [`KeySource`] it was built with (shared, not a
    /// copy), to [`reload`](KeySource::reload) it or read the set in use.
    pub fn key_source(&self) -> &KeySource {
        &self.core.keys
    }

    /// Logs a subject out everywhere: every session named for it with
    /// [`Session::set_subject`](crate::Session::set_subject) and issued before now stops
    /// opening, in every instance sharing the store. Works in every mode with a store
    /// ([`with_store`](SessionLayerBuilder::with_store),
    /// [`with_overflow_store`](SessionLayerBuilder::with_overflow_store),
    /// [`with_revocation`](SessionLayerBuilder::with_revocation)); without one it is an error.
    ///
    /// A session named, or regenerated, after this call is not affected, however close in
    /// time and on whichever instance: call this and then
    /// [`Session::regenerate`](crate::Session::regenerate) to log out every other device and
    /// keep this one. The record is kept under a tag of each key of the set, so a session
    /// sealed under a fallback key stays revocable through a key rotation.
    pub async fn revoke_all(&self, subject: &str) -> Result<(), StoreError> {
        self.core.revoke_all(subject).await
    }

    /// The cookie name, `__Host-` prefix included ([`with_cookie_name`](SessionLayerBuilder::with_cookie_name)).
    pub fn cookie_name(&self) -> &str {
        &self.core.config.name
    }

    /// The most cookies a session may span ([`with_max_cookies`](SessionLayerBuilder::with_max_cookies)).
    pub fn max_cookies(&self) -> u8 {
        self.core.config.max_cookies
    }

    /// The idle timeout ([`with_idle_timeout`](SessionLayerBuilder::with_idle_timeout)).
    pub fn idle_timeout(&self) -> Option<Duration> {
        self.core.codec.lifetime().idle
    }

    /// The absolute timeout ([`with_absolute_timeout`](SessionLayerBuilder::with_absolute_timeout)).
    pub fn absolute_timeout(&self) -> Option<Duration> {
        self.core.codec.lifetime().absolute
    }
}

impl<S, T> Layer<S> for SessionLayer<T> {
    type Service = SessionService<S, T>;

    fn layer(&self, inner: S) -> Self::Service {
        SessionService::new(inner, Arc::clone(&self.core))
    }
}

/// Builds a [`SessionLayer`]; every setting is checked in [`build`](Self::build).
///
/// ```
/// use std::time::Duration;
/// use serde::{Deserialize, Serialize};
/// use session_runtime::{BadCookiePolicy, CookieSession, Key, Keys, SameSite, SessionLayer};
///
/// #[derive(CookieSession, Serialize, Deserialize, Default)]
/// #[session(version = 1, max_cookies = 3)]
/// struct Cart {
///     #[session(max_len = 1000)]
///     items: Vec<(u32, u16)>,
/// }
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let (new_key, old_key) = (Key::generate(), Key::generate());
/// let layer = SessionLayer::<Cart>::builder(Keys::new(new_key).with_fallback(old_key))
///     .with_cookie_name("cart")
///     .with_host_prefix()
///     .with_same_site(SameSite::Strict)
///     .with_max_cookies(3)
///     .with_idle_timeout(Some(Duration::from_secs(20 * 60)))
///     .with_bad_cookie_policy(BadCookiePolicy::Reject)
///     .build()?;
/// assert_eq!(layer.cookie_name(), "__Host-cart");
///
/// // Refused at build time, with what to change:
/// let err = SessionLayer::<Cart>::builder(Key::generate()).build().unwrap_err();
/// assert!(err.to_string().contains("raise max_cookies"));
/// # Ok(())
/// # }
/// ```
pub struct SessionLayerBuilder<T> {
    keys: KeySource,
    config: Config,
    host_prefix: bool,
    policy: BadCookiePolicy,
    lifetime: Lifetime,
    writer: Writer<T>,
    /// The schema `writing::<P>()` named, for the error when it is not `previous`.
    writing_as: &'static str,
    store: Option<(Arc<dyn SessionStore>, StoreMode)>,
    revocation: Option<Arc<dyn SessionStore>>,
    previous: Option<Arc<dyn SessionStore>>,
    store_timeout: Duration,
    on_store_failure: StoreFailure,
    on_revocation_loss: RevocationLoss,
    clock: Clock,
    on_restored: Vec<Hook<T>>,
    before_save: Vec<Hook<T>>,
    _schema: PhantomData<fn() -> T>,
}

impl<T> fmt::Debug for SessionLayerBuilder<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionLayerBuilder")
            .field("keys", &self.keys)
            .field("config", &self.config)
            .field("host_prefix", &self.host_prefix)
            .field("policy", &self.policy)
            .field("lifetime", &self.lifetime)
            .finish_non_exhaustive()
    }
}

impl<T: CookieSession> SessionLayerBuilder<T> {
    /// The cookie name (default `session`); further chunks are `name.1`, `name.2`, ….
    pub fn with_cookie_name(mut self, name: impl Into<String>) -> Self {
        self.config.name = name.into();
        self
    }

    /// Prefixes the name with `__Host-`: the browser then accepts the cookie only over HTTPS,
    /// from this exact host, with `Path=/`. `build` refuses it with a Domain, another Path or
    /// without Secure.
    pub fn with_host_prefix(mut self) -> Self {
        self.host_prefix = true;
        self
    }

    /// A label for this application, bound into every sealed value (default: none).
    ///
    /// What a cookie is bound to: the key (through the key id and the cipher), the cookie name,
    /// the envelope format and chunk count, and this purpose. Two applications that share a
    /// key and a cookie name (on one domain, or sibling subdomains) open each other's sessions
    /// unless their purposes differ: give each its own, e.g. `"shop"` and `"admin"`. Changing
    /// the purpose of a deployed application ends its sessions, like a key change.
    pub fn with_purpose(mut self, purpose: impl Into<String>) -> Self {
        self.config.purpose = purpose.into();
        self
    }

    /// The `Secure` attribute (default on).
    ///
    /// # Warning
    ///
    /// Without `Secure` the browser also sends the session over plain HTTP, where anyone on the
    /// path can copy it. Turn it off only for local development over `http://127.0.0.1`.
    pub fn with_secure(mut self, secure: bool) -> Self {
        self.config.secure = secure;
        self
    }

    /// The `HttpOnly` attribute (default on).
    ///
    /// # Warning
    ///
    /// Without it, any script injected into the page can read and exfiltrate the session.
    pub fn with_http_only(mut self, http_only: bool) -> Self {
        self.config.http_only = http_only;
        self
    }

    /// The `SameSite` attribute (default `Lax`).
    ///
    /// # Warning
    ///
    /// `SameSite=None` sends the session on cross-site requests: protect every state-changing
    /// route against CSRF yourself. It also requires Secure.
    pub fn with_same_site(mut self, same_site: SameSite) -> Self {
        self.config.same_site = same_site;
        self
    }

    /// The `Path` attribute (default `/`).
    pub fn with_path(mut self, path: impl Into<String>) -> Self {
        self.config.path = path.into();
        self
    }

    /// The `Domain` attribute (default none: this host only).
    ///
    /// # Warning
    ///
    /// A Domain makes every subdomain receive the session; any of them can then replay it.
    pub fn with_domain(mut self, domain: impl Into<String>) -> Self {
        self.config.domain = Some(domain.into());
        self
    }

    /// The `Partitioned` attribute (CHIPS), for sessions inside third-party iframes.
    pub fn with_partitioned(mut self, partitioned: bool) -> Self {
        self.config.partitioned = partitioned;
        self
    }

    /// A persistent cookie kept by the browser for `lifetime` (`Max-Age`), instead of the
    /// default browser-session cookie. The idle and absolute timeouts still apply.
    pub fn with_persistent(mut self, lifetime: Duration) -> Self {
        self.config.max_age = Some(lifetime);
        self
    }

    /// A browser-session cookie, dropped when the browser closes (the default).
    pub fn with_browser_session(mut self) -> Self {
        self.config.max_age = None;
        self
    }

    /// Sessions not used for this long are refused (default 30 minutes); `None` for no limit.
    pub fn with_idle_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.lifetime.idle = timeout;
        self
    }

    /// Sessions older than this are refused, however busy (default 12 hours); `None` for no
    /// limit.
    ///
    /// # Warning
    ///
    /// Without an absolute timeout a stolen cookie that is used often enough never expires.
    pub fn with_absolute_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.lifetime.absolute = timeout;
        self
    }

    /// The most cookies one session may span (default 2, at most 16).
    ///
    /// Browsers send every cookie in one `Cookie` header, and stock nginx and Apache refuse
    /// request header lines above about 8 KiB; raise their limits (nginx
    /// `large_client_header_buffers`, Apache `LimitRequestFieldSize`) before going past 2.
    pub fn with_max_cookies(mut self, max_cookies: u8) -> Self {
        self.config.max_cookies = max_cookies;
        self
    }

    /// The longest Set-Cookie header value, attributes included (default and maximum 4096).
    pub fn with_max_cookie_len(mut self, len: usize) -> Self {
        self.config.max_cookie_len = len;
        self
    }

    /// Pads sealed values to size buckets so the cookie length does not reveal the content.
    pub fn with_padding(mut self, padding: Padding) -> Self {
        self.config.padding = padding;
        self
    }

    /// What to do with a cookie that does not open (default: a fresh session and a log line).
    pub fn with_bad_cookie_policy(mut self, policy: BadCookiePolicy) -> Self {
        self.policy = policy;
        self
    }

    /// How stale the sealed last-access time may get before an unchanged session is re-sealed
    /// to push its idle expiry forward (default 60 s). Must be shorter than the idle timeout.
    pub fn with_refresh_after(mut self, threshold: Duration) -> Self {
        self.lifetime.refresh_after = threshold;
        self
    }

    /// The clock expiry is computed with (default: the system clock).
    pub fn with_clock(mut self, clock: impl Into<Clock>) -> Self {
        self.clock = clock.into();
        self
    }

    /// Runs `hook` on every session restored from a cookie, after it is opened (and migrated)
    /// and before any handler sees it.
    pub fn on_restored(
        mut self,
        hook: impl Fn(&mut T, &SessionMeta) + Send + Sync + 'static,
    ) -> Self {
        self.on_restored.push(Arc::new(hook));
        self
    }

    /// Runs `hook` on every session about to be sealed into a response.
    ///
    /// A hook that grows the session past its budget makes that save fail: the error is logged
    /// and the previous cookie stays in place.
    pub fn before_save(
        mut self,
        hook: impl Fn(&mut T, &SessionMeta) + Send + Sync + 'static,
    ) -> Self {
        self.before_save.push(Arc::new(hook));
        self
    }

    /// Keeps every session in `store`: the cookie holds only the sealed session id (one cookie
    /// of constant size, whatever the session holds), the store the same sealed envelope the
    /// cookie would (encrypted at rest), under a key derived from the id, for the session's
    /// remaining idle/absolute lifetime. `clear()` deletes the entry, so a copy of the cookie
    /// taken before logout opens nothing afterwards.
    ///
    /// Every store call is bounded by [`with_store_timeout`](Self::with_store_timeout); see
    /// [`with_store_failure`](Self::with_store_failure) for what an outage does.
    pub fn with_store(mut self, store: impl SessionStore) -> Self {
        self.store = Some((Arc::new(store), StoreMode::Always));
        self
    }

    /// Keeps sessions in their cookies, and spills only a session that outgrows its cookie
    /// budget into `store` (the cookie then switches to the id form, and back when the session
    /// shrinks). Without it, such a change is refused with
    /// [`SessionError::TooLarge`](crate::SessionError::TooLarge).
    pub fn with_overflow_store(mut self, store: impl SessionStore) -> Self {
        self.store = Some((Arc::new(store), StoreMode::Overflow));
        self
    }

    /// Revocation for sessions that live in cookies: `clear()` and `regenerate()` put the old
    /// session id on a list in `store` until it would have expired anyway, and
    /// [`SessionLayer::revoke_all`] ends every session of a subject. Each request with a
    /// session then costs one store round trip (both checks in one multi-key load).
    pub fn with_revocation(mut self, store: impl SessionStore) -> Self {
        self.revocation = Some(Arc::new(store));
        self
    }

    /// Moves sessions out of `store`, where the configuration before this one kept them, without
    /// logging anyone out: memcached to a Redis Cluster ([`with_store`](Self::with_store) the new
    /// one, this the old), or a store back to cookies (this alone, no current store).
    ///
    /// An id cookie whose entry the current store does not have is looked up in `store` (a
    /// second round trip, on a miss only; an id cookie whose session moved is found in the
    /// current store and `store` is not asked). A session found there moves on that request,
    /// whether or not the handler changes it: it is written where this configuration keeps it
    /// (the current store, or its cookies) and then its old entry is claimed and deleted. A
    /// logout deletes the entry in `store` too, before the current one, so a logout and a
    /// request moving the session at the same moment never bring it back. The records of
    /// `store` (logouts on a revocation list there, `revoke_all` of a subject) keep ending
    /// the sessions they ended; new records go to the current stores.
    ///
    /// A move from cookies needs none of this: a session still in its cookies that reaches a
    /// layer built with [`with_store`](Self::with_store) moves into the store on its first
    /// request, under a new id, and its cookies' id is recorded as retired so that a copy of
    /// them opens nothing.
    ///
    /// The procedure: deploy every instance with the new store and this setting; wait one idle
    /// timeout (a session unused that long has expired; with no idle timeout, the absolute
    /// one), or until `session_moved_total{from="previous_store"}` (feature `metrics`) has
    /// stayed at zero that long; remove this setting, then the old store. Instances of
    /// the old configuration still serving during the deploy do not see sessions the new ones
    /// moved (to them those users look logged out), so switch all traffic at once where you
    /// can. `session_store_calls_total{backend=…}` shows the old store's traffic.
    ///
    /// ```
    /// use session_runtime::{CookieSession, Key, MemoryStore, SessionLayer};
    /// # #[derive(CookieSession, serde::Serialize, serde::Deserialize, Default)]
    /// # #[session(version = 1)]
    /// # struct Cart { user_id: u64 }
    /// # let key = Key::generate();
    /// // Before: SessionLayer::<Cart>::builder(key).with_store(old_store)
    /// let (old_store, new_store) = (MemoryStore::new(), MemoryStore::new());
    /// let layer = SessionLayer::<Cart>::builder(key)
    ///     .with_store(new_store)
    ///     .with_previous_store(old_store)
    ///     .build()?;
    /// # Ok::<(), session_runtime::ConfigError>(())
    /// ```
    pub fn with_previous_store(mut self, store: impl SessionStore) -> Self {
        self.previous = Some(Arc::new(store));
        self
    }

    /// Applies [`StoreSettings`] (read with [`StoreSettings::from_env`]): the idle and absolute
    /// timeouts, and the store they name, if any, with [`with_store`](Self::with_store), so
    /// every session lives in it. For the other modes, build the store with
    /// [`StoreSettings::build_store`] and pass it to
    /// [`with_overflow_store`](Self::with_overflow_store) or
    /// [`with_revocation`](Self::with_revocation) instead.
    ///
    /// # Errors
    /// As [`StoreSettings::build_store`]: a store whose feature is off, or whose servers or
    /// prefix are refused.
    pub fn with_store_settings(self, settings: &StoreSettings) -> Result<Self, StoreSettingsError> {
        let builder = self
            .with_idle_timeout(settings.idle_timeout)
            .with_absolute_timeout(settings.absolute_timeout);
        let builder = match settings.build_store()? {
            Some(store) => builder.with_store(store),
            None => builder,
        };
        Ok(match settings.build_previous_store()? {
            Some(previous) => builder.with_previous_store(previous),
            None => builder,
        })
    }

    /// The time limit of every store call (default 500 ms): a store that does not answer in
    /// time counts as down.
    pub fn with_store_timeout(mut self, timeout: Duration) -> Self {
        self.store_timeout = timeout;
        self
    }

    /// What a request does when the store is down while its session is opened (default
    /// [`StoreFailure::FailOpen`]). A response that must write or log out and cannot is a 503
    /// whatever this says.
    pub fn with_store_failure(mut self, on_failure: StoreFailure) -> Self {
        self.on_store_failure = on_failure;
        self
    }

    /// What happens to sessions issued before a revocation store lost its records (a restart
    /// of memcached or of a Redis without persistence, a flush), detected with a marker per
    /// server read in the same round trip as the records (default
    /// [`RevocationLoss::EndOlderSessions`]: they are ended, so no logout recorded before the
    /// loss is undone by it).
    pub fn with_revocation_loss(mut self, on_loss: RevocationLoss) -> Self {
        self.on_revocation_loss = on_loss;
        self
    }

    /// Phase 1 of a rolling deploy: this build reads its current schema `T` and the previous
    /// version `P`, but keeps writing `P` (through `T`'s down-migration,
    /// `#[session(downgrade = path)]`: see [`Downgrade`]), so the instances still running the
    /// previous build can open every cookie this one writes. Phase 2, once every instance runs
    /// this build: remove this call, and `T` is written.
    ///
    /// Only the immediate previous version can be written. Cookies of version `P` are not
    /// re-sealed on every request while this is set; cookies of older versions are migrated up
    /// and written back as `P`.
    ///
    /// ```
    /// use serde::{Deserialize, Serialize};
    /// use session_runtime::{CookieSession, Key, SessionLayer};
    ///
    /// #[derive(CookieSession, Serialize, Deserialize, Default)]
    /// #[session(version = 2)]
    /// struct CartV2 { items: Vec<u32> }
    ///
    /// #[derive(CookieSession, Serialize, Deserialize, Default)]
    /// #[session(version = 3, previous = CartV2, downgrade = to_v2)]
    /// struct Cart { items: Vec<(u32, u16)> }
    ///
    /// impl From<CartV2> for Cart {
    ///     fn from(old: CartV2) -> Self { Cart { items: old.items.into_iter().map(|s| (s, 1)).collect() } }
    /// }
    /// // The down-migration: what an instance of the previous build can read.
    /// fn to_v2(new: &Cart) -> CartV2 {
    ///     CartV2 { items: new.items.iter().map(|&(sku, _)| sku).collect() }
    /// }
    ///
    /// let phase_one = SessionLayer::<Cart>::builder(Key::generate()).writing::<CartV2>().build()?;
    /// # Ok::<(), session_runtime::ConfigError>(())
    /// ```
    pub fn writing<P>(mut self) -> Self
    where
        P: CookieSession,
        T: Downgrade<P>,
    {
        self.writing_as = P::NAME;
        self.writer = Writer {
            version: P::VERSION,
            downgrade: Some(Arc::new(|codec, keys, value, meta, subject, form, buf| {
                codec.seal_form(keys, &value.downgrade(), meta, subject, form, buf)
            })),
        };
        self
    }

    /// How far in the future a sealed timestamp may be before the cookie is refused (default
    /// 5 minutes): instances' clocks differ a little, but a cookie "issued" next month is
    /// either a broken clock or a key holder minting cookies that outlive every timeout.
    pub fn with_max_clock_skew(mut self, skew: Duration) -> Self {
        self.lifetime.max_skew = skew;
        self
    }

    /// Checks every setting and the schema's worst case against the cookies, and builds the
    /// layer.
    pub fn build(self) -> Result<SessionLayer<T>, ConfigError> {
        let (keys, config) = self.prepare()?;
        let codec = Codec::new(keys.clone(), &config, self.lifetime)?;
        codec.check_schema::<T>()?;
        let flash_codec = flash::codec(keys.clone(), &config)?;
        crate::metrics::keys_loaded(keys.keys().ids());
        let persistence = Persistence::new(
            self.store
                .map(|(store, mode)| (timed(store, self.store_timeout), mode)),
            self.revocation
                .map(|store| timed(store, self.store_timeout)),
            self.previous.map(|store| timed(store, self.store_timeout)),
            self.on_store_failure,
            self.on_revocation_loss,
        );
        Ok(SessionLayer {
            core: Arc::new(Core {
                config,
                keys,
                writer: self.writer,
                codec,
                flash_codec,
                policy: self.policy,
                persistence,
                clock: self.clock,
                on_restored: self.on_restored,
                before_save: self.before_save,
            }),
        })
    }

    /// Builds only the [`Codec`]: the same cookie settings and keys, with no layer around them
    /// and no schema's worst case checked against them. For tools and tests that seal and open
    /// raw cookies.
    pub fn build_codec(self) -> Result<Codec, ConfigError> {
        let (keys, config) = self.prepare()?;
        Codec::new(keys, &config, self.lifetime)
    }

    /// The settings with the `__Host-` prefix applied, checked against each other.
    fn prepare(&self) -> Result<(KeySource, Config), ConfigError> {
        let mut config = self.config.clone();
        if self.host_prefix && !config.name.starts_with("__Host-") {
            config.name = format!("__Host-{}", config.name);
        }
        let previous = T::PREVIOUS.map(|p| p.version);
        if self.writer.version != T::VERSION && previous != Some(self.writer.version) {
            return Err(ConfigError::NotPrevious {
                schema: T::NAME,
                writing: self.writing_as,
                version: self.writer.version,
                previous: previous.map_or_else(|| "none".to_owned(), |v| v.to_string()),
            });
        }
        let stored = self.store.is_some() || self.revocation.is_some();
        if stored && self.lifetime.idle.is_none() && self.lifetime.absolute.is_none() {
            return Err(ConfigError::NoTimeoutWithStore);
        }
        if let Some(idle) = self.lifetime.idle
            && self.lifetime.refresh_after >= idle
        {
            return Err(ConfigError::RefreshAfterIdle {
                refresh: self.lifetime.refresh_after,
                idle,
            });
        }
        Ok((self.keys.clone(), config))
    }
}

fn timed(store: Arc<dyn SessionStore>, limit: Duration) -> Arc<dyn SessionStore> {
    Arc::new(Timed::new(store, limit))
}
