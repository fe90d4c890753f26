//! The middleware over real HTTP on loopback: real servers (in-process and as processes), a real
//! client with a cookie jar, and exact Set-Cookie headers.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use reqwest::{Client, StatusCode, Url};
use session_runtime::{BadCookiePolicy, Key, Keys, ManualClock, SessionLayer};
use session_tests::{
    AppV1, AppV2, at, base, get_with_cookie, jar_client, jar_names, key, loopback, serve,
    set_cookies, start, text,
};

#[tokio::test]
async fn a_session_lives_across_requests_and_logout_ends_it() {
    let (url, _server) = start(loopback::<AppV2>(key(1)).build().expect("layer")).await;
    let (client, jar) = jar_client();

    let (_, cookies, body) = text(&client, "GET", at(&url, "show")).await;
    assert_eq!(body, "user= items=0 new=true chunks=0");
    assert!(
        cookies.is_empty(),
        "reading a new session writes nothing: {cookies:?}"
    );

    let (status, _, body) = text(&client, "POST", at(&url, "login?user=ada")).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "hello ada"));
    let (_, cookies, body) = text(&client, "GET", at(&url, "show")).await;
    assert_eq!(body, "user=ada items=0 new=false chunks=1");
    assert!(
        cookies.is_empty(),
        "an unchanged, fresh session is not re-sent: {cookies:?}"
    );

    assert_eq!(text(&client, "POST", at(&url, "bump")).await.2, "1");
    assert_eq!(text(&client, "POST", at(&url, "bump")).await.2, "2");

    let (_, cookies, _) = text(&client, "POST", at(&url, "logout")).await;
    assert_eq!(cookies.len(), 3, "every chunk name is expired: {cookies:?}");
    assert!(jar_names(&jar, &url).is_empty());
    let (_, _, body) = text(&client, "GET", at(&url, "show")).await;
    assert_eq!(body, "user= items=0 new=true chunks=0");
}

/// The example shop's read-only route takes its schema itself, as `#[session(extractor)]`
/// allows: `None` before the session exists, a copy of it after.
#[tokio::test]
async fn the_shop_reads_its_cart_through_the_schema_extractor() {
    let (addr, _server) = serve(example_shop::app(Keys::new(key(3)))).await;
    let url = base(addr);
    let (client, _jar) = jar_client();
    assert_eq!(text(&client, "GET", at(&url, "cart/count")).await.2, "0");
    let response = client
        .post(at(&url, "cart/add"))
        .form(&[("sku", "7"), ("count", "3")])
        .send()
        .await
        .expect("request");
    assert!(response.status().is_success(), "{}", response.status());
    let (status, cookies, body) = text(&client, "GET", at(&url, "cart/count")).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "3"));
    assert!(cookies.is_empty(), "a read writes nothing: {cookies:?}");
}

#[tokio::test]
async fn login_regenerates_the_session_id() {
    let (url, _server) = start(loopback::<AppV2>(key(1)).build().expect("layer")).await;
    let (client, _jar) = jar_client();
    text(&client, "POST", at(&url, "bump")).await;
    let before = text(&client, "GET", at(&url, "id")).await.2;
    assert_eq!(before, text(&client, "GET", at(&url, "id")).await.2);
    text(&client, "POST", at(&url, "login?user=ada")).await;
    let after = text(&client, "GET", at(&url, "id")).await.2;
    assert_eq!(after.len(), 32);
    assert_ne!(before, after);
}

#[tokio::test]
async fn two_instances_with_one_key_serve_one_session() {
    let (a, _sa) = start(loopback::<AppV2>(key(2)).build().expect("layer")).await;
    let (b, _sb) = start(loopback::<AppV2>(key(2)).build().expect("layer")).await;
    let (client, _jar) = jar_client();
    for round in 1..=6u32 {
        let url = if round % 2 == 0 { &a } else { &b };
        let (status, _, body) = text(&client, "POST", at(url, "bump")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body, round.to_string(), "instance {url} saw the count");
    }
}

#[tokio::test]
async fn an_untouched_route_costs_no_cookie() {
    let (url, _server) = start(loopback::<AppV2>(key(3)).build().expect("layer")).await;
    let (client, _jar) = jar_client();
    text(&client, "POST", at(&url, "login?user=bob")).await;
    let (status, cookies, body) = text(&client, "GET", at(&url, "untouched")).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "untouched"));
    assert!(cookies.is_empty());
}

#[tokio::test]
async fn a_session_shrinking_from_three_chunks_to_one_leaves_none_behind() {
    let (url, _server) = start(loopback::<AppV2>(key(4)).build().expect("layer")).await;
    let (client, jar) = jar_client();
    text(&client, "POST", at(&url, "items?items=1000")).await;
    assert_eq!(jar_names(&jar, &url), ["session", "session.1", "session.2"]);
    let (_, _, body) = text(&client, "GET", at(&url, "show")).await;
    assert_eq!(body, "user= items=1000 new=false chunks=3");

    let (_, cookies, _) = text(&client, "POST", at(&url, "items?items=3")).await;
    assert_eq!(cookies.len(), 3, "{cookies:?}");
    assert!(cookies[1].starts_with("session.1=; Max-Age=0; Path=/;"));
    assert!(cookies[2].starts_with("session.2=; Max-Age=0; Path=/;"));
    assert_eq!(jar_names(&jar, &url), ["session"]);
    let (_, _, body) = text(&client, "GET", at(&url, "show")).await;
    assert_eq!(body, "user= items=3 new=false chunks=1");
}

#[tokio::test]
async fn logout_of_a_three_chunk_session_expires_every_chunk() {
    let (url, _server) = start(loopback::<AppV2>(key(5)).build().expect("layer")).await;
    let (client, jar) = jar_client();
    text(&client, "POST", at(&url, "items?items=1000")).await;
    assert_eq!(jar_names(&jar, &url).len(), 3);
    let (_, cookies, _) = text(&client, "POST", at(&url, "logout")).await;
    assert_eq!(
        cookies,
        [
            "session=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax",
            "session.1=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax",
            "session.2=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax",
        ]
    );
    assert!(jar_names(&jar, &url).is_empty());
}

#[tokio::test]
async fn too_large_is_an_error_the_handler_sees_and_nothing_is_lost() {
    // v1 has no compile-time budget: its size is checked on every change instead.
    let (url, _server) = start(
        loopback::<AppV1>(key(6))
            .with_max_cookies(1)
            .build()
            .expect("layer"),
    )
    .await;
    let (client, _jar) = jar_client();
    text(&client, "POST", at(&url, "items?items=10")).await;
    let (status, cookies, body) = text(&client, "POST", at(&url, "items?items=3000")).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    // A generic body for the client (issue 12): the details are in the log.
    assert_eq!(body, "the session cannot hold this change");
    assert!(cookies.is_empty());
    let (_, _, body) = text(&client, "GET", at(&url, "show")).await;
    assert_eq!(body, "user= items=10 new=false chunks=1");
}

#[tokio::test]
async fn the_default_configuration_sends_exactly_these_headers() {
    let layer = SessionLayer::<AppV2>::builder(key(7))
        .with_max_cookies(3)
        .build()
        .expect("layer");
    let (url, _server) = start(layer).await;
    let client = Client::new();
    let response = client.post(at(&url, "bump")).send().await.expect("request");
    let cookies = set_cookies(&response);
    assert_eq!(cookies.len(), 3, "{cookies:?}");
    let (value, attributes) = cookies[0]
        .strip_prefix("session=")
        .and_then(|rest| rest.split_once(';'))
        .expect("session=value; attributes");
    assert_eq!(attributes, " Path=/; Secure; HttpOnly; SameSite=Lax");
    // 58 bytes of envelope around a 3-byte payload (empty user, no items, visits = 1), in
    // unpadded base64.
    assert_eq!(value.len(), (58 + 3usize).div_ceil(3) * 4 - 2, "{value}");
    assert!(
        value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
        "base64url without padding: {value}"
    );
    assert_eq!(
        cookies[1],
        "session.1=; Max-Age=0; Path=/; Secure; HttpOnly; SameSite=Lax"
    );
    assert_eq!(
        cookies[2],
        "session.2=; Max-Age=0; Path=/; Secure; HttpOnly; SameSite=Lax"
    );

    // The same cookie sent back opens; nothing changes, nothing is written.
    let response = get_with_cookie(
        &client,
        at(&url, "show"),
        &format!("theme=dark; session={value}"),
    )
    .await;
    assert!(set_cookies(&response).is_empty());
    assert_eq!(
        response.text().await.expect("body"),
        "user= items=0 new=false chunks=1"
    );
}

#[tokio::test]
async fn idle_and_absolute_expiry_follow_the_sealed_timestamps() {
    let clock = ManualClock::new(1_800_000_000);
    let layer = loopback::<AppV2>(key(8))
        .with_clock(clock.clone())
        .with_idle_timeout(Some(Duration::from_secs(30 * 60)))
        .with_absolute_timeout(Some(Duration::from_secs(2 * 60 * 60)))
        .with_refresh_after(Duration::from_secs(60))
        .build()
        .expect("layer");
    let (url, _server) = start(layer).await;
    let (client, jar) = jar_client();
    text(&client, "POST", at(&url, "login?user=ada")).await;

    // Within the refresh threshold: no new cookie.
    clock.advance(Duration::from_secs(30));
    let (_, cookies, body) = text(&client, "GET", at(&url, "show")).await;
    assert!(body.starts_with("user=ada"));
    assert!(cookies.is_empty(), "{cookies:?}");

    // Past it: the idle expiry is pushed forward with a re-sealed cookie.
    clock.advance(Duration::from_secs(60));
    let (_, cookies, _) = text(&client, "GET", at(&url, "show")).await;
    assert_eq!(cookies.len(), 3, "refreshed: {cookies:?}");

    // Kept busy every 25 minutes, the session outlives the idle timeout...
    for _ in 0..4 {
        clock.advance(Duration::from_secs(25 * 60));
        let (_, _, body) = text(&client, "GET", at(&url, "show")).await;
        assert!(body.starts_with("user=ada"), "still alive: {body}");
    }
    // ...but not the absolute one (2 h after login).
    clock.advance(Duration::from_secs(25 * 60));
    let (_, cookies, body) = text(&client, "GET", at(&url, "show")).await;
    assert_eq!(body, "user= items=0 new=true chunks=0");
    assert_eq!(
        cookies.len(),
        3,
        "the expired cookies are removed: {cookies:?}"
    );
    assert!(jar_names(&jar, &url).is_empty());

    // Idle: a new login, then 31 minutes of silence.
    text(&client, "POST", at(&url, "login?user=bob")).await;
    clock.advance(Duration::from_secs(31 * 60));
    let (_, _, body) = text(&client, "GET", at(&url, "show")).await;
    assert_eq!(body, "user= items=0 new=true chunks=0");
}

#[tokio::test]
async fn key_rotation_reseals_with_the_primary_key() {
    let (old, _s1) = start(loopback::<AppV2>(key(9)).build().expect("layer")).await;
    let rotated = Keys::new(key(10)).with_fallback(key(9));
    let (mid, _s2) = start(loopback::<AppV2>(rotated).build().expect("layer")).await;
    let (new, _s3) = start(loopback::<AppV2>(key(10)).build().expect("layer")).await;
    let (client, _jar) = jar_client();

    text(&client, "POST", at(&old, "login?user=ada")).await;
    // The rotated instance opens the old cookie and re-seals it with the new key at once.
    let (_, cookies, body) = text(&client, "GET", at(&mid, "show")).await;
    assert!(body.starts_with("user=ada"), "{body}");
    assert_eq!(cookies.len(), 3, "re-sealed: {cookies:?}");
    // So an instance that knows only the new key keeps the session...
    let (_, _, body) = text(&client, "GET", at(&new, "show")).await;
    assert_eq!(body, "user=ada items=0 new=false chunks=1");
    // ...and one that knows only the old key does not.
    let (_, _, body) = text(&client, "GET", at(&old, "show")).await;
    assert!(body.ends_with("new=true chunks=0"), "{body}");
}

#[tokio::test]
async fn bad_cookies_give_a_fresh_session_or_a_400_never_a_500() {
    let (url, _server) = start(loopback::<AppV2>(key(11)).build().expect("layer")).await;
    let strict = loopback::<AppV2>(key(11))
        .with_bad_cookie_policy(BadCookiePolicy::Reject)
        .build()
        .expect("layer");
    let (strict_url, _s2) = start(strict).await;
    let client = Client::new();
    let good = client.post(at(&url, "bump")).send().await.expect("request");
    let value = set_cookies(&good)[0]
        .strip_prefix("session=")
        .and_then(|rest| rest.split(';').next())
        .expect("value")
        .to_owned();
    let mut tampered = value.clone().into_bytes();
    tampered[40] = if tampered[40] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).expect("ascii");

    let hostile = [
        format!("session={tampered}"),
        format!("session={}", &value[..value.len() - 8]),
        format!("session={value}; session={value}"),
        format!("session={value}; session.1={value}"),
        format!("session={}", "A".repeat(5000)),
        "session=%%%".to_owned(),
        format!("session.1={value}"),
    ];
    for cookie in &hostile {
        let response = get_with_cookie(&client, at(&url, "show"), cookie).await;
        assert_eq!(response.status(), StatusCode::OK, "{cookie}");
        assert_eq!(
            response.text().await.expect("body"),
            "user= items=0 new=true chunks=0"
        );

        let response = get_with_cookie(&client, at(&strict_url, "show"), cookie).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{cookie}");
        let body = response.text().await.expect("body");
        assert!(body.starts_with("invalid session cookie"), "{body}");
        assert!(!body.contains(&value[..20]), "the cookie is never echoed");
    }

    // A route without the session is not affected by strict mode.
    let response = get_with_cookie(&client, at(&strict_url, "untouched"), &hostile[0]).await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_route_without_the_layer_is_a_generic_500() {
    async fn handler(_: session_runtime::Session<AppV2>) -> &'static str {
        "unreachable"
    }
    let app = axum::Router::new().route("/", axum::routing::get(handler));
    let (addr, _server) = serve(app).await;
    let response = reqwest::get(base(addr)).await.expect("request");
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let body = response.text().await.expect("body");
    // The client sees no type names; the log names the missing layer.
    assert_eq!(body, "internal server error");
}

#[tokio::test]
async fn the_schema_itself_is_a_read_only_extractor() {
    let (url, _server) = start(loopback::<AppV2>(key(12)).build().expect("layer")).await;
    let (client, _jar) = jar_client();
    let (status, _, body) = text(&client, "GET", at(&url, "readonly")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(text(&client, "GET", at(&url, "maybe")).await.2, "None");

    text(&client, "POST", at(&url, "login?user=ada")).await;
    let (status, cookies, body) = text(&client, "GET", at(&url, "readonly")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("user: \"ada\""), "{body}");
    assert!(cookies.is_empty());
    assert!(
        text(&client, "GET", at(&url, "maybe"))
            .await
            .2
            .starts_with("Some(")
    );
}

#[tokio::test]
async fn flash_messages_are_shown_once_and_survive_logout() {
    let (url, _server) = start(loopback::<AppV2>(key(13)).build().expect("layer")).await;
    let (client, jar) = jar_client();
    text(&client, "POST", at(&url, "flash?text=saved")).await;
    text(&client, "POST", at(&url, "logout")).await;
    assert_eq!(jar_names(&jar, &url), ["session_flash"]);
    assert_eq!(
        text(&client, "GET", at(&url, "flashes")).await.2,
        "success:saved"
    );
    assert_eq!(text(&client, "GET", at(&url, "flashes")).await.2, "");
    assert!(jar_names(&jar, &url).is_empty());
}

/// A `test-server` process, killed on drop.
struct Server {
    child: Child,
    url: Url,
}

impl Server {
    fn spawn(schema: &str, keys: &[&Key]) -> Server {
        let mut command = Command::new(env!("CARGO_BIN_EXE_test-server"));
        command.arg(schema);
        for key in keys {
            command.arg(key.to_base64());
        }
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start test-server");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read the address");
        let addr = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected output: {line:?}"));
        let url = base(addr.parse().expect("a socket address"));
        Server { child, url }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn a_restarted_server_keeps_the_session() {
    let key = key(14);
    let (client, _jar) = jar_client();
    let first = Server::spawn("v2", &[&key]);
    text(&client, "POST", at(&first.url, "login?user=ada")).await;
    text(&client, "POST", at(&first.url, "bump")).await;
    drop(first);

    let second = Server::spawn("v2", &[&key]);
    let (_, _, body) = text(&client, "GET", at(&second.url, "show")).await;
    assert_eq!(body, "user=ada items=0 new=false chunks=1");
    assert_eq!(text(&client, "POST", at(&second.url, "bump")).await.2, "2");
}

#[tokio::test]
async fn an_upgrade_from_v1_to_v2_migrates_the_live_session() {
    let key = key(15);
    let (client, jar) = jar_client();
    let old = Server::spawn("v1", &[&key]);
    text(&client, "POST", at(&old.url, "login?user=ada")).await;
    text(&client, "POST", at(&old.url, "items?items=5")).await;
    drop(old);

    let new = Server::spawn("v2", &[&key]);
    let (_, cookies, body) = text(&client, "GET", at(&new.url, "show")).await;
    assert_eq!(body, "user=ada items=5 new=false chunks=1");
    assert_eq!(
        cookies.len(),
        3,
        "migrated sessions are re-sealed: {cookies:?}"
    );
    let (_, cookies, body) = text(&client, "GET", at(&new.url, "readonly")).await;
    assert!(body.contains("qty: 1"), "{body}");
    assert!(
        cookies.is_empty(),
        "after the re-seal, nothing more to write"
    );
    assert_eq!(jar_names(&jar, &new.url), ["session"]);

    // A rollback to v1 cannot read the v2 cookie: a fresh session, never a crash.
    let rolled_back = Server::spawn("v1", &[&key]);
    let (status, _, body) = text(&client, "GET", at(&rolled_back.url, "show")).await;
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::OK, "user= items=0 new=true chunks=0")
    );
}
