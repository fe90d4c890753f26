//! The test app in actix-web: the routes of [`router`](crate::router), on the actix-web adapter,
//! and a server that runs on its own threads (actix-web's system and workers) until dropped.

use std::net::SocketAddr;

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpServer, web};
use reqwest::Url;
use session_runtime::{Level, Session, SessionError, SessionLayer};

use crate::app::{Params, TestSchema};
use crate::support::base;

/// An actix-web server on a loopback port, stopped (and its threads ended) when dropped.
#[derive(Debug)]
pub struct ActixServer {
    /// Where it listens.
    pub addr: SocketAddr,
    handle: ServerHandle,
}

impl Drop for ActixServer {
    fn drop(&mut self) {
        // Sent at once; the server's thread ends when the server has stopped.
        drop(self.handle.stop(false));
    }
}

/// Serves `layer` around the routes `configure` adds, with `workers` worker threads, as an
/// application does: one layer built outside `HttpServer::new`'s closure, a clone per worker.
pub async fn serve_actix<T, F>(layer: SessionLayer<T>, workers: usize, configure: F) -> ActixServer
where
    T: session_runtime::CookieSession + Send + Sync + 'static,
    F: Fn(&mut web::ServiceConfig) + Clone + Send + 'static,
{
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).expect("bind a loopback port");
    let addr = listener.local_addr().expect("local address");
    let (started, handle) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let server = HttpServer::new(move || {
                App::new().configure(configure.clone()).wrap(layer.clone())
            })
            .workers(workers)
            .disable_signals()
            .listen(listener)
            .expect("listen on the bound port")
            .run();
            let _ = started.send(server.handle());
            let _ = server.await;
        });
    });
    ActixServer {
        addr,
        handle: handle.await.expect("the actix-web server started"),
    }
}

/// The routes of [`router`](crate::router), with the same answers.
pub fn actix_routes<T: TestSchema + 'static>(config: &mut web::ServiceConfig) {
    config
        .route("/show", web::get().to(show::<T>))
        .route("/login", web::post().to(login::<T>))
        .route("/items", web::post().to(items::<T>))
        .route("/bump", web::post().to(bump::<T>))
        .route("/logout", web::post().to(logout::<T>))
        .route("/untouched", web::get().to(|| async { "untouched" }))
        .route(
            "/readonly",
            web::get().to(|value: T| async move { format!("{value:?}") }),
        )
        .route(
            "/maybe",
            web::get().to(|value: Option<T>| async move { format!("{value:?}") }),
        )
        .route("/flash", web::post().to(flash::<T>))
        .route("/flashes", web::get().to(flashes::<T>))
        .route("/id", web::get().to(id::<T>));
}

/// Serves the test app under `layer` on actix-web, with `workers` worker threads.
pub async fn start_actix<T: TestSchema + 'static>(
    layer: SessionLayer<T>,
    workers: usize,
) -> (Url, ActixServer) {
    let server = serve_actix(layer, workers, actix_routes::<T>).await;
    (base(server.addr), server)
}

async fn show<T: TestSchema>(session: Session<T>) -> String {
    crate::app::show(session).await
}

async fn login<T: TestSchema>(
    session: Session<T>,
    p: web::Query<Params>,
) -> Result<String, SessionError> {
    crate::app::login(session, axum::extract::Query(p.into_inner())).await
}

async fn items<T: TestSchema>(
    session: Session<T>,
    p: web::Query<Params>,
) -> Result<String, SessionError> {
    crate::app::items(session, axum::extract::Query(p.into_inner())).await
}

async fn bump<T: TestSchema>(session: Session<T>) -> Result<String, SessionError> {
    crate::app::bump(session).await
}

async fn logout<T: TestSchema>(session: Session<T>) -> &'static str {
    crate::app::logout(session).await
}

async fn flash<T: TestSchema>(mut session: Session<T>, p: web::Query<Params>) -> &'static str {
    session.flash(Level::Success, p.into_inner().text.unwrap_or_default());
    "flashed"
}

async fn flashes<T: TestSchema>(session: Session<T>) -> String {
    crate::app::flashes(session).await
}

async fn id<T: TestSchema>(session: Session<T>) -> String {
    crate::app::id(session).await
}
