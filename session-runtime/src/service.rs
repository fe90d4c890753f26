//! [`SessionService`] and its [`ResponseFuture`]: a per-request state goes into the request's
//! extensions on the way in, and is finished into Set-Cookie lines on the way out.

use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll, ready};
use std::sync::Arc;

use http::header::{CONTENT_LENGTH, CONTENT_TYPE, SET_COOKIE};
use http::{Request, Response, StatusCode};
use tower_service::Service;

use crate::schema::CookieSession;
use crate::state::{Handle, Shared, keep_out_of_shared_caches};
use crate::storage::Finished;
use crate::store::BoxFuture;

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
    ResBody: Default,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, T, ResBody>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<ReqBody>) -> Self::Future {
        let handle = Handle::new(Arc::clone(&self.shared));
        req.extensions_mut().insert(handle.clone());
        ResponseFuture {
            inner: self.inner.call(req),
            handle: Some(handle),
            saving: None,
        }
    }
}

pin_project_lite::pin_project! {
    /// The response future of [`SessionService`]: the handler's response, then the session's
    /// Set-Cookie lines (after any store work, which it awaits).
    pub struct ResponseFuture<F, T, B> {
        #[pin]
        inner: F,
        handle: Option<Handle<T>>,
        saving: Option<(Response<B>, usize, BoxFuture<'static, Finished>)>,
    }
}

impl<F: fmt::Debug, T, B> fmt::Debug for ResponseFuture<F, T, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture")
            .field("inner", &self.inner)
            .field("saving", &self.saving.is_some())
            .finish_non_exhaustive()
    }
}

impl<F, T, B, E> Future for ResponseFuture<F, T, B>
where
    F: Future<Output = Result<Response<B>, E>>,
    T: CookieSession + Send + Sync,
    B: Default,
{
    type Output = Result<Response<B>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        loop {
            if let Some((_, _, work)) = this.saving.as_mut() {
                let finished = ready!(work.as_mut().poll(cx));
                let Some((mut response, before, _)) = this.saving.take() else {
                    unreachable!("polled only while saving");
                };
                if finished.failed {
                    // The session was not saved: say so rather than answer as if it had been.
                    *response.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
                    *response.body_mut() = B::default();
                    response.headers_mut().remove(CONTENT_LENGTH);
                    response.headers_mut().remove(CONTENT_TYPE);
                }
                for line in finished.lines {
                    response.headers_mut().append(SET_COOKIE, line);
                }
                return Poll::Ready(Ok(done(response, before)));
            }
            let mut response = ready!(this.inner.as_mut().poll(cx))?;
            let Some(handle) = this.handle.take() else {
                return Poll::Ready(Ok(response));
            };
            // The session only ever appends Set-Cookie lines, so a longer map means it set
            // cookies; the length is kept by the map, where counting lines walks them.
            let before = response.headers().len();
            match handle.finish(response.headers_mut()) {
                None => return Poll::Ready(Ok(done(response, before))),
                Some(pending) => *this.saving = Some((response, before, pending.run())),
            }
        }
    }
}

/// The last touch on every response that set session cookies (`before`: the header map's
/// length before the session wrote to it).
fn done<B>(mut response: Response<B>, before: usize) -> Response<B> {
    if response.headers().len() > before {
        keep_out_of_shared_caches(response.headers_mut());
    }
    response
}
