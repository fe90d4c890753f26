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
use bytes::Bytes;
use smallvec::SmallVec;

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
    headers.into_iter().flat_map(Pairs)
}

/// The pairs of one `Cookie` header value.
struct Pairs<'a>(&'a [u8]);

impl<'a> Iterator for Pairs<'a> {
    type Item = (&'a [u8], &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        while !self.0.is_empty() {
            let (pair, rest) = match find(self.0, b';') {
                Some(end) => (&self.0[..end], &self.0[end + 1..]),
                None => (self.0, &[][..]),
            };
            self.0 = rest;
            if let Some(eq) = find(pair, b'=') {
                return Some((trim(&pair[..eq]), trim(&pair[eq + 1..])));
            }
        }
        None
    }
}

/// The index of the first `byte` in `haystack`, eight bytes at a time: a session cookie's value
/// is hundreds of characters without a `;`, and scanning it byte by byte was the largest part
/// of reading a `Cookie` header.
fn find(haystack: &[u8], byte: u8) -> Option<usize> {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    let pattern = ONES * u64::from(byte);
    let mut words = haystack.chunks_exact(8);
    let mut offset = 0;
    for word in &mut words {
        let word = u64::from_le_bytes(word.try_into().expect("8 bytes")) ^ pattern;
        // A high bit for each zero byte of `word` (a byte equal to `byte`); a borrow can only
        // mark bytes above a zero one, so the lowest mark is the first match.
        let zeros = word.wrapping_sub(ONES) & !word & HIGHS;
        if zeros != 0 {
            return Some(offset + zeros.trailing_zeros() as usize / 8);
        }
        offset += 8;
    }
    let tail = words.remainder();
    tail.iter().position(|&b| b == byte).map(|i| offset + i)
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

/// One Set-Cookie header value, as bytes: the core knows no HTTP crate, so each framework's
/// adapter makes its own header value of it (for the `http` crate,
/// `HeaderValue::from_maybe_shared`, without a copy). Cheap to clone: the removal lines are
/// shared, not copied, per response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SetCookie(Bytes);

/// A response's Set-Cookie lines: inline up to two (a one-cookie session and the removal of
/// the name above it, the default), on the heap beyond.
pub(crate) type Lines = SmallVec<[SetCookie; 2]>;

/// Appends `more` to `lines`: nothing to do most of the time, and a push or two otherwise,
/// cheaper than `SmallVec`'s general `extend`.
pub(crate) fn append(lines: &mut Lines, more: Lines) {
    if more.is_empty() {
        return;
    }
    for line in more {
        lines.push(line);
    }
}

impl SetCookie {
    /// A line built here: names and attributes were checked when the chunker was built, values
    /// are base64url.
    fn built(line: Vec<u8>) -> Self {
        SetCookie(Bytes::from(line))
    }

    /// The line's bytes, for the adapter.
    pub(crate) fn into_bytes(self) -> Bytes {
        self.0
    }

    /// The line as text. Every line built here is ASCII, so this is a copy after `from_utf8`'s
    /// ASCII fast path (`from_utf8_lossy` walks the line in UTF-8 chunks: 490 instructions
    /// for a removal line, 3 % of a codec round trip).
    pub(crate) fn to_text(&self) -> String {
        match std::str::from_utf8(&self.0) {
            Ok(text) => text.to_owned(),
            Err(_) => String::from_utf8_lossy(&self.0).into_owned(),
        }
    }
}

/// What a header value may hold: visible ASCII, spaces and tabs (RFC 9110 field-value, without
/// the obsolete non-ASCII bytes).
fn is_header_value(line: &[u8]) -> bool {
    line.iter()
        .all(|&b| b == b'\t' || (b' '..=b'~').contains(&b))
}

/// The cookie names, attributes and sizes of one cookie configuration, rendered once.
#[derive(Debug)]
pub(crate) struct Chunker {
    names: Vec<String>,
    attributes: String,
    /// One `name=; Max-Age=0; …` line per chunk name, as shareable header values: appending
    /// them per response is a reference-count increment, not a copy.
    removals: Vec<SetCookie>,
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
                if is_header_value(line.as_bytes()) {
                    Ok(SetCookie::built(line.into_bytes()))
                } else {
                    Err(ConfigError::InvalidAttribute {
                        attribute: "Set-Cookie",
                        value: line,
                    })
                }
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

    /// Splits a sealed envelope into Set-Cookie lines for chunks `0..count`, appended to
    /// `lines`.
    pub(crate) fn split_into(&self, envelope: &[u8], count: u8, lines: &mut Vec<String>) {
        self.each_line(envelope, count, |line| {
            // Names and attributes are validated ASCII and values base64url.
            lines.push(String::from_utf8(line).expect("Set-Cookie lines are ASCII"));
        });
    }

    /// The Set-Cookie lines of chunks `0..count`, then the removals of the names above them.
    pub(crate) fn lines(&self, envelope: &[u8], count: u8) -> Lines {
        let removals = self.removals_from(count);
        let mut lines = Lines::with_capacity(usize::from(count) + removals.len());
        self.each_line(envelope, count, |line| lines.push(SetCookie::built(line)));
        // Pushed one by one: `SmallVec`'s `extend` costs more than the one or two pushes.
        for removal in removals {
            lines.push(removal.clone());
        }
        lines
    }

    /// Builds the line of each chunk `0..count`, each in one allocation of its exact size.
    fn each_line(&self, envelope: &[u8], count: u8, mut emit: impl FnMut(Vec<u8>)) {
        let raw_per_cookie = self.capacity / 4 * 3;
        for (name, raw) in self
            .names
            .iter()
            .take(usize::from(count))
            .zip(envelope.chunks(raw_per_cookie))
        {
            let value_len = base64_len(raw.len());
            let mut line = Vec::with_capacity(name.len() + 1 + value_len + self.attributes.len());
            line.extend_from_slice(name.as_bytes());
            line.push(b'=');
            let start = line.len();
            line.resize(start + value_len, 0);
            let written = URL_SAFE_NO_PAD
                .encode_slice(raw, &mut line[start..])
                .expect("sized for the value");
            debug_assert_eq!(written, value_len);
            line.extend_from_slice(self.attributes.as_bytes());
            debug_assert!(line.len() <= self.max_line);
            emit(line);
        }
    }

    /// Removal lines for every chunk name from `from` on: a write of `from` chunks expires the
    /// names above it, so a stale chunk of an earlier, larger write cannot linger.
    pub(crate) fn removals_from(&self, from: u8) -> &[SetCookie] {
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
        let mut len = 0;
        for (i, chunk) in chunks.iter().enumerate() {
            let last = i + 1 == chunks.len();
            if chunk.is_empty() || (!last && chunk.len() % 4 != 0) || chunk.len() % 4 == 1 {
                return Err(OpenError::Malformed);
            }
            len += chunk.len() / 4 * 3 + (chunk.len() % 4).saturating_sub(1);
        }
        // The exact size, once: no growth, and no byte past the envelope to clear.
        out.clear();
        out.resize(len, 0);
        let mut at = 0;
        for chunk in chunks {
            at += URL_SAFE_NO_PAD
                .decode_slice(chunk, &mut out[at..])
                .map_err(|_| OpenError::Malformed)?;
        }
        debug_assert_eq!(at, len);
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
    fn finds_bytes_as_a_plain_scan_does() {
        let text: Vec<u8> = (0..200u32)
            .map(|i| b"ab;=c"[(i * 7 % 5) as usize])
            .collect();
        for start in 0..text.len() {
            for end in start..text.len().min(start + 40) {
                let hay = &text[start..end];
                for byte in [b';', b'=', b'x'] {
                    assert_eq!(find(hay, byte), hay.iter().position(|&b| b == byte));
                }
            }
        }
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
