//! [`SessionService`] and its [`ResponseFuture`]: a per-request state goes into the request's
//! extensions on the way in, and is finished into Set-Cookie lines on the way out.

use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll, ready};
use std::sync::Arc;

use http::header::{CACHE_CONTROL, SET_COOKIE, VARY};
use http::{HeaderValue, Request, Response, StatusCode};
use tower_service::Service;

use crate::lifecycle::{Core, Finish, Finished, Lifecycle};
use crate::respond;
use crate::schema::CookieSession;
use crate::store::BoxFuture;

/// The service [`SessionLayer`](crate::SessionLayer) wraps around your routes.
///
/// It never panics. A bad incoming cookie becomes a fresh session (or a 400 from the extractor,
/// in strict mode). A session that cannot be saved, or a logout the store did not confirm,
/// turns the response into a `503 Service Unavailable` with none of the session's cookies, and
/// the previous session is left as it was.
pub struct SessionService<S, T> {
    inner: S,
    core: Arc<Core<T>>,
}

impl<S, T> SessionService<S, T> {
    pub(crate) fn new(inner: S, core: Arc<Core<T>>) -> Self {
        SessionService { inner, core }
    }
}

impl<S: Clone, T> Clone for SessionService<S, T> {
    fn clone(&self) -> Self {
        SessionService {
            inner: self.inner.clone(),
            core: Arc::clone(&self.core),
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
        let lifecycle = Lifecycle::new(Arc::clone(&self.core));
        req.extensions_mut().insert(lifecycle.clone());
        ResponseFuture {
            inner: self.inner.call(req),
            lifecycle: Some(lifecycle),
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
        lifecycle: Option<Lifecycle<T>>,
        saving: Option<(Response<B>, BoxFuture<'static, Finished>)>,
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
            if let Some((_, work)) = this.saving.as_mut() {
                let finished = ready!(work.as_mut().poll(cx));
                let Some((response, _)) = this.saving.take() else {
                    unreachable!("polled only while saving");
                };
                return Poll::Ready(Ok(done(response, finished)));
            }
            let response = ready!(this.inner.as_mut().poll(cx))?;
            let Some(lifecycle) = this.lifecycle.take() else {
                return Poll::Ready(Ok(response));
            };
            match lifecycle.finish() {
                Finish::Done(finished) => return Poll::Ready(Ok(done(response, finished))),
                Finish::Pending(work) => *this.saving = Some((response, work)),
            }
        }
    }
}

/// Puts the session's work on the response, as `respond` decides: a 503
/// without the handler's body when the session could not be saved (or a logout could not be
/// confirmed), the Set-Cookie lines, and the cache headers of a response that sets them.
fn done<B: Default>(mut response: Response<B>, finished: Finished) -> Response<B> {
    if finished.lines.is_empty() && !finished.failed {
        // Nothing to set, so no cache headers either (`respond::cache_headers`): the
        // response's header map is not even looked at.
        return response;
    }
    if finished.failed {
        *response.status_mut() =
            StatusCode::from_u16(respond::FAILED_STATUS).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        *response.body_mut() = B::default();
        for name in respond::FAILED_DROPS {
            response.headers_mut().remove(name);
        }
    }
    let headers = response.headers_mut();
    let (cache_control, vary) = respond::cache_headers(
        &finished,
        headers
            .get_all(CACHE_CONTROL)
            .iter()
            .map(HeaderValue::as_bytes),
        headers.get_all(VARY).iter().map(HeaderValue::as_bytes),
    );
    for line in finished.lines {
        // The core's lines are valid header values (checked when the layer was built).
        match HeaderValue::from_maybe_shared(line.into_bytes()) {
            Ok(value) => {
                headers.append(SET_COOKIE, value);
            }
            Err(_) => tracing::error!("a session Set-Cookie line is not a header value; dropped"),
        }
    }
    if let Some(value) = cache_control {
        headers.insert(CACHE_CONTROL, HeaderValue::from_static(value));
    }
    if let Some(value) = vary {
        headers.append(VARY, HeaderValue::from_static(value));
    }
    response
}
