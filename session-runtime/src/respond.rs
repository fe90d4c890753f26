//! What a response becomes once its session work is finished, decided on bytes: the status and
//! headers of a response whose save or logout failed, the Set-Cookie lines, and the cache
//! headers of a response that sets session cookies. Framework-free, so every adapter (tower and
//! axum on `http` 1, actix-web on `http` 0.2) applies the same decisions; an adapter only reads
//! its header map's values as bytes and writes the values returned here.

use crate::lifecycle::Finished;

/// The status of a response whose session could not be saved, or whose logout the store did
/// not confirm: `503 Service Unavailable`.
pub(crate) const FAILED_STATUS: u16 = 503;

/// The headers a failed response loses with its body (lowercase names): the handler's body is
/// not sent, so neither is what described it.
pub(crate) const FAILED_DROPS: [&str; 2] = ["content-length", "content-type"];

/// `Cache-Control` of a response that sets session cookies, unless it already forbids storing.
pub(crate) const PRIVATE: &str = "private, no-store";

/// `Vary` of a response that sets session cookies, unless it already varies on `Cookie`.
pub(crate) const VARY_COOKIE: &str = "Cookie";

/// The cache headers a response needs once its session work is `finished` (`cache_control`
/// and `vary`: the values the response already has): a `Cache-Control` value to put in place of
/// its own, and a `Vary` value to append. A response that sets session cookies must not be
/// stored by a shared cache and replayed to another user; one that sets none needs neither.
pub(crate) fn cache_headers<'a, 'b>(
    finished: &Finished,
    cache_control: impl Iterator<Item = &'a [u8]>,
    vary: impl Iterator<Item = &'b [u8]>,
) -> (Option<&'static str>, Option<&'static str>) {
    if finished.lines.is_empty() {
        return (None, None);
    }
    (self::cache_control(cache_control), self::vary(vary))
}

/// The `Cache-Control` value to put in place of the response's own (`present`: its values),
/// or `None` when they already say `private` or `no-store`.
fn cache_control<'a>(mut present: impl Iterator<Item = &'a [u8]>) -> Option<&'static str> {
    let already = present.any(|v| {
        let v = v.to_ascii_lowercase();
        v.windows(8).any(|w| w == b"no-store") || v.windows(7).any(|w| w == b"private")
    });
    (!already).then_some(PRIVATE)
}

/// The `Vary` value to append to the response's own (`present`), or `None` when they already
/// vary on `Cookie` (or on everything, `*`).
fn vary<'a>(mut present: impl Iterator<Item = &'a [u8]>) -> Option<&'static str> {
    let varies = present.any(|v| {
        v.split(|&b| b == b',').any(|t| {
            let t = t.trim_ascii();
            t.eq_ignore_ascii_case(b"cookie") || t == b"*"
        })
    });
    (!varies).then_some(VARY_COOKIE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_control_keeps_what_already_forbids_storing() {
        assert_eq!(cache_control([].into_iter()), Some(PRIVATE));
        assert_eq!(
            cache_control([&b"public, max-age=60"[..]].into_iter()),
            Some(PRIVATE)
        );
        assert_eq!(cache_control([&b"No-Store"[..]].into_iter()), None);
        assert_eq!(
            cache_control([&b"max-age=0"[..], b"private"].into_iter()),
            None
        );
    }

    #[test]
    fn vary_appends_cookie_once() {
        assert_eq!(vary([].into_iter()), Some(VARY_COOKIE));
        assert_eq!(
            vary([&b"Accept-Encoding"[..]].into_iter()),
            Some(VARY_COOKIE)
        );
        assert_eq!(vary([&b"accept-encoding, cookie"[..]].into_iter()), None);
        assert_eq!(vary([&b" * "[..]].into_iter()), None);
    }
}
