//! The extractors: [`Session<T>`], the handler's view of the session, the read-only schema
//! extractor the derive generates, and the rejections they answer with.

use core::fmt;
use core::ops::Deref;

use http::HeaderMap;
use http::header::COOKIE;

use crate::envelope::{SessionId, SessionMeta};
use crate::error::SessionError;
use crate::flash::{FlashMessage, Level};
use crate::lifecycle::{Begun, Lifecycle, LoadError, ValueRef};
use crate::schema::CookieSession;

/// The session of the current request, typed by its schema `T`.
///
/// Take it as a handler argument under a [`SessionLayer<T>`](crate::SessionLayer), in axum or
/// (with the `actix` feature) in actix-web, with the same methods and answers. The cookie is
/// opened when the extractor runs, so handlers that do not take a `Session` pay nothing.
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
    lifecycle: Lifecycle<T>,
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

    /// What every adapter answers with: the status code and the generic body, after logging
    /// the details (an error for a server-side failure, a debug line for a client's).
    #[cfg_attr(not(any(feature = "axum", feature = "actix")), allow(dead_code))]
    pub(crate) fn answer(&self) -> (u16, &'static str) {
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(error = %self, "session extractor failed");
        } else {
            tracing::debug!(error = %self, "session extractor rejected the request");
        }
        (status.as_u16(), self.public_message())
    }
}

/// Read access to the session value; derefs to `T`. Drop it before the next `.await`.
pub struct SessionRef<'a, T> {
    value: ValueRef<'a, T>,
}

impl<T> fmt::Debug for SessionRef<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionRef").finish_non_exhaustive()
    }
}

impl<T> Deref for SessionRef<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.value
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
        Self::open(extensions.get::<Lifecycle<T>>().cloned(), cookies(headers)).await
    }

    /// The extractor of every adapter: the request's lifecycle (`None`: no layer put one in the
    /// request) opened from the bytes of its `Cookie` headers.
    pub(crate) async fn open<'h>(
        lifecycle: Option<Lifecycle<T>>,
        cookie_headers: impl IntoIterator<Item = &'h [u8]>,
    ) -> Result<Self, SessionRejection> {
        let (lifecycle, begun) = start(lifecycle, cookie_headers)?;
        Self::opened(lifecycle, begun.finished().await)
    }

    /// The session, once its open has finished (`opened`: the store's part, if it had one).
    pub(crate) fn opened(
        lifecycle: Lifecycle<T>,
        opened: Result<(), LoadError>,
    ) -> Result<Self, SessionRejection> {
        opened.map_err(rejection)?;
        lifecycle
            .present()
            .map_err(|_| SessionRejection::Internal("no randomness for a session id"))?;
        Ok(Session { lifecycle })
    }

    /// Read access to the session value.
    pub fn get(&self) -> SessionRef<'_, T> {
        SessionRef {
            value: self.lifecycle.value(),
        }
    }

    /// Changes the session with `f`, if the result still fits its budget and `max_len` bounds.
    ///
    /// On `Err` the change is undone and nothing is written. If `f` panics, the session is
    /// not saved on this response (the previous cookie stays), so a half-made change can never
    /// be sealed.
    pub fn update<R>(&mut self, f: impl FnOnce(&mut T) -> R) -> Result<R, SessionError> {
        self.lifecycle.update(f)
    }

    /// Replaces the session value, if the new one fits.
    pub fn insert(&mut self, new: T) -> Result<(), SessionError> {
        self.lifecycle.insert(new)
    }

    /// Logs out: the value goes back to `T::default()`, the session the request came with is
    /// ended (every chunk of its cookie expired; with a server store its entry deleted, with a
    /// revocation list its id recorded), and any later change in this request starts a new
    /// session with a new id.
    ///
    /// When the store cannot confirm the logout, the response is a `503 Service Unavailable`
    /// and the browser keeps its cookie, so the user can try again: a logout never looks done
    /// when it is not.
    pub fn clear(&mut self) {
        self.lifecycle.clear();
    }

    /// Gives the session a new id and issue time, keeping its value. Call it at login and at
    /// every privilege change, so an id planted before login is worthless after it. The old id
    /// is ended as [`clear`](Self::clear) ends it, before the new one is handed out.
    pub fn regenerate(&mut self) -> Result<(), SessionError> {
        self.lifecycle.regenerate()
    }

    /// Names who the session belongs to (a user id, at login), for
    /// [`SessionLayer::revoke_all`](crate::SessionLayer::revoke_all): "log out everywhere"
    /// ends every session of that subject issued before it. Only a one-way tag of the subject
    /// is sealed with the session. Takes effect with the next save (this marks the session
    /// changed).
    ///
    /// With a store, the response reads the subject's current generation before sealing, so a
    /// session named (or regenerated) right after a `revoke_all` is not ended by it: calling
    /// `revoke_all` and then `regenerate` logs out every other device and keeps this one.
    pub fn set_subject(&mut self, subject: &str) {
        self.lifecycle.set_subject(subject);
    }

    /// The session id (128 random bits; new sessions get theirs now, before the first save).
    pub fn id(&self) -> SessionId {
        self.lifecycle.id()
    }

    /// The id and timestamps, as sealed.
    pub fn meta(&self) -> SessionMeta {
        self.lifecycle.meta()
    }

    /// `true` when the request carried no valid session cookie (or the session was cleared).
    pub fn is_new(&self) -> bool {
        self.lifecycle.is_new()
    }

    /// How many cookies the incoming session was spread over (0 for a new session).
    pub fn chunk_count(&self) -> u8 {
        self.lifecycle.chunk_count()
    }

    /// Queues a one-shot message for the next request ([`take_flashes`](Self::take_flashes)).
    ///
    /// Flashes travel in their own small cookie, so they survive [`clear`](Self::clear). At
    /// most [`MAX_FLASHES`](crate::MAX_FLASHES) are kept (the oldest go first) and texts are
    /// cut to [`MAX_FLASH_TEXT`](crate::MAX_FLASH_TEXT) bytes, so a flash always fits.
    pub fn flash(&mut self, level: Level, text: impl Into<String>) {
        self.lifecycle.flash(level, text.into());
    }

    /// The flash messages set by earlier responses; they are removed in this response.
    ///
    /// With a server store or a revocation list, the taken flash cookie is recorded there until
    /// it would have expired, so a replayed copy of it shows nothing; with cookies alone, a
    /// client that re-sends the old cookie sees its messages again.
    pub fn take_flashes(&mut self) -> Vec<FlashMessage> {
        self.lifecycle.take_flashes()
    }
}

/// [`read_only`], with "no session" as a rejection (401): the extractor for a handler that
/// takes the schema itself.
pub async fn read_required<T: CookieSession + Send + Sync>(
    extensions: &http::Extensions,
    headers: &HeaderMap,
) -> Result<T, SessionRejection> {
    required(extensions.get::<Lifecycle<T>>().cloned(), cookies(headers)).await
}

/// The read-only schema extractor behind the derive: a copy of the session value, or `None`
/// when the request has no session.
pub async fn read_only<T: CookieSession + Send + Sync>(
    extensions: &http::Extensions,
    headers: &HeaderMap,
) -> Result<Option<T>, SessionRejection> {
    optional(extensions.get::<Lifecycle<T>>().cloned(), cookies(headers)).await
}

/// The bytes of the request's `Cookie` headers (`http` 1).
fn cookies(headers: &HeaderMap) -> impl Iterator<Item = &[u8]> {
    headers.get_all(COOKIE).iter().map(|v| v.as_bytes())
}

/// The schema extractor of every adapter: [`optional`], with "no session" as a rejection.
pub(crate) async fn required<'h, T: CookieSession + Send + Sync>(
    lifecycle: Option<Lifecycle<T>>,
    cookie_headers: impl IntoIterator<Item = &'h [u8]>,
) -> Result<T, SessionRejection> {
    let (lifecycle, begun) = start(lifecycle, cookie_headers)?;
    copy_required(lifecycle, begun.finished().await)
}

/// [`required`], once the open has finished (`opened`: the store's part, if it had one).
pub(crate) fn copy_required<T: CookieSession + Send + Sync>(
    lifecycle: Lifecycle<T>,
    opened: Result<(), LoadError>,
) -> Result<T, SessionRejection> {
    copy_optional(lifecycle, opened)?.ok_or(SessionRejection::NoSession { schema: T::NAME })
}

/// The optional schema extractor of every adapter: a copy of the session value, or `None`.
pub(crate) async fn optional<'h, T: CookieSession + Send + Sync>(
    lifecycle: Option<Lifecycle<T>>,
    cookie_headers: impl IntoIterator<Item = &'h [u8]>,
) -> Result<Option<T>, SessionRejection> {
    let (lifecycle, begun) = start(lifecycle, cookie_headers)?;
    copy_optional(lifecycle, begun.finished().await)
}

/// [`optional`], once the open has finished.
fn copy_optional<T: CookieSession + Send + Sync>(
    lifecycle: Lifecycle<T>,
    opened: Result<(), LoadError>,
) -> Result<Option<T>, SessionRejection> {
    opened.map_err(rejection)?;
    lifecycle
        .copy()
        .map_err(|_| SessionRejection::Internal("the session could not be copied"))
}

/// The layer's per-request lifecycle (the rejection without one), with its session opened as
/// far as it goes without a store: the extractors await only the store's part.
pub(crate) fn start<'h, T: CookieSession + Send + Sync>(
    lifecycle: Option<Lifecycle<T>>,
    cookie_headers: impl IntoIterator<Item = &'h [u8]>,
) -> Result<(Lifecycle<T>, Begun), SessionRejection> {
    let lifecycle = lifecycle.ok_or(SessionRejection::MissingLayer { schema: T::NAME })?;
    let begun = lifecycle.open(cookie_headers);
    Ok((lifecycle, begun))
}

/// What the extractor answers for an open that failed.
fn rejection(err: LoadError) -> SessionRejection {
    match err {
        LoadError::Bad(err) => SessionRejection::BadCookie {
            reason: err.reason(),
        },
        LoadError::StoreDown => SessionRejection::StoreUnavailable,
    }
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
            answer(self.answer())
        }
    }

    /// A short, generic body; the details go to the log. See [`SessionError::status`] to
    /// build your own response.
    impl IntoResponse for SessionError {
        fn into_response(self) -> Response {
            answer(self.answer())
        }
    }

    fn answer((status, body): (u16, &'static str)) -> Response {
        let status =
            http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
        (status, body).into_response()
    }
}
