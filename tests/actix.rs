//! The actix-web adapter over real HTTP on loopback: one user served alternately by an axum and
//! an actix-web instance with the same key, schema and cookie name (sessions in cookies, and in
//! one store, where a logout on one ends the session on the other); one layer shared by several
//! workers; and the same answers (status, body, cookies, cache headers) from both adapters.

use reqwest::{Client, StatusCode, Url};
use session_runtime::{BadCookiePolicy, Key, MemoryStore, SessionLayer};
use session_tests::{AppV2, at, jar_client, jar_names, key, loopback, start, start_actix, text};

/// The two adapters' servers for one layer (clones share its keys and codec).
async fn both(layer: SessionLayer<AppV2>, workers: usize) -> (Url, Url, impl Drop) {
    let (axum_url, axum_task) = start(layer.clone()).await;
    let (actix_url, actix_server) = start_actix(layer, workers).await;
    struct Stop {
        axum: tokio::task::JoinHandle<()>,
        _actix: session_tests::ActixServer,
    }
    impl Drop for Stop {
        fn drop(&mut self) {
            self.axum.abort();
        }
    }
    let stop = Stop {
        axum: axum_task,
        _actix: actix_server,
    };
    (axum_url, actix_url, stop)
}

#[tokio::test]
async fn axum_and_actix_serve_one_user_alternately() {
    // Two layers built apart, as two services would: one key, one schema, one cookie name.
    let (axum_url, _axum) = start(loopback::<AppV2>(key(3)).build().expect("layer")).await;
    let (actix_url, _actix) =
        start_actix(loopback::<AppV2>(key(3)).build().expect("layer"), 2).await;
    let (client, jar) = jar_client();

    let (status, _, body) = text(&client, "POST", at(&axum_url, "login?user=ada")).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "hello ada"));
    let id = text(&client, "GET", at(&axum_url, "id")).await.2;
    for round in 1..=6u32 {
        let url = if round % 2 == 1 {
            &actix_url
        } else {
            &axum_url
        };
        let (status, _, body) = text(&client, "POST", at(url, "bump")).await;
        assert_eq!(
            (status, body),
            (StatusCode::OK, round.to_string()),
            "round {round} on {url}"
        );
        let (_, _, body) = text(&client, "GET", at(url, "show")).await;
        assert!(
            body.starts_with("user=ada "),
            "round {round} on {url}: {body}"
        );
        assert_eq!(
            text(&client, "GET", at(url, "id")).await.2,
            id,
            "round {round}"
        );
    }
    // A cart that spreads over several cookies, written by one, read by the other.
    text(&client, "POST", at(&actix_url, "items?items=1000")).await;
    let (_, _, body) = text(&client, "GET", at(&axum_url, "show")).await;
    assert_eq!(body, "user=ada items=1000 new=false chunks=3");
    text(&client, "POST", at(&axum_url, "items?items=3")).await;
    let (_, _, body) = text(&client, "GET", at(&actix_url, "show")).await;
    assert_eq!(body, "user=ada items=3 new=false chunks=1");
    // Flashes set on one are taken on the other, once.
    text(&client, "POST", at(&axum_url, "flash?text=hi")).await;
    assert_eq!(
        text(&client, "GET", at(&actix_url, "flashes")).await.2,
        "success:hi"
    );
    assert_eq!(text(&client, "GET", at(&axum_url, "flashes")).await.2, "");
    // A logout on one is a logout on both.
    text(&client, "POST", at(&actix_url, "logout")).await;
    assert!(jar_names(&jar, &axum_url).is_empty());
    let (_, _, body) = text(&client, "GET", at(&axum_url, "show")).await;
    assert_eq!(body, "user= items=0 new=true chunks=0");
}

#[tokio::test]
async fn axum_and_actix_share_a_store_and_a_logout() {
    // Sessions in one store, reached by both services; the cookie holds only the sealed id.
    let store = std::sync::Arc::new(MemoryStore::new());
    let layer = || {
        loopback::<AppV2>(key(5))
            .with_store(std::sync::Arc::clone(&store))
            .build()
            .expect("layer")
    };
    let (axum_url, _axum) = start(layer()).await;
    let (actix_url, _actix) = start_actix(layer(), 2).await;
    let (client, jar) = jar_client();

    text(&client, "POST", at(&actix_url, "login?user=eve")).await;
    assert_eq!(text(&client, "POST", at(&axum_url, "bump")).await.2, "1");
    assert_eq!(text(&client, "POST", at(&actix_url, "bump")).await.2, "2");
    text(&client, "POST", at(&axum_url, "items?items=1000")).await;
    let (_, _, body) = text(&client, "GET", at(&actix_url, "show")).await;
    assert_eq!(
        body, "user=eve items=1000 new=false chunks=1",
        "one id cookie"
    );
    let recorded = reqwest::cookie::CookieStore::cookies(&*jar, &axum_url).expect("cookies");

    // Logged out on axum: the cookie recorded before opens nothing on actix-web.
    text(&client, "POST", at(&axum_url, "logout")).await;
    let replay = Client::new()
        .get(at(&actix_url, "show"))
        .header("cookie", recorded)
        .send()
        .await
        .expect("a response")
        .text()
        .await
        .expect("a body");
    assert_eq!(replay, "user= items=0 new=true chunks=0");
}

#[tokio::test]
async fn one_layer_serves_every_worker() {
    // A generated key, built once: every worker must open what another sealed.
    let layer = loopback::<AppV2>(Key::generate()).build().expect("layer");
    let (url, _server) = start_actix(layer, 4).await;
    // Concurrent requests open several connections, which the workers share out.
    let (client_with_jar, _jar) = jar_client();
    text(&client_with_jar, "POST", at(&url, "login?user=bo")).await;
    let rounds: Vec<_> = (0..40)
        .map(|_| {
            let client = client_with_jar.clone();
            let url = url.clone();
            tokio::spawn(async move { text(&client, "GET", at(&url, "show")).await.2 })
        })
        .collect();
    for round in rounds {
        let body = round.await.expect("a request");
        assert!(
            body.starts_with("user=bo "),
            "a worker did not open the session: {body}"
        );
    }
    for n in 1..=20u32 {
        assert_eq!(
            text(&client_with_jar, "POST", at(&url, "bump")).await.2,
            n.to_string()
        );
    }
}

/// Status, body, and the headers a client or a cache acts on.
async fn answer(client: &Client, method: &str, url: Url, cookie: Option<&str>) -> String {
    let request = match method {
        "GET" => client.get(url),
        _ => client.post(url),
    };
    let request = match cookie {
        Some(cookie) => request.header("cookie", cookie),
        None => request,
    };
    let response = request.send().await.expect("a response");
    let status = response.status().as_u16();
    let header = |name: &str| {
        response
            .headers()
            .get_all(name)
            .iter()
            .map(|v| v.to_str().unwrap_or("?").to_owned())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let cookies: Vec<String> = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| {
            // The attributes, not the sealed value, which differs each time.
            let line = v.to_str().unwrap_or("?");
            let (name, rest) = line.split_once('=').unwrap_or((line, ""));
            let attributes = rest.split_once(';').map_or("", |(_, a)| a);
            let removal = rest.starts_with(';');
            format!(
                "{name}={}{attributes}",
                if removal { "" } else { "<sealed>" }
            )
        })
        .collect();
    let shown = format!(
        "{status} content-type={:?} cache-control={:?} vary={:?} set-cookie={cookies:?}",
        header("content-type"),
        header("cache-control"),
        header("vary")
    );
    format!(
        "{shown} body={:?}",
        response.text().await.unwrap_or_default()
    )
}

#[tokio::test]
async fn both_adapters_answer_alike() {
    let layer = loopback::<AppV2>(key(4))
        .with_bad_cookie_policy(BadCookiePolicy::Reject)
        .build()
        .expect("layer");
    let (axum_url, actix_url, _servers) = both(layer, 1).await;
    let client = Client::new();
    let sealed = {
        let (client, jar) = jar_client();
        text(&client, "POST", at(&axum_url, "login?user=cy")).await;
        let cookies = reqwest::cookie::CookieStore::cookies(&*jar, &axum_url).expect("cookies");
        cookies.to_str().expect("ascii").to_owned()
    };
    let cases: &[(&str, &str, Option<&str>)] = &[
        ("GET", "show", None),
        ("GET", "untouched", None),
        ("GET", "readonly", None),
        ("GET", "readonly", Some(&sealed)),
        ("GET", "maybe", None),
        ("POST", "login?user=dee", None),
        ("POST", "items?items=100000", Some(&sealed)),
        ("POST", "logout", Some(&sealed)),
        ("GET", "show", Some("session=not-a-sealed-value")),
        ("POST", "flash?text=x", None),
    ];
    for &(method, path, cookie) in cases {
        let from_axum = answer(&client, method, at(&axum_url, path), cookie).await;
        let from_actix = answer(&client, method, at(&actix_url, path), cookie).await;
        assert_eq!(
            from_axum, from_actix,
            "{method} /{path} with cookie {cookie:?}"
        );
    }
}
