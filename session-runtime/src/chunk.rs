//! Cookie text, both ways: the only code that reads a `Cookie` header or writes a `Set-Cookie`
//! line. One sealed value is spread over the cookies `name`, `name.1`, … `name.(n-1)` and
//! gathered back from a request.
//!
//! The chunk count is read from the authenticated envelope prefix in the first cookie, never by
//! scanning names; a missing, repeated or surplus chunk means there is no valid session.
//!
//! A `Cookie` header is read as bytes: other applications' cookies may hold any byte (a
//! `pref=café` planted by a sibling page must not hide the session), and only this crate's own
//! values must be base64url.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::HeaderValue;

use crate::config::{Config, ConfigError, MAX_CHUNKS, MAX_SET_COOKIE_LEN};
use crate::envelope::{PREFIX_LEN, Prefix, base64_len};
use crate::error::OpenError;

/// Iterates the `name=value` pairs of `Cookie` header values, in order, skipping pairs without
/// `=`. Spaces and tabs around names and values are trimmed; values are not unquoted (sealed
/// values never carry quotes, so a quoted one fails to decode).
pub(crate) fn cookie_pairs<'a, I>(headers: I) -> impl Iterator<Item = (&'a [u8], &'a [u8])>
where
    I: IntoIterator<Item = &'a [u8]>,
{
    headers
        .into_iter()
        .flat_map(|h| h.split(|&b| b == b';'))
        .filter_map(|pair| {
            let eq = pair.iter().position(|&b| b == b'=')?;
            Some((trim(&pair[..eq]), trim(&pair[eq + 1..])))
        })
}

fn trim(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = s {
        s = rest;
    }
    s
}

/// The cookie name of chunk `index`: `name` for 0, `name.{index}` after.
fn chunk_name(name: &str, index: u8) -> String {
    if index == 0 {
        name.to_owned()
    } else {
        format!("{name}.{index}")
    }
}

/// The cookie names, attributes and sizes of one cookie configuration, rendered once.
#[derive(Debug)]
pub(crate) struct Chunker {
    names: Vec<String>,
    attributes: String,
    /// One `name=; Max-Age=0; …` line per chunk name, as shareable header values: appending
    /// them per response is a reference-count increment, not a copy.
    removals: Vec<HeaderValue>,
    /// Cookie-value characters per cookie, a multiple of 4.
    capacity: usize,
    max_line: usize,
}

impl Chunker {
    pub(crate) fn new(config: &Config) -> Result<Self, ConfigError> {
        let names: Vec<String> = (0..config.max_cookies)
            .map(|i| chunk_name(&config.name, i))
            .collect();
        let attributes = config.render_attributes(false);
        let removal_attributes = config.render_attributes(true);
        let removals = names
            .iter()
            .map(|n| {
                let line = format!("{n}={removal_attributes}");
                HeaderValue::try_from(line.clone()).map_err(|_| ConfigError::InvalidAttribute {
                    attribute: "Set-Cookie",
                    value: line,
                })
            })
            .collect::<Result<_, _>>()?;
        let longest_name = names.last().map_or(0, String::len);
        let used = longest_name + 1 + attributes.len();
        let capacity = config.max_cookie_len.saturating_sub(used) / 4 * 4;
        if capacity < 64 {
            return Err(ConfigError::NoRoom {
                used,
                limit: config.max_cookie_len,
            });
        }
        Ok(Chunker {
            names,
            attributes,
            removals,
            capacity,
            max_line: config.max_cookie_len,
        })
    }

    /// The first cookie's name.
    pub(crate) fn name(&self) -> &str {
        &self.names[0]
    }

    pub(crate) fn max_cookies(&self) -> u8 {
        self.names.len() as u8
    }

    /// Cookie-value characters all configured cookies carry together.
    pub(crate) fn capacity_total(&self) -> usize {
        self.capacity * self.names.len()
    }

    /// How many cookies a sealed value of `value_len` characters needs.
    pub(crate) fn count_for(&self, value_len: usize) -> u8 {
        value_len
            .div_ceil(self.capacity)
            .min(usize::from(MAX_CHUNKS)) as u8
    }

    /// A gatherer for one request: offer it every cookie pair, then [`Gatherer::finish`].
    pub(crate) fn gatherer<'a>(&'a self) -> Gatherer<'a, 'a> {
        Gatherer {
            chunker: self,
            slots: [None; MAX_CHUNKS as usize],
            beyond: None,
            duplicate: None,
        }
    }

    /// Splits a sealed envelope into Set-Cookie lines for chunks `0..count`.
    pub(crate) fn split(&self, envelope: &[u8], count: u8) -> Vec<String> {
        let raw_per_cookie = self.capacity / 4 * 3;
        self.names
            .iter()
            .take(usize::from(count))
            .zip(envelope.chunks(raw_per_cookie))
            .map(|(name, raw)| {
                let mut line = String::with_capacity(
                    name.len() + 1 + base64_len(raw.len()) + self.attributes.len(),
                );
                line.push_str(name);
                line.push('=');
                URL_SAFE_NO_PAD.encode_string(raw, &mut line);
                line.push_str(&self.attributes);
                debug_assert!(line.len() <= self.max_line);
                line
            })
            .collect()
    }

    /// Removal lines for every chunk name from `from` on: a write of `from` chunks expires the
    /// names above it, so a stale chunk of an earlier, larger write cannot linger.
    pub(crate) fn removals_from(&self, from: u8) -> &[HeaderValue] {
        self.removals.get(usize::from(from)..).unwrap_or(&[])
    }
}

/// The chunks of one session, in order, as sent by the browser.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Gathered<'a> {
    chunks: [&'a [u8]; MAX_CHUNKS as usize],
    /// The prefix the first cookie announces (its chunk count is how many chunks there are).
    pub(crate) prefix: Prefix,
}

impl Gathered<'_> {
    pub(crate) fn count(&self) -> u8 {
        self.prefix.chunk_count
    }

    /// Decodes the chunks into one envelope buffer.
    ///
    /// Every chunk but the last must be a whole number of base64 quanta (a multiple of 4
    /// characters), as this crate writes them, so each decodes on its own.
    pub(crate) fn decode_into(&self, out: &mut Vec<u8>) -> Result<(), OpenError> {
        let chunks = &self.chunks[..usize::from(self.count())];
        out.clear();
        // One allocation up front instead of growing chunk by chunk.
        out.reserve(chunks.iter().map(|c| c.len() / 4 * 3 + 2).sum());
        for (i, chunk) in chunks.iter().enumerate() {
            if chunk.is_empty() || (i + 1 < chunks.len() && chunk.len() % 4 != 0) {
                return Err(OpenError::Malformed);
            }
            URL_SAFE_NO_PAD
                .decode_vec(chunk, out)
                .map_err(|_| OpenError::Malformed)?;
        }
        Ok(())
    }
}

/// Collects one session's chunks from a request's cookie pairs, in one pass.
#[derive(Debug)]
pub(crate) struct Gatherer<'c, 'a> {
    chunker: &'c Chunker,
    slots: [Option<&'a [u8]>; MAX_CHUNKS as usize],
    /// The first chunk name at or above the configured maximum.
    beyond: Option<&'a [u8]>,
    duplicate: Option<&'a [u8]>,
}

impl<'a> Gatherer<'_, 'a> {
    /// Looks at one cookie pair; other cookies are ignored.
    pub(crate) fn offer(&mut self, name: &'a [u8], value: &'a [u8]) {
        let Some(index) = chunk_index(name, self.chunker.name().as_bytes()) else {
            return;
        };
        let max = self.chunker.names.len();
        if index >= max {
            self.beyond.get_or_insert(name);
            return;
        }
        if self.slots[index].replace(value).is_some() {
            self.duplicate.get_or_insert(name);
        }
    }

    /// The session's chunks. `Ok(None)`: no session cookie at all. Anything other than the
    /// first cookie and exactly the chunks it announces, each once and no longer than this
    /// crate writes them, is an error.
    pub(crate) fn finish(self) -> Result<Option<Gathered<'a>>, OpenError> {
        if let Some(name) = self.duplicate {
            return Err(OpenError::DuplicateChunk {
                name: String::from_utf8_lossy(name).into_owned(),
            });
        }
        let max = self.chunker.max_cookies();
        let Some(first) = self.slots[0] else {
            let any_chunk = self.slots.iter().any(Option::is_some) || self.beyond.is_some();
            return if any_chunk {
                Err(OpenError::MissingFirst)
            } else {
                Ok(None)
            };
        };
        let prefix = announced_prefix(first)?;
        let count = prefix.chunk_count;
        if count == 0 {
            return Err(OpenError::Malformed);
        }
        if count > max {
            return Err(OpenError::TooManyChunks { count, max });
        }
        if let Some(surplus) = self.beyond {
            return Err(OpenError::SurplusChunk {
                name: String::from_utf8_lossy(surplus).into_owned(),
                count,
            });
        }
        let mut chunks: [&[u8]; MAX_CHUNKS as usize] = [&[]; MAX_CHUNKS as usize];
        for (index, slot) in self.slots.iter().enumerate().take(usize::from(max)) {
            let index8 = index as u8;
            match (*slot, index8 < count) {
                // Longer than any chunk this crate writes under any settings: refused before
                // decoding it. (Not this configuration's capacity: a Domain added since the
                // cookie was written shrinks that, and must not log everyone out.)
                (Some(value), true) if value.len() > MAX_SET_COOKIE_LEN => {
                    return Err(OpenError::Malformed);
                }
                (Some(value), true) => chunks[index] = value,
                (None, true) => {
                    return Err(OpenError::MissingChunk {
                        index: index8,
                        count,
                    });
                }
                (Some(_), false) => {
                    return Err(OpenError::SurplusChunk {
                        name: self.chunker.names[index].clone(),
                        count,
                    });
                }
                (None, false) => {}
            }
        }
        Ok(Some(Gathered { chunks, prefix }))
    }
}

/// The index a cookie name has as a chunk of `name`: 0 for `name`, k for `name.k` (k ≥ 1
/// written without leading zeros, at most three digits), `None` for other cookies.
fn chunk_index(cookie: &[u8], name: &[u8]) -> Option<usize> {
    let rest = cookie.strip_prefix(name)?;
    if rest.is_empty() {
        return Some(0);
    }
    let digits = rest.strip_prefix(b".")?;
    if digits.is_empty()
        || digits.len() > 3
        || digits[0] == b'0'
        || !digits.iter().all(u8::is_ascii_digit)
    {
        return None;
    }
    Some(digits.iter().fold(0, |n, d| n * 10 + usize::from(d - b'0')))
}

/// The envelope prefix, which the first four base64 characters of the first cookie encode.
fn announced_prefix(first: &[u8]) -> Result<Prefix, OpenError> {
    let head = first.get(..4).ok_or(OpenError::Malformed)?;
    let mut prefix = [0u8; PREFIX_LEN];
    URL_SAFE_NO_PAD
        .decode_slice(head, &mut prefix)
        .map_err(|_| OpenError::Malformed)?;
    Ok(Prefix::read(prefix))
}

/// The `Cookie` header a browser sends back for Set-Cookie `lines`: their `name=value` pairs
/// joined with `; ` (removal lines, with empty values, left out).
pub(crate) fn cookie_header<'a>(lines: impl IntoIterator<Item = &'a str>) -> String {
    lines
        .into_iter()
        .filter_map(|line| {
            let pair = line.split(';').next()?;
            pair.split_once('=')
                .filter(|(_, v)| !v.is_empty())
                .map(|_| pair)
        })
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunker(max: u8) -> Chunker {
        Chunker::new(&Config {
            max_cookies: max,
            ..Config::new("s")
        })
        .expect("config")
    }

    fn first_with_count(count: u8) -> String {
        URL_SAFE_NO_PAD.encode([1, 7, count]) + "AAAA"
    }

    fn gather<'a>(c: &Chunker, pairs: &[(&'a str, &'a str)]) -> Result<u8, OpenError> {
        let mut g = c.gatherer();
        for (n, v) in pairs {
            g.offer(n.as_bytes(), v.as_bytes());
        }
        g.finish().map(|got| got.map_or(0, |g| g.count()))
    }

    #[test]
    fn names_and_indices() {
        assert_eq!(chunk_name("s", 0), "s");
        assert_eq!(chunk_name("s", 3), "s.3");
        assert_eq!(chunk_index(b"s", b"s"), Some(0));
        assert_eq!(chunk_index(b"s.2", b"s"), Some(2));
        assert_eq!(chunk_index(b"s.999", b"s"), Some(999));
        assert_eq!(chunk_index(b"s.02", b"s"), None);
        assert_eq!(chunk_index(b"s.0", b"s"), None);
        assert_eq!(chunk_index(b"sx", b"s"), None);
        assert_eq!(chunk_index(b"s.x", b"s"), None);
        assert_eq!(chunk_index(b"s.1000", b"s"), None);
    }

    #[test]
    fn parses_cookie_headers_as_bytes() {
        let a: &[u8] = b"a=1; b = 2;;c";
        let b: &[u8] = "d=4; pref=caf\u{e9}".as_bytes();
        let pairs: Vec<_> = cookie_pairs([a, b]).collect();
        assert_eq!(
            pairs,
            vec![
                (&b"a"[..], &b"1"[..]),
                (b"b", b"2"),
                (b"d", b"4"),
                (b"pref", "caf\u{e9}".as_bytes())
            ]
        );
    }

    #[test]
    fn gathers_in_order_ignoring_others() {
        let first = first_with_count(3);
        let c = chunker(4);
        let mut g = c.gatherer();
        for (n, v) in [
            ("s.2", "CC"),
            ("theme", "dark"),
            ("s", first.as_str()),
            ("s.1", "BBBB"),
        ] {
            g.offer(n.as_bytes(), v.as_bytes());
        }
        let got = g.finish().expect("ok").expect("some");
        assert_eq!(got.count(), 3);
        assert_eq!(&got.chunks[..3], &[first.as_bytes(), b"BBBB", b"CC"]);
    }

    #[test]
    fn refuses_bad_sets() {
        let first = first_with_count(2);
        let f = first.as_str();
        let c = chunker(2);
        assert_eq!(gather(&c, &[("theme", "dark")]), Ok(0));
        assert_eq!(
            gather(&c, &[("s", f)]),
            Err(OpenError::MissingChunk { index: 1, count: 2 })
        );
        assert_eq!(
            gather(&c, &[("s", f), ("s.1", "x"), ("s.1", "y")]),
            Err(OpenError::DuplicateChunk { name: "s.1".into() })
        );
        assert_eq!(
            gather(&c, &[("s", f), ("s.1", "x"), ("s.2", "y")]),
            Err(OpenError::SurplusChunk {
                name: "s.2".into(),
                count: 2
            })
        );
        let one = first_with_count(1);
        assert_eq!(
            gather(&chunker(3), &[("s", one.as_str()), ("s.1", "x")]),
            Err(OpenError::SurplusChunk {
                name: "s.1".into(),
                count: 1
            })
        );
        assert_eq!(gather(&c, &[("s.1", "x")]), Err(OpenError::MissingFirst));
        let many = first_with_count(9);
        assert_eq!(
            gather(&c, &[("s", many.as_str())]),
            Err(OpenError::TooManyChunks { count: 9, max: 2 })
        );
        assert_eq!(gather(&c, &[("s", "ab")]), Err(OpenError::Malformed));
    }

    #[test]
    fn huge_indices_and_over_long_chunks_are_refused_without_panicking() {
        let c = chunker(16);
        let one = first_with_count(1);
        assert!(matches!(
            gather(&c, &[("s", one.as_str()), ("s.20", "x")]),
            Err(OpenError::SurplusChunk { .. })
        ));
        let long = first_with_count(1) + &"A".repeat(300 * 1024);
        let fits_any_setting = first_with_count(1) + &"A".repeat(MAX_SET_COOKIE_LEN - 8);
        assert_eq!(gather(&c, &[("s", fits_any_setting.as_str())]), Ok(1));
        assert_eq!(
            gather(&c, &[("s", long.as_str())]),
            Err(OpenError::Malformed)
        );
    }
}
