//! The example shop behind a real nginx reverse proxy with nginx's default request header
//! buffers (`large_client_header_buffers 4 8k`): what the session budget means in a real stack.
//!
//! nginx reads a request header field into one buffer of 8 KiB at most, and a browser sends all
//! its cookies for a site in one `Cookie` field (HTTP/1.1). So:
//!
//! - the default budget, two cookies of up to 4096 bytes, fits: a session filling both cookies
//!   goes through nginx and opens in the app;
//! - a session spread over three full cookies (the shop's `max_cookies(3)`) does not: nginx
//!   answers `400 Request Header Or Cookie Too Large` itself and the app never sees the request.
//!
//! The other direction has its own, smaller limit: nginx reads the app's response header block
//! into one `proxy_buffer_size` buffer, one memory page (4 KiB on x86-64) by default. A response
//! that writes a full 4096-byte session cookie does not fit it, and nginx answers `502` ("upstream
//! sent too big header" in its error log). With `proxy_buffer_size 16k` (and `proxy_buffers` to
//! match) the default budget works both ways.
//!
//! Needs nginx (Debian package; `scripts/install-nginx`, run by this test when nginx is missing
//! and it can). Set `NGINX` to use another binary. Each test starts its own nginx on a free
//! loopback port, as a single foreground process with a prefix directory of its own, and stops
//! it by PID when the test ends, failed or not.

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use reqwest::StatusCode;
use reqwest::cookie::CookieStore as _;
use serde::{Deserialize, Serialize};
use session_runtime::{Clock, Codec};
use session_runtime::{CookieSession, Key, Keys, SessionBound, SessionMeta};
use session_tests::serve;

/// nginx's own defaults for reading request headers, written out so the test states the limit
/// it exercises (these are the values nginx uses when the directives are absent).
const HEADER_BUFFERS: &str = "client_header_buffer_size 1k;\n    large_client_header_buffers 4 8k;";

/// Stock nginx: the proxy buffers are left at their defaults (one page each).
const STOCK: &str = "";

/// Room for the response headers of a full two-cookie session: `proxy_buffer_size` holds the
/// whole upstream header block; `proxy_buffers` must be raised with it (nginx requires the busy
/// buffers, twice the larger of the two, to be smaller than all buffers but one).
const ROOMY_PROXY_BUFFERS: &str = "proxy_buffer_size 16k;\n    proxy_buffers 8 16k;";

/// The shop's session schema as it is on the wire (same version, same fields in the same
/// order), to seal sessions of an exact size with the shop's own codec.
#[derive(CookieSession, Serialize, Deserialize, Debug, Clone, Default)]
#[session(version = 2, max_cookies = 3)]
struct ShopWire {
    #[session(max_len = 64)]
    user: String,
    #[session(max_len = 1000)]
    cart: Vec<LineWire>,
}

#[derive(SessionBound, Serialize, Deserialize, Debug, Clone, Copy)]
struct LineWire {
    sku: u32,
    qty: u16,
}

fn key() -> Key {
    Key::from_bytes(&(1u8..=32).collect::<Vec<_>>()).expect("valid test key")
}

/// The nginx binary: `$NGINX`, `/usr/sbin/nginx`, or `nginx` on `PATH`; installs it with
/// `scripts/install-nginx` when none is found.
fn nginx_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("NGINX") {
        return PathBuf::from(path);
    }
    let find = || {
        std::iter::once(PathBuf::from("/usr/sbin"))
            .chain(
                std::env::var_os("PATH")
                    .iter()
                    .flat_map(std::env::split_paths),
            )
            .map(|dir| dir.join("nginx"))
            .find(|p| p.is_file())
    };
    if let Some(path) = find() {
        return path;
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/install-nginx");
    let status = Command::new("bash")
        .arg(&script)
        .status()
        .expect("run scripts/install-nginx");
    assert!(status.success(), "scripts/install-nginx failed");
    find().expect("nginx installed by scripts/install-nginx")
}

/// The location each test's nginx answers itself, to tell it from whatever else may hold its
/// port (see `Nginx::wait_until_listening`).
const PROBE: &str = "__session_nginx_probe";

/// A free loopback port: bound, read, released. nginx binds it a moment later; a start that
/// loses the race is retried.
fn free_port() -> u16 {
    TcpListener::bind(("127.0.0.1", 0))
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}

/// One nginx process proxying to `upstream`, stopped and cleaned up on drop.
struct Nginx {
    child: Child,
    port: u16,
    prefix: PathBuf,
}

impl Nginx {
    /// Starts nginx in front of `upstream`, with `extra` directives in its `http` block.
    fn start(upstream: SocketAddr, extra: &str) -> Nginx {
        let binary = nginx_binary();
        let mut last_error = String::new();
        for attempt in 0..5 {
            let prefix = std::env::temp_dir().join(format!(
                "session-nginx-test-{}-{}-{attempt}",
                std::process::id(),
                upstream.port()
            ));
            let _ = std::fs::remove_dir_all(&prefix);
            std::fs::create_dir_all(prefix.join("temp")).expect("nginx prefix dir");
            let port = free_port();
            let p = prefix.display();
            let config = format!(
                "daemon off;\nmaster_process off;\nworker_processes 1;\npid {p}/nginx.pid;\n\
                 error_log {p}/error.log info;\n\
                 events {{ worker_connections 64; }}\n\
                 http {{\n    access_log {p}/access.log;\n\
                 \x20   client_body_temp_path {p}/temp/body;\n    proxy_temp_path {p}/temp/proxy;\n\
                 \x20   fastcgi_temp_path {p}/temp/fastcgi;\n    uwsgi_temp_path {p}/temp/uwsgi;\n\
                 \x20   scgi_temp_path {p}/temp/scgi;\n\
                 \x20   {HEADER_BUFFERS}\n    {extra}\n\
                 \x20   server {{\n        listen 127.0.0.1:{port};\n\
                 \x20       location = /{PROBE} {{\n            return 204;\n        }}\n\
                 \x20       location / {{\n            proxy_pass http://{upstream};\n\
                 \x20           proxy_set_header Host $host;\n        }}\n    }}\n}}\n"
            );
            let conf = prefix.join("nginx.conf");
            std::fs::write(&conf, config).expect("write nginx.conf");
            let child = Command::new(&binary)
                .arg("-p")
                .arg(&prefix)
                .arg("-c")
                .arg(&conf)
                .arg("-e")
                .arg(prefix.join("error.log"))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| panic!("start {}: {e}", binary.display()));
            let mut nginx = Nginx {
                child,
                port,
                prefix,
            };
            if nginx.wait_until_listening() {
                return nginx;
            }
            last_error = nginx.error_log();
            // Dropping stops it and removes its directory before the next attempt.
        }
        panic!("nginx did not start:\n{last_error}");
    }

    /// Polls the port until this nginx answers there; `false` if it exited first. A connection
    /// alone is not enough: the port was free when picked, and another process (another test's
    /// nginx, a Redis some other run started) may have bound it before this nginx, which then
    /// fails to bind and exits. So the probe asks for the location only this configuration
    /// has, which nginx answers itself (the shop never sees it).
    fn wait_until_listening(&mut self) -> bool {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return false;
            }
            if self.answers_probe() {
                return matches!(self.child.try_wait(), Ok(None));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    /// Whether the port answers the probe location as this nginx does: 204, from nginx.
    fn answers_probe(&self) -> bool {
        let Ok(mut stream) = TcpStream::connect(("127.0.0.1", self.port)) else {
            return false;
        };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
        let request = format!("GET /{PROBE} HTTP/1.0\r\nHost: localhost\r\n\r\n");
        if stream.write_all(request.as_bytes()).is_err() {
            return false;
        }
        let mut answer = String::new();
        let _ = stream.read_to_string(&mut answer);
        answer.starts_with("HTTP/1.1 204") && answer.to_ascii_lowercase().contains("server: nginx")
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn error_log(&self) -> String {
        std::fs::read_to_string(self.prefix.join("error.log")).unwrap_or_default()
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // SIGQUIT is nginx's graceful stop; SIGKILL if it lingers.
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-QUIT", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.prefix);
    }
}

/// The shop served in process, counting the requests that reach it.
struct Shop {
    addr: SocketAddr,
    server: tokio::task::JoinHandle<()>,
    hits: Arc<AtomicUsize>,
}

impl Drop for Shop {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn shop() -> Shop {
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&hits);
    let app: Router = example_shop::app(Keys::new(key())).layer(axum::middleware::from_fn(
        move |req: axum::extract::Request, next: axum::middleware::Next| {
            counter.fetch_add(1, Ordering::SeqCst);
            next.run(req)
        },
    ));
    let (addr, server) = serve(app).await;
    Shop { addr, server, hits }
}

/// The number in `<span id="{id}">…</span>` on a shop page.
fn number(page: &str, id: &str) -> usize {
    let start = format!("<span id=\"{id}\">");
    let at = page
        .find(&start)
        .unwrap_or_else(|| panic!("no #{id} on the page:\n{page}"))
        + start.len();
    let end = at + page[at..].find('<').expect("closing tag");
    page[at..end].parse().expect("a number")
}

/// Seals a shop session of `lines` cart lines with the shop's own codec; every line's SKU is a
/// five-byte varint and its quantity takes `qty_bytes` bytes, so the size is exact.
fn sealed_shop(codec: &Codec, lines: usize, qty: u16) -> session_runtime::SetCookies {
    let value = ShopWire {
        user: "ada".into(),
        cart: (0..lines)
            .map(|i| LineWire {
                sku: 4_000_000_000 + i as u32,
                qty,
            })
            .collect(),
    };
    let meta = SessionMeta::new(Clock::System.now()).expect("random source");
    codec.seal(&value, &meta).expect("fits the shop's budget")
}

/// The most lines (five-byte SKU, one-byte quantity) that fit in `cookies` cookies.
fn lines_filling(codec: &Codec, cookies: usize) -> usize {
    let payload = |n: usize| {
        postcard::to_allocvec(&ShopWire {
            user: "ada".into(),
            cart: vec![
                LineWire {
                    sku: 4_000_000_000,
                    qty: 1
                };
                n
            ],
        })
        .expect("encode")
        .len()
    };
    let budget = codec.capacity_per_cookie() * cookies;
    (0..=1000)
        .take_while(|&n| codec.value_len(payload(n)) <= budget)
        .last()
        .expect("at least an empty cart fits")
}

fn cookie_client() -> (reqwest::Client, Arc<reqwest::cookie::Jar>) {
    let jar = Arc::new(reqwest::cookie::Jar::default());
    let client = reqwest::Client::builder()
        .cookie_provider(Arc::clone(&jar))
        .build()
        .expect("client");
    (client, jar)
}

/// Logs in as `ada` through `nginx`, as the shop's form does.
async fn log_in(client: &reqwest::Client, nginx: &Nginx) {
    let login = client
        .post(nginx.url("/login"))
        .form(&[("name", "ada")])
        .send()
        .await
        .expect("log in");
    let status = login.status();
    let page = login.text().await.expect("page");
    assert_eq!(status, StatusCode::OK, "{page}\n{}", nginx.error_log());
    assert!(page.contains("<b id=\"user\">ada</b>"), "{page}");
}

/// Adds `count` lines with five-byte SKUs through the shop's form; the status nginx answers.
async fn add(client: &reqwest::Client, nginx: &Nginx, count: u16) -> StatusCode {
    client
        .post(nginx.url("/cart/add"))
        .form(&[
            ("sku", "4000000000".to_owned()),
            ("count", count.to_string()),
        ])
        .send()
        .await
        .expect("add to cart")
        .status()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_default_budget_works_through_nginx_with_room_for_response_headers() {
    let shop = shop().await;
    let nginx = Nginx::start(shop.addr, ROOMY_PROXY_BUFFERS);
    let (client, jar) = cookie_client();
    log_in(&client, &nginx).await;

    // 800 lines: two cookies, written through nginx and sent back through it.
    for _ in 0..2 {
        assert_eq!(
            add(&client, &nginx, 400).await,
            StatusCode::OK,
            "{}",
            nginx.error_log()
        );
    }
    let page = client
        .get(nginx.url("/"))
        .send()
        .await
        .expect("GET /")
        .text()
        .await
        .expect("page");
    assert_eq!(number(&page, "lines"), 800, "{page}");
    assert_eq!(number(&page, "cookies"), 2, "{page}");
    let sent = jar
        .cookies(&nginx.url("/").parse().expect("url"))
        .expect("cookies for the shop");
    eprintln!(
        "two-cookie Cookie header through nginx: {} bytes",
        sent.len()
    );

    let out = client
        .post(nginx.url("/logout"))
        .send()
        .await
        .expect("log out")
        .text()
        .await
        .expect("page");
    assert_eq!(number(&out, "lines"), 0, "{out}");
    assert!(out.contains("id=\"login\""), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stock_nginx_answers_502_when_the_response_writes_a_large_session() {
    let shop = shop().await;
    let nginx = Nginx::start(shop.addr, STOCK);
    let (client, _jar) = cookie_client();
    log_in(&client, &nginx).await;

    // A small cart: one cookie of about 1.7 KB, within one page of response headers.
    assert_eq!(add(&client, &nginx, 200).await, StatusCode::OK);
    // 600 lines: the response sets two cookies (4 KB and 1 KB), over nginx's 4 KiB buffer for
    // the app's response headers.
    let hits_before = shop.hits.load(Ordering::SeqCst);
    assert_eq!(add(&client, &nginx, 400).await, StatusCode::BAD_GATEWAY);
    assert!(
        nginx
            .error_log()
            .contains("upstream sent too big header while reading response header from upstream"),
        "{}",
        nginx.error_log()
    );
    assert_eq!(
        shop.hits.load(Ordering::SeqCst),
        hits_before + 1,
        "the app handled the request; only its answer was lost"
    );
    // The browser never got the new cookies: it still holds the 200-line session.
    let page = client
        .get(nginx.url("/"))
        .send()
        .await
        .expect("GET /")
        .text()
        .await
        .expect("page");
    assert_eq!(number(&page, "lines"), 200, "{page}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_default_budget_fits_nginx_and_three_full_cookies_do_not() {
    let shop = shop().await;
    let nginx = Nginx::start(shop.addr, STOCK);
    let client = reqwest::Client::new();
    let codec = example_shop::settings::<ShopWire>(Keys::new(key()))
        .build_codec()
        .expect("the shop's codec");
    let get = |cookie: String| {
        client
            .get(nginx.url("/"))
            .header(reqwest::header::COOKIE, cookie)
            .send()
    };

    // Two cookies filled to the 4096-byte limit: the default budget (max_cookies = 2).
    let lines = lines_filling(&codec, 2);
    let two = sealed_shop(&codec, lines, 1);
    assert_eq!(two.chunks, 2);
    for line in &two.headers[..2] {
        assert!(
            line.len() > 4096 - 32,
            "a full cookie: {} of 4096 bytes",
            line.len()
        );
    }
    let two_header = two.cookie_header();
    let response = get(two_header.clone())
        .await
        .expect("GET / with two cookies");
    assert_eq!(response.status(), StatusCode::OK, "{}", nginx.error_log());
    let page = response.text().await.expect("page");
    assert_eq!(number(&page, "lines"), lines, "the app opened it");
    assert_eq!(number(&page, "cookies"), 2);

    // Three cookies (the shop's own max_cookies = 3): 1000 lines with three-byte quantities.
    let three = sealed_shop(&codec, 1000, 20_000);
    assert_eq!(three.chunks, 3);
    let three_header = three.cookie_header();
    let hits_before = shop.hits.load(Ordering::SeqCst);
    let response = get(three_header.clone())
        .await
        .expect("GET / with three cookies");
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body = response.text().await.expect("nginx's error page");
    assert!(
        body.contains("Request Header Or Cookie Too Large"),
        "nginx's documented answer, got:\n{body}"
    );
    assert_eq!(
        shop.hits.load(Ordering::SeqCst),
        hits_before,
        "nginx answered by itself; the app never saw the request"
    );

    // Where the limit is: the longest Cookie header value nginx passes on, by bisection with
    // a foreign cookie of growing size.
    let (mut ok, mut too_large) = (1_000usize, 20_000usize);
    while too_large - ok > 1 {
        let mid = (ok + too_large) / 2;
        let cookie = format!("pad={}", "p".repeat(mid - 4));
        let status = get(cookie).await.expect("GET / with padding").status();
        if status == StatusCode::BAD_REQUEST {
            too_large = mid;
        } else {
            assert_eq!(status, StatusCode::OK);
            ok = mid;
        }
    }
    eprintln!(
        "nginx (large_client_header_buffers 4 8k) passes a Cookie value of up to {ok} bytes; \
         two full cookies: {} bytes; three: {} bytes",
        two_header.len(),
        three_header.len()
    );
    // `Cookie: ` and the line end take the rest of the 8 KiB buffer.
    assert!((8_000..8_192).contains(&ok), "limit at {ok} bytes");
    assert!(two_header.len() <= ok);
    assert!(three_header.len() > ok);
}
