//! [`SessionService`]: opens the session lazily for the handler and writes Set-Cookie on the
//! way out, only when something needs writing.

use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll, ready};
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use http::header::{COOKIE, SET_COOKIE};
use http::{HeaderMap, HeaderValue, Request, Response};
use tower_service::Service;

use crate::codec::{Reseal, SessionMeta};
use crate::error::OpenError;
use crate::flash::{FlashBag, FlashMessage, MAX_FLASHES};
use crate::layer::{BadCookiePolicy, Shared};
use crate::schema::CookieSession;

/// The service [`SessionLayer`](crate::SessionLayer) wraps around your routes.
///
/// It never panics and never fails a request by itself: a bad incoming cookie becomes a fresh
/// session (or a 400 from the extractor, in strict mode), and a session that cannot be saved
/// is logged and left as it was.
pub struct SessionService<S, T> {
    inner: S,
    shared: Arc<Shared<T>>,
}

impl<S, T> SessionService<S, T> {
    pub(crate) fn new(inner: S, shared: Arc<Shared<T>>) -> Self {
        SessionService { inner, shared }
    }
}

impl<S: Clone, T> Clone for SessionService<S, T> {
    fn clone(&self) -> Self {
        SessionService {
            inner: self.inner.clone(),
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<S: fmt::Debug, T> fmt::Debug for SessionService<S, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionService")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

impl<S, T, ReqBody, ResBody> Service<Request<ReqBody>> for SessionService<S, T>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    T: CookieSession + Send + Sync,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, T>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<ReqBody>) -> Self::Future {
        let handle = Handle::new(Arc::clone(&self.shared));
        req.extensions_mut().insert(handle.clone());
        ResponseFuture {
            inner: self.inner.call(req),
            handle: Some(handle),
        }
    }
}

pin_project_lite::pin_project! {
    /// The response future of [`SessionService`].
    pub struct ResponseFuture<F, T> {
        #[pin]
        inner: F,
        handle: Option<Handle<T>>,
    }
}

impl<F: fmt::Debug, T> fmt::Debug for ResponseFuture<F, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

impl<F, T, B, E> Future for ResponseFuture<F, T>
where
    F: Future<Output = Result<Response<B>, E>>,
    T: CookieSession + Send + Sync,
{
    type Output = Result<Response<B>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let mut response = ready!(this.inner.poll(cx))?;
        if let Some(handle) = this.handle.take() {
            handle.finish(response.headers_mut());
        }
        Poll::Ready(Ok(response))
    }
}

/// The per-request session state, shared between the service and the extractors through the
/// request extensions.
pub(crate) struct Handle<T> {
    inner: Arc<HandleInner<T>>,
}

impl<T> Clone for Handle<T> {
    fn clone(&self) -> Self {
        Handle {
            inner: Arc::clone(&self.inner),
        }
    }
}

struct HandleInner<T> {
    shared: Arc<Shared<T>>,
    state: RwLock<State<T>>,
}

/// Nothing is decoded until an extractor calls [`Handle::load`].
pub(crate) struct State<T> {
    pub(crate) now: u32,
    pub(crate) session: Option<Loaded<T>>,
    /// The request carried session cookies that did not open.
    pub(crate) bad_cookie: bool,
    pub(crate) flash: FlashState,
}

pub(crate) struct Loaded<T> {
    /// `None`: no session yet (the read-only extractor's "no session").
    pub(crate) value: Option<T>,
    pub(crate) meta: Option<SessionMeta>,
    /// The session came from a cookie in this request.
    pub(crate) existed: bool,
    pub(crate) dirty: bool,
    pub(crate) cleared: bool,
    pub(crate) reseal: Reseal,
    pub(crate) chunks: u8,
}

#[derive(Default)]
pub(crate) struct FlashState {
    /// The `name_flash=value` pair from the request, if any.
    pub(crate) incoming_raw: Option<String>,
    pub(crate) incoming: Option<Vec<FlashMessage>>,
    pub(crate) outgoing: Vec<FlashMessage>,
    pub(crate) taken: bool,
}

impl<T> fmt::Debug for Handle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle").finish_non_exhaustive()
    }
}

impl<T: CookieSession> Handle<T> {
    fn new(shared: Arc<Shared<T>>) -> Self {
        Handle {
            inner: Arc::new(HandleInner {
                shared,
                state: RwLock::new(State {
                    now: 0,
                    session: None,
                    bad_cookie: false,
                    flash: FlashState::default(),
                }),
            }),
        }
    }

    pub(crate) fn shared(&self) -> &Shared<T> {
        &self.inner.shared
    }

    pub(crate) fn lock(&self) -> RwLockWriteGuard<'_, State<T>> {
        // A handler that panicked while holding the session cannot leave it half-written in a
        // way that matters: the value is only sealed whole, so a poisoned lock is still usable.
        self.inner
            .state
            .write()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Shared access: any number of readers ([`SessionRef`](crate::SessionRef)s, `id()`, …)
    /// at once.
    pub(crate) fn read(&self) -> RwLockReadGuard<'_, State<T>> {
        self.inner
            .state
            .read()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Opens the session from the request's cookies, once per request.
    ///
    /// Errors only under [`BadCookiePolicy::Reject`]; otherwise a bad cookie is logged and the
    /// session starts fresh.
    pub(crate) fn load(
        &self,
        headers: &HeaderMap,
    ) -> Result<RwLockWriteGuard<'_, State<T>>, OpenError> {
        let mut state = self.lock();
        if state.session.is_some() {
            return Ok(state);
        }
        let shared = self.shared();
        let now = shared.clock.now();
        state.now = now;
        let cookies = headers
            .get_all(COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok());
        let name = shared.codec.config().cookie_name();
        let fresh = Loaded {
            value: None,
            meta: None,
            existed: false,
            dirty: false,
            cleared: false,
            reseal: Reseal::default(),
            chunks: 0,
        };
        state.flash.incoming_raw = find_pair(headers, &shared.flash_name);
        match shared.codec.open::<T>(cookies, now) {
            Ok(Some(mut opened)) => {
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
                state.session = Some(Loaded {
                    value: Some(opened.value),
                    meta: Some(opened.meta),
                    existed: true,
                    reseal: opened.reseal,
                    chunks: opened.chunks,
                    ..fresh
                });
            }
            Ok(None) => state.session = Some(fresh),
            Err(err) => {
                let expired = matches!(err, OpenError::Expired(_));
                if expired {
                    tracing::debug!(
                        cookie = name,
                        reason = err.reason(),
                        "session cookie expired"
                    );
                } else {
                    tracing::warn!(
                        cookie = name,
                        reason = err.reason(),
                        "session cookie rejected"
                    );
                }
                if shared.policy == BadCookiePolicy::Reject && !expired {
                    return Err(err);
                }
                state.bad_cookie = true;
                state.session = Some(fresh);
            }
        }
        Ok(state)
    }

    /// Writes whatever the response needs: new cookies, refreshed cookies, removals.
    fn finish(&self, headers: &mut HeaderMap) {
        let mut state = self.lock();
        let state = &mut *state;
        let shared = self.shared();
        let now = state.now;
        if let Some(session) = &mut state.session {
            let refresh_due = session.existed
                && shared.codec.config().idle().is_some()
                && session.meta.as_ref().is_some_and(|m| {
                    u64::from(now.saturating_sub(m.last_access)) >= shared.refresh_after.as_secs()
                });
            let write = session.dirty || session.reseal.needed() || refresh_due;
            if write {
                save(shared, session, now, headers);
            } else if session.cleared || state.bad_cookie {
                append_values(headers, &shared.removals);
            }
        }
        finish_flash(shared, &mut state.flash, now, headers);
    }
}

fn save<T: CookieSession>(
    shared: &Shared<T>,
    session: &mut Loaded<T>,
    now: u32,
    headers: &mut HeaderMap,
) {
    let name = shared.codec.config().cookie_name();
    let (Some(value), Some(meta)) = (&mut session.value, &mut session.meta) else {
        // Dirty implies a value and an id; nothing to seal otherwise.
        return;
    };
    meta.last_access = now;
    for hook in &shared.before_save {
        hook(value, meta);
    }
    let mut buf = Vec::with_capacity(256);
    match shared.codec.seal_chunks(value, meta, &mut buf) {
        Ok(cookies) => {
            let total = shared.codec.capacity_total();
            let used: usize = cookies.headers[..usize::from(cookies.chunks)]
                .iter()
                .map(|line| {
                    let start = line.find('=').map_or(0, |i| i + 1);
                    line.find(';').unwrap_or(line.len()) - start
                })
                .sum();
            if used * 10 >= total * 9 {
                tracing::warn!(
                    cookie = name,
                    schema = T::NAME,
                    chunks = cookies.chunks,
                    max_cookies = shared.codec.config().cookie_count_limit(),
                    "session is near its cookie budget"
                );
            }
            let chunks = usize::from(cookies.chunks);
            append_owned(headers, cookies.headers);
            append_values(headers, &shared.removals[chunks..]);
        }
        Err(err) => tracing::error!(
            cookie = name,
            schema = T::NAME,
            error = %err,
            "session could not be saved; the previous cookie stays in place"
        ),
    }
}

fn finish_flash<T>(shared: &Shared<T>, flash: &mut FlashState, now: u32, headers: &mut HeaderMap) {
    if !flash.taken && flash.outgoing.is_empty() {
        return;
    }
    let mut messages = if flash.taken {
        Vec::new()
    } else {
        load_flashes(shared, flash)
    };
    messages.append(&mut flash.outgoing);
    if messages.len() > MAX_FLASHES {
        messages.drain(..messages.len() - MAX_FLASHES);
    }
    if messages.is_empty() {
        if flash.incoming_raw.is_some() {
            append_values(headers, &shared.flash_removals);
        }
        return;
    }
    let mut buf = Vec::new();
    let sealed = SessionMeta::new(now).and_then(|meta| {
        shared
            .flash_codec
            .seal_chunks(&FlashBag { messages }, &meta, &mut buf)
    });
    match sealed {
        Ok(cookies) => {
            let chunks = usize::from(cookies.chunks);
            append_owned(headers, cookies.headers);
            append_values(headers, &shared.flash_removals[chunks..]);
        }
        Err(err) => tracing::error!(error = %err, "flash messages could not be saved"),
    }
}

/// The flash messages the request carried, decoded once.
pub(crate) fn load_flashes<T>(shared: &Shared<T>, flash: &mut FlashState) -> Vec<FlashMessage> {
    if let Some(messages) = &flash.incoming {
        return messages.clone();
    }
    let messages = match &flash.incoming_raw {
        None => Vec::new(),
        Some(pair) => match shared
            .flash_codec
            .open::<FlashBag>([pair.as_str()], shared.clock.now())
        {
            Ok(Some(opened)) => opened.value.messages,
            Ok(None) => Vec::new(),
            Err(err) => {
                tracing::debug!(reason = err.reason(), "flash cookie rejected");
                Vec::new()
            }
        },
    };
    flash.incoming = Some(messages.clone());
    messages
}

/// The `name=value` pair of one cookie, if the request carries it.
fn find_pair(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|h| h.split(';'))
        .map(str::trim)
        .find(|pair| {
            pair.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with('='))
        })
        .map(str::to_owned)
}

fn append_owned(headers: &mut HeaderMap, lines: Vec<String>) {
    for line in lines {
        // Taking the String avoids a copy.
        match HeaderValue::try_from(line) {
            Ok(value) => {
                headers.append(SET_COOKIE, value);
            }
            // The codec validates names and attributes and writes only base64 values, so this
            // cannot happen; if it ever does, say so rather than send a broken header.
            Err(_) => tracing::error!("a sealed Set-Cookie line was not a valid header value"),
        }
    }
}

fn append_values(headers: &mut HeaderMap, values: &[HeaderValue]) {
    for value in values {
        headers.append(SET_COOKIE, value.clone());
    }
}
