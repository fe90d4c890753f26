//! The per-request session state: what the request brought, what the handler did with it, and
//! the one decision made from both — whether the response writes, removes or leaves the cookies.
//!
//! Loading (cookies → [`Codec`] → value) and saving (value → [`Codec`] → Set-Cookie) both go
//! through this module, once per request; the service and the extractors only call it.

use core::fmt;
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use http::header::{CACHE_CONTROL, COOKIE, SET_COOKIE, VARY};
use http::{HeaderMap, HeaderValue};
use zeroize::Zeroizing;

use crate::chunk;
use crate::clock::Clock;
use crate::codec::{Codec, Opened, Reseal};
use crate::config::Config;
use crate::envelope::SessionMeta;
use crate::error::OpenError;
use crate::flash::FlashState;
use crate::schema::CookieSession;

/// What the layer does with an incoming session cookie that does not open: tampered, truncated,
/// sealed under an unknown key, or written by a newer schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum BadCookiePolicy {
    /// Start a fresh session, log the reason, and expire the bad cookies in the response
    /// (the default: a user with a stale cookie simply appears logged out).
    #[default]
    FreshSession,
    /// Reject the request with `400 Bad Request` when a handler extracts the session.
    ///
    /// The 400 response still expires the bad cookies, so the client recovers on its next
    /// request. Handlers that never extract the session are not affected. Expired sessions are
    /// treated as fresh ones: expiry is the normal end of a session, not an attack.
    Reject,
}

/// A hook run on the session value, with its meta.
pub(crate) type Hook<T> = Arc<dyn Fn(&mut T, &SessionMeta) + Send + Sync>;

/// Everything a request needs from its layer, built once by the layer.
pub(crate) struct Shared<T> {
    pub(crate) config: Config,
    pub(crate) codec: Codec,
    pub(crate) flash_codec: Codec,
    pub(crate) policy: BadCookiePolicy,
    pub(crate) clock: Clock,
    pub(crate) on_restored: Vec<Hook<T>>,
    pub(crate) before_save: Vec<Hook<T>>,
}

/// One request's state, shared between the service and the extractors through the request
/// extensions.
pub(crate) struct Handle<T> {
    inner: Arc<HandleInner<T>>,
}

struct HandleInner<T> {
    shared: Arc<Shared<T>>,
    state: RwLock<RequestState<T>>,
}

impl<T> Clone for Handle<T> {
    fn clone(&self) -> Self {
        Handle {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<T> fmt::Debug for Handle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle").finish_non_exhaustive()
    }
}

pub(crate) struct RequestState<T> {
    pub(crate) now: u32,
    pub(crate) session: SessionState<T>,
    pub(crate) flash: FlashState,
}

/// The session through one request.
pub(crate) enum SessionState<T> {
    /// No extractor has asked: nothing decoded, nothing written.
    Unopened,
    /// Opened, and the request had no session (`rejected`: it had cookies that did not open).
    /// The read-only extractor sees "no session"; [`Session`](crate::Session) makes it
    /// [`Present`](Self::Present) with a default value.
    Absent { rejected: bool },
    /// A value the handler can read and change.
    Present(Loaded<T>),
}

pub(crate) struct Loaded<T> {
    pub(crate) value: T,
    pub(crate) meta: SessionMeta,
    pub(crate) origin: Origin,
    pub(crate) change: Change,
}

/// What the request brought.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Origin {
    /// No session cookie.
    Nothing,
    /// Session cookies that did not open: removed unless the response writes a new session.
    Rejected,
    /// A session sealed in `chunks` cookies.
    Cookie { chunks: u8, reseal: Reseal },
}

/// What the handler did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Change {
    Untouched,
    Modified,
    /// Logged out: the cookies are removed (a later change starts a new session).
    Cleared,
    /// A change panicked half-way: the value is not trusted and nothing is written.
    Poisoned,
}

/// What the response does with the session cookies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Nothing,
    Write,
    Remove,
}

impl<T> RequestState<T> {
    fn outcome(&self, codec: &Codec) -> Outcome {
        let loaded = match &self.session {
            SessionState::Unopened | SessionState::Absent { rejected: false } => {
                return Outcome::Nothing;
            }
            SessionState::Absent { rejected: true } => return Outcome::Remove,
            SessionState::Present(loaded) => loaded,
        };
        match (loaded.change, loaded.origin) {
            (Change::Poisoned, _) => Outcome::Nothing,
            (Change::Modified, _) => Outcome::Write,
            (Change::Cleared, _) | (Change::Untouched, Origin::Rejected) => Outcome::Remove,
            (Change::Untouched, Origin::Nothing) => Outcome::Nothing,
            (Change::Untouched, Origin::Cookie { reseal, .. }) => {
                if reseal.needed() || codec.lifetime().refresh_due(&loaded.meta, self.now) {
                    Outcome::Write
                } else {
                    Outcome::Nothing
                }
            }
        }
    }
}

impl<T: CookieSession> Handle<T> {
    pub(crate) fn new(shared: Arc<Shared<T>>) -> Self {
        Handle {
            inner: Arc::new(HandleInner {
                shared,
                state: RwLock::new(RequestState {
                    now: 0,
                    session: SessionState::Unopened,
                    flash: FlashState::default(),
                }),
            }),
        }
    }

    pub(crate) fn shared(&self) -> &Shared<T> {
        &self.inner.shared
    }

    pub(crate) fn lock(&self) -> RwLockWriteGuard<'_, RequestState<T>> {
        // A change that panicked marks the session poisoned before unwinding (see
        // `Session::update`), so a poisoned lock holds nothing that could be sealed.
        self.inner
            .state
            .write()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Shared access: any number of readers at once.
    pub(crate) fn read(&self) -> RwLockReadGuard<'_, RequestState<T>> {
        self.inner
            .state
            .read()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Opens the session from the request's cookies, once per request, scanning the `Cookie`
    /// headers once for the session and the flash cookie.
    ///
    /// Errors only under [`BadCookiePolicy::Reject`]; otherwise a bad cookie is logged and the
    /// session starts fresh. Either way the bad cookies are removed in the response.
    pub(crate) fn load(
        &self,
        headers: &HeaderMap,
    ) -> Result<RwLockWriteGuard<'_, RequestState<T>>, OpenError> {
        let mut state = self.lock();
        if !matches!(state.session, SessionState::Unopened) {
            return Ok(state);
        }
        let shared = self.shared();
        let now = shared.clock.now();
        state.now = now;
        let mut session = shared.codec.chunker().gatherer();
        let mut flash = shared.flash_codec.chunker().gatherer();
        let values = headers.get_all(COOKIE);
        for (name, value) in chunk::cookie_pairs(values.iter().map(HeaderValue::as_bytes)) {
            session.offer(name, value);
            flash.offer(name, value);
        }
        state
            .flash
            .incoming(&shared.flash_codec, flash.finish(), now);
        let mut buf = Zeroizing::new(Vec::new());
        let opened = session
            .finish()
            .and_then(|gathered| {
                gathered
                    .map(|g| shared.codec.open_gathered::<T>(&g, now, &mut buf))
                    .transpose()
            });
        match opened {
            Ok(Some(opened)) => state.session = SessionState::Present(self.restored(opened)),
            Ok(None) => state.session = SessionState::Absent { rejected: false },
            Err(err) => {
                let name = shared.codec.chunker().name();
                let expired = matches!(err, OpenError::Expired(_));
                if expired {
                    tracing::debug!(cookie = name, reason = err.reason(), "session cookie expired");
                } else {
                    tracing::warn!(cookie = name, reason = err.reason(), "session cookie rejected");
                }
                state.session = SessionState::Absent { rejected: true };
                if shared.policy == BadCookiePolicy::Reject && !expired {
                    return Err(err);
                }
            }
        }
        Ok(state)
    }

    fn restored(&self, mut opened: Opened<T>) -> Loaded<T> {
        let shared = self.shared();
        let name = shared.codec.chunker().name();
        if let Some(from) = opened.reseal.migrated_from {
            tracing::info!(
                cookie = name,
                schema = T::NAME,
                from,
                to = T::VERSION,
                "session migrated to the current schema; re-sealing"
            );
        }
        if opened.reseal.fallback_key {
            tracing::info!(
                cookie = name,
                "session opened with a fallback key; re-sealing with the primary key"
            );
        }
        for hook in &shared.on_restored {
            hook(&mut opened.value, &opened.meta);
        }
        Loaded {
            value: opened.value,
            meta: opened.meta,
            origin: Origin::Cookie {
                chunks: opened.chunks,
                reseal: opened.reseal,
            },
            change: Change::Untouched,
        }
    }

    /// Writes whatever the response needs: new cookies, refreshed cookies, removals.
    pub(crate) fn finish(&self, headers: &mut HeaderMap) {
        let before = headers.get_all(SET_COOKIE).iter().count();
        self.finish_cookies(headers);
        if headers.get_all(SET_COOKIE).iter().count() > before {
            keep_out_of_shared_caches(headers);
        }
    }

    fn finish_cookies(&self, headers: &mut HeaderMap) {
        let mut state = self.lock();
        let state = &mut *state;
        let shared = self.shared();
        match state.outcome(&shared.codec) {
            Outcome::Nothing => {}
            Outcome::Remove => shared.codec.remove(headers),
            Outcome::Write => {
                if let SessionState::Present(loaded) = &mut state.session {
                    self.save(loaded, state.now, headers);
                }
            }
        }
        state.flash.finish(&shared.flash_codec, state.now, headers);
    }

    fn save(&self, loaded: &mut Loaded<T>, now: u32, headers: &mut HeaderMap) {
        let shared = self.shared();
        let codec = &shared.codec;
        loaded.meta.last_access = now;
        for hook in &shared.before_save {
            hook(&mut loaded.value, &loaded.meta);
        }
        match codec.write(&loaded.value, &loaded.meta, headers) {
            Ok(used) => {
                let total = codec.capacity_total();
                if used * 10 >= total * 9 {
                    tracing::warn!(
                        cookie = codec.chunker().name(),
                        schema = T::NAME,
                        used,
                        total,
                        "session is near its cookie budget"
                    );
                }
            }
            Err(err) => tracing::error!(
                cookie = codec.chunker().name(),
                schema = T::NAME,
                error = %err,
                "session could not be saved; the previous cookie stays in place"
            ),
        }
    }
}

/// A response that sets session cookies must not be stored by a shared cache and replayed to
/// another user: it becomes `private, no-store` (unless the application already said so) and
/// varies on `Cookie`.
fn keep_out_of_shared_caches(headers: &mut HeaderMap) {
    let already = headers.get_all(CACHE_CONTROL).iter().any(|v| {
        let v = v.as_bytes().to_ascii_lowercase();
        v.windows(8).any(|w| w == b"no-store") || v.windows(7).any(|w| w == b"private")
    });
    if !already {
        headers.insert(
            CACHE_CONTROL,
            HeaderValue::from_static("private, no-store"),
        );
    }
    let varies = headers.get_all(VARY).iter().any(|v| {
        v.to_str()
            .is_ok_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case("cookie") || t.trim() == "*"))
    });
    if !varies {
        headers.append(VARY, HeaderValue::from_static("Cookie"));
    }
}
