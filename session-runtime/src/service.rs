//! [`SessionService`] and its [`ResponseFuture`]: a per-request state goes into the request's
//! extensions on the way in, and is finished into Set-Cookie lines on the way out.

use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll, ready};
use std::sync::Arc;

use http::{Request, Response};
use tower_service::Service;

use crate::schema::CookieSession;
use crate::state::{Handle, Shared};

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
