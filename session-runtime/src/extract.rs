//! [`Session<T>`], the handler's view of the session, and the errors it reports.

use core::fmt;
use core::ops::Deref;
use std::sync::RwLockReadGuard;

use http::HeaderMap;

use crate::codec::SessionMeta;
use crate::envelope::SessionId;
use crate::error::SealError;
use crate::flash::{FlashMessage, Level, MAX_FLASHES, truncate_text};
use crate::schema::{BoundsError, CookieSession, decode_exact};
use crate::service::{Handle, Loaded, State, load_flashes};

/// The session of the current request, typed by its schema `T`.
///
/// Take it as a handler argument under a [`SessionLayer<T>`](crate::SessionLayer). The cookie
/// is opened when the extractor runs, so handlers that do not take a `Session` pay nothing.
/// A request without a (valid) session cookie gets `T::default()`; nothing is written back
/// unless the handler changes it.
///
/// Every change goes through [`update`](Self::update) or [`insert`](Self::insert), which refuse
/// a change that would no longer fit the session's cookies and leave the session as it was:
/// the error reaches the handler, instead of a cookie the browser silently drops.
///
/// ```
/// use serde::{Deserialize, Serialize};
/// use session_runtime::{CookieSession, Level, Session, SessionError};
///
/// #[derive(CookieSession, Serialize, Deserialize, Default)]
/// #[session(version = 1, max_cookies = 1)]
/// struct Account {
///     user_id: Option<u64>,
/// }
///
/// async fn login(mut session: Session<Account>) -> Result<&'static str, SessionError> {
///     session.regenerate()?; // a new session id at every privilege change
///     session.update(|a| a.user_id = Some(42))?;
///     session.flash(Level::Success, "Welcome back!")?;
///     Ok("logged in")
/// }
///
/// async fn logout(mut session: Session<Account>) -> &'static str {
///     session.clear(); // expires every chunk of the cookie
///     "bye"
/// }
///
/// async fn whoami(session: Session<Account>) -> String {
///     format!("{:?}", session.get().user_id)
/// }
/// ```
///
/// [`get`](Self::get) returns a read guard: drop it before calling a `&mut self` method
/// (the borrow checker insists) and before the next `.await`.
pub struct Session<T> {
    handle: Handle<T>,
}

impl<T> fmt::Debug for Session<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session").finish_non_exhaustive()
    }
}

/// Why a session change was refused. The session is left as it was before the change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// The session would seal to more than its cookies can carry.
    #[error(
        "the session would need {size} bytes of cookie value, over the {budget} its cookies carry; the change was not applied"
    )]
    TooLarge {
        /// Characters of sealed value the change would need.
        size: usize,
        /// Characters available.
        budget: usize,
    },
    /// A `#[session(max_len = N)]` bound would be broken.
    #[error("{0}; the change was not applied")]
    Bounds(BoundsError),
    /// The value could not be encoded (a custom serde impl failed).
    #[error("the session could not be encoded: {0}")]
    Encode(String),
    /// The operating system's random source failed.
    #[error("the operating system's random number source failed")]
    Random,
}

impl From<SealError> for SessionError {
    fn from(err: SealError) -> Self {
        match err {
            SealError::TooLarge { size, budget } => SessionError::TooLarge { size, budget },
            SealError::Bounds(b) => SessionError::Bounds(b),
            SealError::Encode(e) => SessionError::Encode(e),
            SealError::Random => SessionError::Random,
        }
    }
}

/// Why the session extractor could not run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SessionRejection {
    /// No [`SessionLayer`](crate::SessionLayer) for this schema wraps the route (500).
    #[error(
        "Session<{schema}> needs a SessionLayer<{schema}> around this route: add `.layer(SessionLayer::<{schema}>::new(key))` to the router, after the routes that use it"
    )]
    MissingLayer {
        /// The schema type.
        schema: &'static str,
    },
    /// The session cookie did not open, under [`BadCookiePolicy::Reject`](crate::BadCookiePolicy) (400).
    #[error("invalid session cookie: {reason}")]
    BadCookie {
        /// Why, without the cookie's contents.
        reason: &'static str,
    },
    /// The read-only schema extractor found no session (401). Take `Option<Schema>` to
    /// handle that case yourself.
    #[error("no {schema} session: sign in first")]
    NoSession {
        /// The schema type.
        schema: &'static str,
    },
    /// The session could not be prepared (500): the random source failed.
    #[error("the session could not be prepared: {0}")]
    Internal(&'static str),
}

/// Read access to the session value; derefs to `T`. Drop it before the next `.await`.
pub struct SessionRef<'a, T> {
    guard: RwLockReadGuard<'a, State<T>>,
}

impl<T> fmt::Debug for SessionRef<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionRef").finish_non_exhaustive()
    }
}

impl<T> Deref for SessionRef<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // `Session::from_handle` fills the value and nothing empties it afterwards.
        self.guard
            .session
            .as_ref()
            .and_then(|s| s.value.as_ref())
            .expect("a Session always holds a value")
    }
}

fn loaded<T>(state: &mut State<T>) -> &mut Loaded<T> {
    state
        .session
        .as_mut()
        .expect("a Session is only built after the state is loaded")
}

fn loaded_ref<T>(state: &State<T>) -> &Loaded<T> {
    state
        .session
        .as_ref()
        .expect("a Session is only built after the state is loaded")
}

impl<T: CookieSession + Default + Send + Sync> Session<T> {
    /// Finds the layer's state for this request and opens the session.
    pub(crate) fn from_parts(
        extensions: &http::Extensions,
        headers: &HeaderMap,
    ) -> Result<Self, SessionRejection> {
        let handle = layer_handle::<T>(extensions)?;
        {
            let mut state = handle.load(headers).map_err(bad_cookie)?;
            let now = state.now;
            let session = loaded(&mut state);
            if session.value.is_none() {
                session.value = Some(T::default());
            }
            if session.meta.is_none() {
                session.meta =
                    Some(SessionMeta::new(now).map_err(|_| {
                        SessionRejection::Internal("no randomness for a session id")
                    })?);
            }
        }
        Ok(Session { handle })
    }

    /// Read access to the session value.
    pub fn get(&self) -> SessionRef<'_, T> {
        SessionRef {
            guard: self.handle.read(),
        }
    }

    /// Changes the session with `f`, if the result still fits its budget and `max_len` bounds.
    ///
    /// On `Err` the change is undone and nothing is written.
    pub fn update<R>(&mut self, f: impl FnOnce(&mut T) -> R) -> Result<R, SessionError> {
        let limit = self.handle.shared().codec.capacity_total();
        let codec_value_len = |len| self.handle.shared().codec.value_len(len);
        let mut state = self.handle.lock();
        let session = loaded(&mut state);
        let Some(value) = session.value.as_mut() else {
            return Err(SessionError::Encode("session not loaded".to_owned()));
        };
        let before =
            postcard::to_allocvec(value).map_err(|e| SessionError::Encode(e.to_string()))?;
        let out = f(value);
        if let Err(err) = fits(value, limit, codec_value_len) {
            match decode_exact::<T>(&before) {
                Ok(old) => *value = old,
                Err(_) => {
                    tracing::error!(
                        schema = T::NAME,
                        "could not restore the session after a refused change"
                    );
                }
            }
            return Err(err);
        }
        session.dirty = true;
        Ok(out)
    }

    /// Replaces the session value, if the new one fits.
    pub fn insert(&mut self, new: T) -> Result<(), SessionError> {
        let limit = self.handle.shared().codec.capacity_total();
        fits(&new, limit, |len| self.handle.shared().codec.value_len(len))?;
        let mut state = self.handle.lock();
        let session = loaded(&mut state);
        session.value = Some(new);
        session.dirty = true;
        Ok(())
    }

    /// Logs out: the value goes back to `T::default()`, every chunk of the cookie is expired in
    /// the response, and any later change in this request starts a new session with a new id.
    pub fn clear(&mut self) {
        let mut state = self.handle.lock();
        let now = state.now;
        let session = loaded(&mut state);
        session.value = Some(T::default());
        session.meta = SessionMeta::new(now).ok();
        session.dirty = false;
        session.cleared = true;
        session.existed = false;
        session.reseal = Default::default();
    }

    /// Gives the session a new id and issue time, keeping its value. Call it at login and at
    /// every privilege change, so an id planted before login is worthless after it.
    pub fn regenerate(&mut self) -> Result<(), SessionError> {
        let mut state = self.handle.lock();
        let now = state.now;
        let session = loaded(&mut state);
        let mut meta = match session.meta {
            Some(meta) => meta,
            None => SessionMeta::new(now)?,
        };
        meta.regenerate(now)?;
        session.meta = Some(meta);
        session.dirty = true;
        Ok(())
    }

    /// The session id (128 random bits; new sessions get theirs now, before the first save).
    pub fn id(&self) -> Option<SessionId> {
        let state = self.handle.read();
        loaded_ref(&state).meta.map(|m| m.id)
    }

    /// The id and timestamps, as sealed.
    pub fn meta(&self) -> Option<SessionMeta> {
        let state = self.handle.read();
        loaded_ref(&state).meta
    }

    /// `true` when the request carried no valid session cookie.
    pub fn is_new(&self) -> bool {
        let state = self.handle.read();
        !loaded_ref(&state).existed
    }

    /// How many cookies the incoming session was spread over (0 for a new session).
    pub fn chunk_count(&self) -> u8 {
        let state = self.handle.read();
        loaded_ref(&state).chunks
    }

    /// Queues a one-shot message for the next request ([`take_flashes`](Self::take_flashes)).
    ///
    /// Flashes travel in their own small cookie, so they survive [`clear`](Self::clear). At
    /// most [`MAX_FLASHES`] are kept (the oldest go first) and texts are cut to
    /// [`MAX_FLASH_TEXT`](crate::flash::MAX_FLASH_TEXT) bytes, so a flash always fits.
    pub fn flash(&mut self, level: Level, text: impl Into<String>) -> Result<(), SessionError> {
        let mut state = self.handle.lock();
        let outgoing = &mut state.flash.outgoing;
        outgoing.push(FlashMessage {
            level,
            text: truncate_text(text.into()),
        });
        if outgoing.len() > MAX_FLASHES {
            outgoing.remove(0);
        }
        Ok(())
    }

    /// The flash messages set by earlier responses; they are removed in this response.
    pub fn take_flashes(&mut self) -> Vec<FlashMessage> {
        let mut state = self.handle.lock();
        let messages = load_flashes(self.handle.shared(), &mut state.flash);
        state.flash.taken = true;
        messages
    }
}

fn fits<T: CookieSession>(
    value: &T,
    limit: usize,
    value_len: impl Fn(usize) -> usize,
) -> Result<(), SessionError> {
    value.check_bounds().map_err(SessionError::Bounds)?;
    // Within its bounds, a schema whose worst case fits needs no measuring.
    if T::MAX_ENCODED_LEN.is_some_and(|max| value_len(max) <= limit) {
        return Ok(());
    }
    let encoded = postcard::experimental::serialized_size(value)
        .map_err(|e| SessionError::Encode(e.to_string()))?;
    let size = value_len(encoded);
    if size > limit {
        return Err(SessionError::TooLarge {
            size,
            budget: limit,
        });
    }
    Ok(())
}

/// [`read_only`], with "no session" as a rejection (401): the extractor for a handler that
/// takes the schema itself.
pub fn read_required<T: CookieSession + Send + Sync>(
    extensions: &http::Extensions,
    headers: &HeaderMap,
) -> Result<T, SessionRejection> {
    read_only(extensions, headers)?.ok_or(SessionRejection::NoSession { schema: T::NAME })
}

/// The layer's per-request state, or the rejection that names the missing layer.
fn layer_handle<T: CookieSession + Send + Sync>(
    extensions: &http::Extensions,
) -> Result<Handle<T>, SessionRejection> {
    extensions
        .get::<Handle<T>>()
        .cloned()
        .ok_or(SessionRejection::MissingLayer { schema: T::NAME })
}

/// A cookie refused under [`BadCookiePolicy::Reject`](crate::BadCookiePolicy::Reject).
fn bad_cookie(err: crate::error::OpenError) -> SessionRejection {
    SessionRejection::BadCookie {
        reason: err.reason(),
    }
}

/// The read-only schema extractor behind the derive: a copy of the session value, or `None`
/// when the request has no session.
pub fn read_only<T: CookieSession + Send + Sync>(
    extensions: &http::Extensions,
    headers: &HeaderMap,
) -> Result<Option<T>, SessionRejection> {
    let handle = layer_handle::<T>(extensions)?;
    let mut state = handle.load(headers).map_err(bad_cookie)?;
    let session = loaded(&mut state);
    if !session.existed && !session.dirty {
        return Ok(None);
    }
    let Some(value) = &session.value else {
        return Ok(None);
    };
    // A copy without asking schemas to be `Clone`: through the encoding every schema has.
    let bytes = postcard::to_allocvec(value)
        .map_err(|_| SessionRejection::Internal("the session could not be copied"))?;
    decode_exact::<T>(&bytes)
        .map(Some)
        .map_err(|_| SessionRejection::Internal("the session could not be copied"))
}

#[cfg(feature = "axum")]
mod axum_impls {
    use axum_core::extract::FromRequestParts;
    use axum_core::response::{IntoResponse, Response};
    use http::StatusCode;
    use http::request::Parts;

    use super::{Session, SessionError, SessionRejection};
    use crate::schema::CookieSession;

    impl<S, T> FromRequestParts<S> for Session<T>
    where
        S: Send + Sync,
        T: CookieSession + Default + Send + Sync,
    {
        type Rejection = SessionRejection;

        async fn from_request_parts(
            parts: &mut Parts,
            _state: &S,
        ) -> Result<Self, Self::Rejection> {
            Session::from_parts(&parts.extensions, &parts.headers)
        }
    }

    impl IntoResponse for SessionRejection {
        fn into_response(self) -> Response {
            let status = match self {
                SessionRejection::MissingLayer { .. } | SessionRejection::Internal(_) => {
                    StatusCode::INTERNAL_SERVER_ERROR
                }
                SessionRejection::BadCookie { .. } => StatusCode::BAD_REQUEST,
                SessionRejection::NoSession { .. } => StatusCode::UNAUTHORIZED,
            };
            if status.is_server_error() {
                tracing::error!(error = %self, "session extractor failed");
            }
            (status, self.to_string()).into_response()
        }
    }

    impl IntoResponse for SessionError {
        fn into_response(self) -> Response {
            let status = match self {
                SessionError::TooLarge { .. } | SessionError::Bounds(_) => {
                    StatusCode::PAYLOAD_TOO_LARGE
                }
                SessionError::Encode(_) | SessionError::Random => StatusCode::INTERNAL_SERVER_ERROR,
            };
            tracing::warn!(error = %self, "session change refused");
            (status, self.to_string()).into_response()
        }
    }
}
