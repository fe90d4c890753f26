//! The example shop in a real browser: headless Chromium submits the shop's own forms, keeps
//! its own cookie jar, and sends back every chunk it was given.
//!
//! A harness page, served from the shop's origin, loads the shop in an iframe and clicks
//! through it (log in, fill the cart past one cookie, overflow it, reload, log out, take a
//! session from the previous schema version), writing what each page showed into
//! `<pre id="result">`. Chromium's `--dump-dom` prints that page once the script has finished,
//! and this test checks it.
//!
//! Needs Chromium (`apt-get install chromium`; `scripts/test-all` installs it). Set `CHROMIUM`
//! to use another binary.

use std::io::Read as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use axum::response::Html;
use axum::routing::get;
use session_runtime::Keys;
use session_tests::{key, serve};

/// Drives the shop in an iframe through `step`s; each step acts on the current page and
/// resolves with the page the browser loads next (a form post, its redirect, the new page).
const HARNESS: &str = r#"<!doctype html><html><body>
<iframe id="app" width="800" height="600"></iframe>
<pre id="result">running</pre>
<script>
const frame = document.getElementById('app');
const log = {};
function next(act) {
  return new Promise(resolve => {
    frame.onload = () => resolve(frame.contentDocument);
    act(frame.contentDocument);
  });
}
function read(doc) {
  const text = id => { const el = doc.getElementById(id); return el ? el.textContent : null; };
  return {
    user: text('user'),
    lines: Number(text('lines')),
    cookies: Number(text('cookies')),
    flash: text('flash'),
    loginForm: !!doc.getElementById('login'),
  };
}
// The shop's "add 400" form, with SKUs large enough (5-byte varints) that 800 lines need two
// cookies. Only the hidden field's value changes; the form and the button are the shop's.
function addBig(doc) {
  doc.querySelector('#add400').form.querySelector('input[name=sku]').value = '4000000000';
  doc.getElementById('add400').click();
}
(async () => {
  try {
    let doc = await next(() => { frame.src = '/'; });
    log.start = read(doc);
    doc = await next(d => { d.getElementById('name').value = 'ada'; d.getElementById('login').click(); });
    log.login = read(doc);
    doc = await next(addBig);
    log.add400 = read(doc);
    doc = await next(addBig);
    log.add800 = read(doc);
    doc = await next(addBig);
    log.overflow = read(doc);
    doc = await next(d => d.location.reload());
    log.reload = read(doc);
    doc = await next(d => d.getElementById('logout').click());
    log.logout = read(doc);
    doc = await next(d => d.location.reload());
    log.afterLogout = read(doc);
    doc = await next(d => d.getElementById('legacy').click());
    log.legacy = read(doc);
    doc = await next(d => d.location.reload());
    log.legacyReload = read(doc);
    log.done = true;
  } catch (e) {
    log.error = String(e);
  }
  document.getElementById('result').textContent = JSON.stringify(log);
})();
</script></body></html>"#;

/// The Chromium binary: `$CHROMIUM`, or the first of the usual names on `PATH`.
fn chromium() -> PathBuf {
    if let Some(path) = std::env::var_os("CHROMIUM") {
        return PathBuf::from(path);
    }
    for name in ["chromium", "chromium-browser", "google-chrome"] {
        if let Some(dir) = std::env::var_os("PATH")
            .iter()
            .flat_map(std::env::split_paths)
            .find(|dir| dir.join(name).is_file())
        {
            return dir.join(name);
        }
    }
    panic!(
        "Chromium not found: install it (apt-get install chromium; scripts/test-all does) \
         or set CHROMIUM to its path"
    );
}

/// Loads `url` in headless Chromium and returns the DOM it ends with.
fn dump_dom(url: &str) -> String {
    let profile = std::env::temp_dir().join(format!("session-browser-test-{}", std::process::id()));
    let mut child = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            // Virtual time waits for pending loads, so the budget only bounds the script's idle
            // time; the whole flow takes a few seconds of real time.
            "--virtual-time-budget=30000",
            "--dump-dom",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(url)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start Chromium");
    let mut stdout = child.stdout.take().expect("piped stdout");
    let reader = std::thread::spawn(move || {
        let mut out = String::new();
        let _ = stdout.read_to_string(&mut out);
        out
    });
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if child.try_wait().expect("wait for Chromium").is_some() {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            let _ = std::fs::remove_dir_all(&profile);
            panic!("Chromium did not finish within two minutes");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = std::fs::remove_dir_all(&profile);
    reader.join().expect("reader thread")
}

/// The text of `<pre id="result">` in the dumped DOM, as JSON.
fn result(dom: &str) -> serde_json::Value {
    let start = dom
        .find("<pre id=\"result\">")
        .unwrap_or_else(|| panic!("no result element in the page:\n{dom}"))
        + "<pre id=\"result\">".len();
    let end = start + dom[start..].find("</pre>").expect("closing </pre>");
    let text = dom[start..end]
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("result is not JSON ({e}): {text}"))
}

#[test]
fn the_example_shop_works_in_a_real_browser() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let app =
        example_shop::app(Keys::new(key(16))).route("/harness", get(|| async { Html(HARNESS) }));
    let (addr, server) = runtime.block_on(serve(app));

    let dom = dump_dom(&format!("http://{addr}/harness"));
    server.abort();
    let log = result(&dom);
    assert!(
        log.get("error").is_none(),
        "the harness script failed: {log}"
    );
    assert_eq!(log["done"], true, "the harness did not finish: {log}");
    let step = |name: &str| &log[name];

    // A first visit: anonymous, no cookie yet.
    assert_eq!(step("start")["loginForm"], true, "{log}");
    assert_eq!(step("start")["cookies"], 0, "{log}");

    // Login regenerates the session and greets once.
    assert_eq!(step("login")["user"], "ada", "{log}");
    assert_eq!(step("login")["flash"], "Welcome, ada.", "{log}");
    assert_eq!(step("login")["cookies"], 1, "{log}");

    // 400 large lines fit one cookie; 800 need two, and the browser sends both back.
    assert_eq!(step("add400")["lines"], 400, "{log}");
    assert_eq!(step("add400")["cookies"], 1, "{log}");
    assert_eq!(step("add800")["lines"], 800, "{log}");
    assert_eq!(step("add800")["cookies"], 2, "{log}");

    // 1200 lines exceed the schema's max_len: the handler says so and the cart is kept whole.
    let overflow = step("overflow");
    assert_eq!(overflow["lines"], 800, "{log}");
    assert!(
        overflow["flash"]
            .as_str()
            .is_some_and(|f| f.starts_with("Not added")),
        "{log}"
    );

    // A reload: the flash was one-shot, the session is intact.
    assert_eq!(step("reload")["flash"], serde_json::Value::Null, "{log}");
    assert_eq!(step("reload")["user"], "ada", "{log}");
    assert_eq!(step("reload")["lines"], 800, "{log}");
    assert_eq!(step("reload")["cookies"], 2, "{log}");

    // Logout expires every chunk: nothing is left to come back on the next request.
    assert_eq!(step("logout")["loginForm"], true, "{log}");
    assert_eq!(step("logout")["lines"], 0, "{log}");
    assert!(
        step("logout")["flash"]
            .as_str()
            .is_some_and(|f| f.starts_with("Logged out")),
        "{log}"
    );
    assert_eq!(step("afterLogout")["loginForm"], true, "{log}");
    assert_eq!(step("afterLogout")["cookies"], 0, "{log}");
    assert_eq!(step("afterLogout")["lines"], 0, "{log}");

    // A cookie written by schema version 1 migrates to version 2 and stays migrated.
    assert_eq!(step("legacy")["user"], "legacy user", "{log}");
    assert_eq!(step("legacy")["lines"], 3, "{log}");
    assert_eq!(step("legacyReload")["user"], "legacy user", "{log}");
    assert_eq!(step("legacyReload")["lines"], 3, "{log}");
    assert_eq!(step("legacyReload")["cookies"], 1, "{log}");
}
