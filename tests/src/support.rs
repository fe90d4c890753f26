//! Helpers the tests share: the fixed "now", codecs under the golden key, cookie text as a
//! browser would handle it, and a client with a cookie jar for the HTTP tests.

use std::net::SocketAddr;
use std::sync::Arc;

use reqwest::cookie::{CookieStore as _, Jar};
use reqwest::header::{COOKIE, SET_COOKIE};
use reqwest::{Client, Response, StatusCode, Url};
use session_runtime::{Codec, SessionLayer, SessionLayerBuilder, SessionMeta, SetCookies};

use crate::fixtures::{CartV3, golden_key};

/// The time the codec tests seal and open at (and the golden cookies were sealed at).
pub const NOW: u32 = 1_763_800_000;

/// A new session's id and timestamps at [`NOW`].
pub fn meta() -> SessionMeta {
    SessionMeta::new(NOW).expect("random")
}

/// Codec settings under the golden key: cookie `name`, at most `max_cookies` cookies, the
/// other settings at their defaults.
///
/// The schema parameter only matters to `build`, which checks its worst case; the tests call
/// [`build_codec`](SessionLayerBuilder::build_codec), which checks none, so one codec seals
/// and opens every schema.
pub fn settings(name: &str, max_cookies: u8) -> SessionLayerBuilder<CartV3> {
    SessionLayer::<CartV3>::builder(golden_key())
        .with_cookie_name(name)
        .with_max_cookies(max_cookies)
}

/// [`settings`], built.
pub fn codec(name: &str, max_cookies: u8) -> Codec {
    settings(name, max_cookies)
        .build_codec()
        .expect("valid settings")
}

/// The `(name, value)` pair a Set-Cookie line sets.
pub fn pair(set_cookie: &str) -> (String, String) {
    let pair = set_cookie.split(';').next().unwrap_or_default();
    let (name, value) = pair.split_once('=').expect("name=value");
    (name.to_owned(), value.to_owned())
}

/// The `(name, value)` pairs of the cookies a write sets, removals left out.
pub fn chunk_pairs(sealed: &SetCookies) -> Vec<(String, String)> {
    sealed.headers[..usize::from(sealed.chunks)]
        .iter()
        .map(|line| pair(line))
        .collect()
}

/// A `Cookie` request header sending `pairs` in order.
pub fn cookie_header(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(name, value)| format!("{name}={value}"))
        .collect::<Vec<_>>()
        .join("; ")
}

/// The `(name, value)` pairs Set-Cookie `lines` set, removals left out.
pub fn set_pairs(lines: &[String]) -> Vec<(String, String)> {
    lines
        .iter()
        .map(|line| pair(line))
        .filter(|(_, value)| !value.is_empty())
        .collect()
}

/// The `Cookie` header a browser sends back after Set-Cookie `lines`: the pairs with a value,
/// removals left out.
pub fn sent_back(lines: &[String]) -> String {
    cookie_header(&set_pairs(lines))
}

/// `http://addr/`.
pub fn base(addr: SocketAddr) -> Url {
    Url::parse(&format!("http://{addr}/")).expect("url")
}

/// `path` under `base`.
pub fn at(base: &Url, path: &str) -> Url {
    base.join(path).expect("url")
}

/// A client that keeps cookies like a browser, and its jar.
pub fn jar_client() -> (Client, Arc<Jar>) {
    let jar = Arc::new(Jar::default());
    let client = Client::builder()
        .cookie_provider(Arc::clone(&jar))
        .build()
        .expect("client");
    (client, jar)
}

/// Cookie names the jar would send to `url`, sorted.
pub fn jar_names(jar: &Jar, url: &Url) -> Vec<String> {
    let Some(header) = jar.cookies(url) else {
        return Vec::new();
    };
    let mut names: Vec<String> = header
        .to_str()
        .expect("ascii")
        .split("; ")
        .filter_map(|pair| pair.split_once('=').map(|(n, _)| n.to_owned()))
        .collect();
    names.sort();
    names
}

/// A response's Set-Cookie lines, in order.
pub fn set_cookies(response: &Response) -> Vec<String> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().expect("ascii").to_owned())
        .collect()
}

/// `GET url` with `cookie` as the whole `Cookie` header, past any jar the client has.
pub async fn get_with_cookie(client: &Client, url: Url, cookie: &str) -> Response {
    client
        .get(url)
        .header(COOKIE, cookie)
        .send()
        .await
        .expect("request")
}

/// Sends a `GET` (or, for any other `method`, a `POST`) and returns the status, the
/// Set-Cookie lines and the body.
pub async fn text(client: &Client, method: &str, url: Url) -> (StatusCode, Vec<String>, String) {
    let request = match method {
        "GET" => client.get(url),
        _ => client.post(url),
    };
    let response = request.send().await.expect("request");
    let status = response.status();
    let cookies = set_cookies(&response);
    let body = response.text().await.expect("body");
    (status, cookies, body)
}

/// A browser's cookie jar for one host, kept by hand (name → value) so a test can record a copy
/// of it, replay it later, and look at the cookies themselves.
#[derive(Clone, Default, Debug)]
pub struct CookieJar(pub std::collections::BTreeMap<String, String>);

impl CookieJar {
    /// The `Cookie` header a browser would send.
    pub fn header(&self) -> String {
        self.0
            .iter()
            .map(|(n, v)| format!("{n}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// Changes one character in the middle of cookie `name`'s value (an `A` to a `B`, anything
    /// else to an `A`): a tampered cookie that still parses. Panics if there is no such cookie.
    pub fn tamper(&mut self, name: &str) {
        let value = self
            .0
            .get_mut(name)
            .unwrap_or_else(|| panic!("no cookie {name:?} to tamper with"));
        let middle = value.len() / 2;
        let flipped = if &value[middle..=middle] == "A" {
            "B"
        } else {
            "A"
        };
        value.replace_range(middle..=middle, flipped);
    }

    /// Takes a response's Set-Cookie lines as a browser does: a `Max-Age=0` line removes the
    /// cookie, any other sets it.
    pub fn apply(&mut self, lines: &[String]) {
        for line in lines {
            let pair = line.split(';').next().unwrap_or_default();
            let Some((name, value)) = pair.split_once('=') else {
                continue;
            };
            if line.contains("Max-Age=0") {
                self.0.remove(name);
            } else {
                self.0.insert(name.to_owned(), value.to_owned());
            }
        }
    }
}
