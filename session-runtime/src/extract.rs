//! The extractors: [`Session<T>`], the handler's view of the session, the read-only schema
//! extractor the derive generates, and the rejections they answer with.

use core::fmt;
use core::ops::Deref;
use std::sync::RwLockReadGuard;

use http::HeaderMap;
use zeroize::{Zeroize as _, Zeroizing};

use crate::codec::{MAX_STORED_LEN, Scratch, encode_into};
use crate::envelope::{SessionId, SessionMeta};
use crate::error::SessionError;
use crate::flash::{FlashMessage, Level};
use crate::schema::{CookieSession, decode_exact};
use crate::state::{Change, Handle, LoadError, Loaded, Origin, RequestState, SessionState, Shared};
use crate::storage::subject_tag;

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
///     session.flash(Level::Success, "Welcome back!");
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
    /// The session store is down, under
    /// [`StoreFailure::FailClosed`](crate::StoreFailure::FailClosed) (503).
    #[error("the session store is unavailable")]
    StoreUnavailable,
    /// The session could not be prepared (500): the random source failed.
    #[error("the session could not be prepared: {0}")]
    Internal(&'static str),
}

impl SessionRejection {
    /// The HTTP status the rejection answers with: 500 for a missing layer or no randomness,
    /// 400 for a bad cookie under `Reject`, 401 for no session, 503 for a store that is down.
    pub fn status(&self) -> http::StatusCode {
        match self {
            SessionRejection::MissingLayer { .. } | SessionRejection::Internal(_) => {
                http::StatusCode::INTERNAL_SERVER_ERROR
            }
            SessionRejection::BadCookie { .. } => http::StatusCode::BAD_REQUEST,
            SessionRejection::NoSession { .. } => http::StatusCode::UNAUTHORIZED,
            SessionRejection::StoreUnavailable => http::StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The body sent to clients: generic, naming no type, field or reason.
    pub fn public_message(&self) -> &'static str {
        match self {
            SessionRejection::MissingLayer { .. } | SessionRejection::Internal(_) => {
                "internal server error"
            }
            SessionRejection::BadCookie { .. } => "invalid session cookie",
            SessionRejection::NoSession { .. } => "sign in required",
            SessionRejection::StoreUnavailable => "service unavailable",
        }
    }
}

/// Read access to the session value; derefs to `T`. Drop it before the next `.await`.
pub struct SessionRef<'a, T> {
    guard: RwLockReadGuard<'a, RequestState<T>>,
}

impl<T> fmt::Debug for SessionRef<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionRef").finish_non_exhaustive()
    }
}

impl<T> Deref for SessionRef<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        &loaded_ref(&self.guard).value
    }
}

fn loaded<T>(state: &mut RequestState<T>) -> &mut Loaded<T> {
    match &mut state.session {
        SessionState::Present(loaded) => loaded,
        // `Session::from_parts` makes the session present, and nothing takes it back.
        _ => unreachable!("a Session is only built once its value is present"),
    }
}

fn loaded_ref<T>(state: &RequestState<T>) -> &Loaded<T> {
    match &state.session {
        SessionState::Present(loaded) => loaded,
        _ => unreachable!("a Session is only built once its value is present"),
    }
}

impl<T: CookieSession + Default + Send + Sync> Session<T> {
    /// Finds the layer's state for this request and opens the session: what the axum
    /// extractor does, for plain tower services that get the request's extensions and headers
    /// themselves.
    pub async fn from_parts(
        extensions: &http::Extensions,
        headers: &HeaderMap,
    ) -> Result<Self, SessionRejection> {
        let handle = layer_handle::<T>(extensions)?;
        handle.load(headers).await.map_err(rejection)?;
        {
            let mut state = handle.lock();
            if let SessionState::Absent { rejected } = state.session {
                let meta = SessionMeta::new(state.now)
                    .map_err(|_| SessionRejection::Internal("no randomness for a session id"))?;
                state.session = SessionState::Present(Loaded {
                    value: T::default(),
                    meta,
                    subject: None,
                    loaded: None,
                    origin: if rejected {
                        Origin::Rejected
                    } else {
                        Origin::Nothing
                    },
                    change: Change::Untouched,
                    encoded: None,
                });
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
    /// On `Err` the change is undone and nothing is written. If `f` panics, the session is
    /// not saved on this response (the previous cookie stays), so a half-made change can never
    /// be sealed.
    pub fn update<R>(&mut self, f: impl FnOnce(&mut T) -> R) -> Result<R, SessionError> {
        let shared = self.handle.shared();
        let mut state = self.handle.lock();
        let session = loaded(&mut state);
        // What a refused change rolls back to: the encoding kept from the cookie or from the
        // last change, or one made now.
        let mut before = match session.encoded.take() {
            Some(encoded) => encoded,
            None => {
                let mut before = Zeroizing::new(Vec::new());
                encode_into(&session.value, &mut before)?;
                before
            }
        };
        let prior = core::mem::replace(&mut session.change, Change::Poisoned);
        let out = f(&mut session.value);
        let mut scratch = Scratch::take();
        match encode_fitting(&session.value, shared, scratch.opening()) {
            Ok(encoded) => {
                if encoded {
                    // The new encoding replaces the old in its buffer, which usually has room.
                    before.as_mut_slice().zeroize();
                    before.clear();
                    before.extend_from_slice(scratch.bytes());
                    session.encoded = Some(before);
                }
                session.change = Change::Modified;
                Ok(out)
            }
            Err(err) => {
                match decode_exact::<T>(&before) {
                    Ok(old) => {
                        session.value = old;
                        session.change = prior;
                        session.encoded = Some(before);
                    }
                    Err(_) => tracing::error!(
                        schema = T::NAME,
                        "could not restore the session after a refused change; it will not be saved"
                    ),
                }
                Err(err)
            }
        }
    }

    /// Replaces the session value, if the new one fits.
    pub fn insert(&mut self, new: T) -> Result<(), SessionError> {
        let mut scratch = Scratch::take();
        let encoded = encode_fitting(&new, self.handle.shared(), scratch.opening())?;
        let mut state = self.handle.lock();
        let session = loaded(&mut state);
        session.value = new;
        session.change = Change::Modified;
        session.encoded = encoded.then(|| Zeroizing::new(scratch.bytes().to_vec()));
        Ok(())
    }

    /// Logs out: the value goes back to `T::default()`, every chunk of the cookie is expired in
    /// the response, and any later change in this request starts a new session with a new id.
    pub fn clear(&mut self) {
        let mut state = self.handle.lock();
        let now = state.now;
        let session = loaded(&mut state);
        session.value = T::default();
        session.encoded = None;
        match SessionMeta::new(now) {
            Ok(meta) => {
                session.meta = meta;
                session.change = Change::Cleared;
            }
            // Without a fresh id nothing may be written under the old one; the removal is
            // still sent.
            Err(_) => session.change = Change::Cleared,
        }
        session.origin = Origin::Nothing;
    }

    /// Gives the session a new id and issue time, keeping its value. Call it at login and at
    /// every privilege change, so an id planted before login is worthless after it.
    pub fn regenerate(&mut self) -> Result<(), SessionError> {
        let mut state = self.handle.lock();
        let now = state.now;
        let session = loaded(&mut state);
        session.meta = SessionMeta::new(now)?;
        if session.change != Change::Poisoned {
            session.change = Change::Modified;
        }
        Ok(())
    }

    /// Names who the session belongs to (a user id, at login), for
    /// [`SessionLayer::revoke_all`](crate::SessionLayer::revoke_all): "log out everywhere"
    /// invalidates every session of that subject issued before it. Only a one-way tag of the
    /// subject is sealed with the session. Takes effect with the next save (this marks the
    /// session changed).
    pub fn set_subject(&mut self, subject: &str) {
        let mut state = self.handle.lock();
        let session = loaded(&mut state);
        session.subject = Some(subject_tag(subject));
        if session.change != Change::Poisoned {
            session.change = Change::Modified;
        }
    }

    /// The session id (128 random bits; new sessions get theirs now, before the first save).
    pub fn id(&self) -> SessionId {
        loaded_ref(&self.handle.read()).meta.id
    }

    /// The id and timestamps, as sealed.
    pub fn meta(&self) -> SessionMeta {
        loaded_ref(&self.handle.read()).meta
    }

    /// `true` when the request carried no valid session cookie (or the session was cleared).
    pub fn is_new(&self) -> bool {
        !matches!(
            loaded_ref(&self.handle.read()).origin,
            Origin::Cookie { .. } | Origin::Store { .. }
        )
    }

    /// How many cookies the incoming session was spread over (0 for a new session).
    pub fn chunk_count(&self) -> u8 {
        match loaded_ref(&self.handle.read()).origin {
            Origin::Cookie { chunks, .. } => chunks,
            Origin::Store { .. } => 1,
            _ => 0,
        }
    }

    /// Queues a one-shot message for the next request ([`take_flashes`](Self::take_flashes)).
    ///
    /// Flashes travel in their own small cookie, so they survive [`clear`](Self::clear). At
    /// most [`MAX_FLASHES`](crate::MAX_FLASHES) are kept (the oldest go first) and texts are
    /// cut to [`MAX_FLASH_TEXT`](crate::MAX_FLASH_TEXT) bytes, so a flash always fits.
    pub fn flash(&mut self, level: Level, text: impl Into<String>) {
        self.handle.lock().flash.push(level, text.into());
    }

    /// The flash messages set by earlier responses; they are removed in this response.
    pub fn take_flashes(&mut self) -> Vec<FlashMessage> {
        self.handle.lock().flash.take()
    }
}

/// Checks that `value` is within its bounds and still fits the session's cookies (or its
/// store), and encodes it into `buf`. `Ok(false)`: it fits, but could not be encoded; a schema
/// whose worst case fits is not refused for that here (its save reports it, as before this
/// encoding was kept).
fn encode_fitting<T: CookieSession>(
    value: &T,
    shared: &Shared<T>,
    buf: &mut Vec<u8>,
) -> Result<bool, SessionError> {
    value.check_bounds()?;
    let codec = &shared.codec;
    // With a store (always, or for overflow), a session may grow past its cookies.
    let limit = match shared.storage.store {
        Some(_) => MAX_STORED_LEN,
        None => codec.capacity_total(),
    };
    // Within its bounds, a schema whose worst case fits needs no measuring.
    let measured = T::MAX_ENCODED_LEN.is_none_or(|max| codec.value_len(max) > limit);
    if let Err(err) = encode_into(value, buf) {
        return if measured { Err(err) } else { Ok(false) };
    }
    let size = codec.value_len(buf.len());
    if measured && size > limit {
        return Err(SessionError::TooLarge {
            size,
            budget: limit,
        });
    }
    Ok(true)
}

/// [`read_only`], with "no session" as a rejection (401): the extractor for a handler that
/// takes the schema itself.
pub async fn read_required<T: CookieSession + Send + Sync>(
    extensions: &http::Extensions,
    headers: &HeaderMap,
) -> Result<T, SessionRejection> {
    read_only(extensions, headers)
        .await?
        .ok_or(SessionRejection::NoSession { schema: T::NAME })
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

/// A cookie refused under [`BadCookiePolicy::Reject`](crate::BadCookiePolicy::Reject), or a
/// store down under [`StoreFailure::FailClosed`](crate::StoreFailure::FailClosed).
fn rejection(err: LoadError) -> SessionRejection {
    match err {
        LoadError::Bad(err) => SessionRejection::BadCookie {
            reason: err.reason(),
        },
        LoadError::StoreDown(_) => SessionRejection::StoreUnavailable,
    }
}

/// The read-only schema extractor behind the derive: a copy of the session value, or `None`
/// when the request has no session.
pub async fn read_only<T: CookieSession + Send + Sync>(
    extensions: &http::Extensions,
    headers: &HeaderMap,
) -> Result<Option<T>, SessionRejection> {
    let handle = layer_handle::<T>(extensions)?;
    handle.load(headers).await.map_err(rejection)?;
    let state = handle.read();
    let SessionState::Present(session) = &state.session else {
        return Ok(None);
    };
    let live = matches!(session.origin, Origin::Cookie { .. } | Origin::Store { .. })
        || session.change == Change::Modified;
    if !live {
        return Ok(None);
    }
    // A copy without asking schemas to be `Clone`: through the encoding every schema has,
    // kept from the cookie or the last change when there is one.
    let mut scratch = Scratch::take();
    let bytes = match &session.encoded {
        Some(encoded) => encoded.as_slice(),
        None => {
            encode_into(&session.value, scratch.opening())
                .map_err(|_| SessionRejection::Internal("the session could not be copied"))?;
            scratch.bytes()
        }
    };
    decode_exact::<T>(bytes)
        .map(Some)
        .map_err(|_| SessionRejection::Internal("the session could not be copied"))
}

#[cfg(feature = "axum")]
mod axum_impls {
    use axum_core::extract::FromRequestParts;
    use axum_core::response::{IntoResponse, Response};
    use http::request::Parts;

    use super::{Session, SessionRejection};
    use crate::error::SessionError;
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
            Session::from_parts(&parts.extensions, &parts.headers).await
        }
    }

    /// A short, generic body: the details (type and field names, reasons) go to the log,
    /// never to the client. Map the rejection yourself for another response (see
    /// [`SessionRejection::status`]).
    impl IntoResponse for SessionRejection {
        fn into_response(self) -> Response {
            let status = self.status();
            if status.is_server_error() {
                tracing::error!(error = %self, "session extractor failed");
            } else {
                tracing::debug!(error = %self, "session extractor rejected the request");
            }
            (status, self.public_message()).into_response()
        }
    }

    /// A short, generic body; the details go to the log. See [`SessionError::status`] to
    /// build your own response.
    impl IntoResponse for SessionError {
        fn into_response(self) -> Response {
            tracing::warn!(error = %self, "session change refused");
            (self.status(), self.public_message()).into_response()
        }
    }
}
