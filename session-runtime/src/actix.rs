//! The actix-web adapter (feature `actix`): [`SessionLayer`] as an actix-web `Transform`, its
//! per-worker service [`ActixService`], and the extractors ([`Session<T>`] and the derive's
//! read-only schema extractor) as `FromRequest`.
//!
//! Only translation lives here: the request's lifecycle goes into its extensions, the
//! `Cookie` headers' bytes go to the core, and what the core decides (`respond`) is written on
//! the response. actix-web 4 is built on `http` 0.2, the core knows no `http` type at all:
//! header values cross as bytes.

use core::fmt;
use core::future::{Future, Ready, ready};
use core::pin::Pin;
use core::task::{Context, Poll};
use std::sync::Arc;

use actix_web::body::{BoxBody, EitherBody, MessageBody};
use actix_web::dev::{Payload, Service, ServiceRequest, ServiceResponse, Transform};
use actix_web::http::StatusCode;
use actix_web::http::header::{CACHE_CONTROL, COOKIE, HeaderMap, HeaderValue, SET_COOKIE, VARY};
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse, ResponseError};

use crate::error::SessionError;
use crate::extract::{Session, SessionRejection, copy_required, start};
use crate::layer::SessionLayer;
use crate::lifecycle::{Begun, Core, Finish, Finished, Lifecycle, LoadError};
use crate::respond;
use crate::schema::CookieSession;
use crate::store::BoxFuture;

/// The future the actix-web service returns: actix-web runs each worker on one thread, so it
/// need not be `Send`.
type LocalFuture<T> = Pin<Box<dyn Future<Output = T>>>;

/// The service [`SessionLayer`] wraps around an actix-web app or scope (`.wrap(layer.clone())`):
/// the actix-web counterpart of [`SessionService`](crate::SessionService), with the same
/// behaviour.
///
/// Build the layer once, outside `HttpServer::new`'s closure, and clone it into every worker's
/// app: the clones share one key set, one store and one codec. A layer built inside the closure
/// would, with [`Key::generate`](crate::Key::generate), give each worker its own key, and a user
/// whose next request lands on another worker would be logged out.
///
/// ```
/// use actix_web::{App, HttpServer, web};
/// use serde::{Deserialize, Serialize};
/// use session_runtime::{CookieSession, Key, Session, SessionError, SessionLayer};
///
/// #[derive(CookieSession, Serialize, Deserialize, Default)]
/// #[session(version = 1, max_cookies = 1, extractor)]
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
/// // The signed-in user, read-only (401 without a session): the derive's extractor.
/// async fn visits(visits: Visits) -> String {
///     visits.count.to_string()
/// }
///
/// #[actix_web::main]
/// async fn main() -> Result<(), Box<dyn std::error::Error>> {
///     // Once, for every worker: in production `Keys::from_env()?` and any store.
///     let layer = SessionLayer::<Visits>::builder(Key::generate())
///         .with_secure(false) // plain HTTP on loopback, for this example only
///         .build()?;
///     let server = HttpServer::new(move || {
///         App::new()
///             .route("/", web::post().to(count))
///             .route("/visits", web::get().to(visits))
///             .wrap(layer.clone())
///     })
///     .workers(2)
///     .bind(("127.0.0.1", 0))?
///     .run();
///     # let handle = server.handle();
///     # actix_web::rt::spawn(async move { handle.stop(true).await });
///     server.await?;
///     Ok(())
/// }
/// ```
pub struct ActixService<S, T> {
    inner: S,
    core: Arc<Core<T>>,
}

impl<S: fmt::Debug, T> fmt::Debug for ActixService<S, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ActixService")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

impl<S, B, T> Transform<S, ServiceRequest> for SessionLayer<T>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error>,
    S::Future: 'static,
    B: MessageBody + 'static,
    T: CookieSession + Send + Sync + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Transform = ActixService<S, T>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, inner: S) -> Self::Future {
        ready(Ok(ActixService {
            inner,
            core: Arc::clone(self.core()),
        }))
    }
}

impl<S, B, T> Service<ServiceRequest> for ActixService<S, T>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error>,
    S::Future: 'static,
    B: MessageBody + 'static,
    T: CookieSession + Send + Sync + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Future = LocalFuture<Result<Self::Response, Self::Error>>;

    actix_web::dev::forward_ready!(inner);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let lifecycle = Lifecycle::new(Arc::clone(&self.core));
        req.extensions_mut().insert(lifecycle.clone());
        let response = self.inner.call(req);
        Box::pin(async move {
            let response = response.await?;
            let finished = match lifecycle.finish() {
                Finish::Done(finished) => finished,
                Finish::Pending(work) => work.await,
            };
            Ok(done(response, finished))
        })
    }
}

/// Puts the session's work on the response, as `respond` decides (see the tower service's
/// `done`, which makes the same decisions on `http` 1 types).
fn done<B>(mut response: ServiceResponse<B>, finished: Finished) -> ServiceResponse<EitherBody<B>> {
    if finished.lines.is_empty() && !finished.failed {
        // Nothing to set, so no cache headers either: the header map is not looked at.
        return response.map_into_left_body();
    }
    let response = if finished.failed {
        let headers = response.headers_mut();
        for name in respond::FAILED_DROPS {
            headers.remove(name);
        }
        *response.response_mut().status_mut() =
            StatusCode::from_u16(respond::FAILED_STATUS).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        response.map_body(|_, _| EitherBody::right(BoxBody::new(())))
    } else {
        response.map_into_left_body()
    };
    let mut response = response;
    let headers = response.headers_mut();
    let (cache_control, vary) = respond::cache_headers(
        &finished,
        headers.get_all(CACHE_CONTROL).map(HeaderValue::as_bytes),
        headers.get_all(VARY).map(HeaderValue::as_bytes),
    );
    for line in finished.lines {
        // The core's lines are valid header values (checked when the layer was built).
        match HeaderValue::from_maybe_shared(line.into_bytes()) {
            Ok(value) => headers.append(SET_COOKIE, value),
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

/// The request's lifecycle, put there by the layer (`None` without one).
fn parts<T: 'static>(req: &HttpRequest) -> Option<Lifecycle<T>> {
    req.extensions().get::<Lifecycle<T>>().cloned()
}

/// The bytes of the request's `Cookie` headers (`http` 0.2).
fn cookies(headers: &HeaderMap) -> impl Iterator<Item = &[u8]> {
    headers.get_all(COOKIE).map(HeaderValue::as_bytes)
}

/// The future of the actix-web session extractors ([`Session<T>`], and the schema extractor
/// of `#[session(extractor)]`), which yields `O`.
///
/// The session is opened as far as it goes without a store when the extractor is called, so
/// this future is ready at once for a session in its cookies; only a store's part (an id
/// cookie's entry, revocation records) is awaited, and only that part is boxed.
pub struct ActixExtract<T, O> {
    state: Extract<T, O>,
}

enum Extract<T, O> {
    Ready(Option<Result<O, SessionRejection>>),
    Asking {
        asking: BoxFuture<'static, Result<(), LoadError>>,
        lifecycle: Lifecycle<T>,
        then: Then<T, O>,
    },
}

/// What an extractor makes of its lifecycle once the open has finished.
type Then<T, O> = fn(Lifecycle<T>, Result<(), LoadError>) -> Result<O, SessionRejection>;

impl<T: CookieSession + Send + Sync + 'static, O> ActixExtract<T, O> {
    fn new(req: &HttpRequest, then: Then<T, O>) -> Self {
        let state = match start(parts::<T>(req), cookies(req.headers())) {
            Err(rejection) => Extract::Ready(Some(Err(rejection))),
            Ok((lifecycle, Begun::Done(opened))) => Extract::Ready(Some(then(lifecycle, opened))),
            Ok((lifecycle, Begun::Asking(asking))) => Extract::Asking {
                asking,
                lifecycle,
                then,
            },
        };
        ActixExtract { state }
    }
}

// Nothing in it is ever pinned in place: the store's future is boxed, and the rest is moved
// out whole.
impl<T, O> Unpin for ActixExtract<T, O> {}

impl<T, O> Future for ActixExtract<T, O> {
    type Output = Result<O, SessionRejection>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        match core::mem::replace(&mut this.state, Extract::Ready(None)) {
            Extract::Ready(out) => Poll::Ready(out.unwrap_or(Err(SessionRejection::Internal(
                "an extractor's future was polled after it finished",
            )))),
            Extract::Asking {
                mut asking,
                lifecycle,
                then,
            } => match asking.as_mut().poll(cx) {
                Poll::Ready(opened) => Poll::Ready(then(lifecycle, opened)),
                Poll::Pending => {
                    this.state = Extract::Asking {
                        asking,
                        lifecycle,
                        then,
                    };
                    Poll::Pending
                }
            },
        }
    }
}

impl<T, O> fmt::Debug for ActixExtract<T, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ActixExtract")
            .field("asking", &matches!(self.state, Extract::Asking { .. }))
            .finish_non_exhaustive()
    }
}

/// The session extractor, as under axum; without the layer it answers 500 and logs which
/// layer is missing.
impl<T> FromRequest for Session<T>
where
    T: CookieSession + Default + Send + Sync + 'static,
{
    type Error = SessionRejection;
    type Future = ActixExtract<T, Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ActixExtract::new(req, Session::opened)
    }
}

/// The body of the derive's read-only schema extractor (see `glue`). `Option<Schema>` is
/// actix-web's own extractor around it: `None` for any rejection.
pub fn schema<T: CookieSession + Send + Sync + 'static>(req: &HttpRequest) -> ActixExtract<T, T> {
    ActixExtract::new(req, copy_required)
}

/// A short, generic body with the rejection's status: the details go to the log, never to the
/// client. See [`SessionRejection::status`] to build another response.
impl ResponseError for SessionRejection {
    fn status_code(&self) -> StatusCode {
        status(self.status().as_u16())
    }

    fn error_response(&self) -> HttpResponse {
        answer(self.answer())
    }
}

/// A short, generic body with the error's status; the details go to the log. See
/// [`SessionError::status`] to build another response.
impl ResponseError for SessionError {
    fn status_code(&self) -> StatusCode {
        status(self.status().as_u16())
    }

    fn error_response(&self) -> HttpResponse {
        answer(self.answer())
    }
}

fn status(code: u16) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

fn answer((code, body): (u16, &'static str)) -> HttpResponse {
    HttpResponse::build(status(code))
        .content_type("text/plain; charset=utf-8")
        .body(body)
}
