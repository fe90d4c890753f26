//! Spreading one sealed value over the cookies `name`, `name.1`, … `name.(n-1)`, and gathering
//! it back from a request's `Cookie` headers.
//!
//! The chunk count is read from the authenticated envelope prefix in the first cookie, never by
//! scanning names; a missing, repeated or surplus chunk means there is no valid session.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::config::MAX_CHUNKS;
use crate::error::OpenError;

/// The cookie name of chunk `index`: `name` for 0, `name.{index}` after.
pub fn chunk_name(name: &str, index: u8) -> String {
    if index == 0 {
        name.to_owned()
    } else {
        format!("{name}.{index}")
    }
}

/// Iterates the `name=value` pairs of `Cookie` header values, in order, skipping malformed
/// pairs. Whitespace around pairs is trimmed; values are not unquoted (sealed values never
/// carry quotes, so a quoted one fails to decode).
pub fn cookie_pairs<'a>(
    headers: impl IntoIterator<Item = &'a str>,
) -> impl Iterator<Item = (&'a str, &'a str)> {
    headers
        .into_iter()
        .flat_map(|h| h.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .map(|(n, v)| (n.trim(), v.trim()))
}

/// The chunks of one session, in order, as sent by the browser.
#[derive(Debug, PartialEq, Eq)]
pub struct Gathered<'a> {
    /// The chunk values, first cookie first.
    pub chunks: Vec<&'a str>,
    /// The chunk count the first cookie announces.
    pub count: u8,
}

/// Finds the session's chunks among a request's cookies.
///
/// `Ok(None)` means there is no session cookie at all. Anything other than the first cookie and
/// exactly the chunks it announces, each once, is an error.
pub fn gather<'a>(
    pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    name: &str,
    max_chunks: u8,
) -> Result<Option<Gathered<'a>>, OpenError> {
    let mut slots: [Option<&'a str>; MAX_CHUNKS as usize] = [None; MAX_CHUNKS as usize];
    let mut beyond: Option<&'a str> = None;
    for (cookie, value) in pairs {
        let Some(index) = chunk_index(cookie, name) else {
            continue;
        };
        if index >= usize::from(max_chunks) {
            beyond.get_or_insert(cookie);
            continue;
        }
        if slots[index].replace(value).is_some() {
            return Err(OpenError::DuplicateChunk {
                name: cookie.to_owned(),
            });
        }
    }
    let Some(first) = slots[0] else {
        let any_chunk = slots.iter().any(Option::is_some) || beyond.is_some();
        return if any_chunk {
            Err(OpenError::MissingFirst)
        } else {
            Ok(None)
        };
    };
    let count = announced_count(first)?;
    if count == 0 {
        return Err(OpenError::Malformed);
    }
    if count > max_chunks {
        return Err(OpenError::TooManyChunks {
            count,
            max: max_chunks,
        });
    }
    if let Some(surplus) = beyond {
        return Err(OpenError::SurplusChunk {
            name: surplus.to_owned(),
            count,
        });
    }
    let mut chunks = Vec::with_capacity(usize::from(count));
    for (index, slot) in slots.iter().enumerate().take(usize::from(max_chunks)) {
        match (*slot, index < usize::from(count)) {
            (Some(value), true) => chunks.push(value),
            (None, true) => {
                return Err(OpenError::MissingChunk {
                    index: index as u8,
                    count,
                });
            }
            (Some(_), false) => {
                return Err(OpenError::SurplusChunk {
                    name: chunk_name(name, index as u8),
                    count,
                });
            }
            (None, false) => {}
        }
    }
    Ok(Some(Gathered { chunks, count }))
}

/// Decodes gathered chunks into one envelope buffer.
///
/// Every chunk but the last must be a whole number of base64 quanta (a multiple of 4
/// characters), as this crate writes them, so each decodes on its own.
pub fn decode_into(gathered: &Gathered<'_>, out: &mut Vec<u8>) -> Result<(), OpenError> {
    out.clear();
    // One allocation up front instead of growing chunk by chunk.
    out.reserve(gathered.chunks.iter().map(|c| c.len() / 4 * 3 + 2).sum());
    let last = gathered.chunks.len() - 1;
    for (i, chunk) in gathered.chunks.iter().enumerate() {
        if chunk.is_empty() || (i < last && chunk.len() % 4 != 0) {
            return Err(OpenError::Malformed);
        }
        URL_SAFE_NO_PAD
            .decode_vec(chunk, out)
            .map_err(|_| OpenError::Malformed)?;
    }
    Ok(())
}

/// The index a cookie name has as a chunk of `name`: 0 for `name`, k for `name.k` (k ≥ 1
/// written without leading zeros), `None` for other cookies.
fn chunk_index(cookie: &str, name: &str) -> Option<usize> {
    let rest = cookie.strip_prefix(name)?;
    if rest.is_empty() {
        return Some(0);
    }
    let digits = rest.strip_prefix('.')?;
    if digits.is_empty()
        || digits.len() > 3
        || digits.starts_with('0')
        || !digits.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    digits.parse().ok()
}

/// The chunk count in the envelope prefix: the third byte, which the first four base64
/// characters encode.
fn announced_count(first: &str) -> Result<u8, OpenError> {
    let head = first.get(..4).ok_or(OpenError::Malformed)?;
    let mut prefix = [0u8; 3];
    URL_SAFE_NO_PAD
        .decode_slice(head, &mut prefix)
        .map_err(|_| OpenError::Malformed)?;
    Ok(prefix[2])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn first_with_count(count: u8) -> String {
        URL_SAFE_NO_PAD.encode([1, 7, count]) + "AAAA"
    }

    #[test]
    fn names_and_indices() {
        assert_eq!(chunk_name("s", 0), "s");
        assert_eq!(chunk_name("s", 3), "s.3");
        assert_eq!(chunk_index("s", "s"), Some(0));
        assert_eq!(chunk_index("s.2", "s"), Some(2));
        assert_eq!(chunk_index("s.02", "s"), None);
        assert_eq!(chunk_index("s.0", "s"), None);
        assert_eq!(chunk_index("sx", "s"), None);
        assert_eq!(chunk_index("s.x", "s"), None);
    }

    #[test]
    fn parses_cookie_headers() {
        let pairs: Vec<_> = cookie_pairs(["a=1; b = 2;;c", "d=4"]).collect();
        assert_eq!(pairs, vec![("a", "1"), ("b", "2"), ("d", "4")]);
    }

    #[test]
    fn gathers_in_order_ignoring_others() {
        let first = first_with_count(3);
        let pairs = vec![
            ("s.2", "CC"),
            ("theme", "dark"),
            ("s", first.as_str()),
            ("s.1", "BBBB"),
        ];
        let got = gather(pairs, "s", 4).expect("ok").expect("some");
        assert_eq!(got.count, 3);
        assert_eq!(got.chunks, vec![first.as_str(), "BBBB", "CC"]);
    }

    #[test]
    fn refuses_bad_sets() {
        let first = first_with_count(2);
        let f = first.as_str();
        assert_eq!(gather(vec![("theme", "dark")], "s", 2), Ok(None));
        assert_eq!(
            gather(vec![("s", f)], "s", 2),
            Err(OpenError::MissingChunk { index: 1, count: 2 })
        );
        assert_eq!(
            gather(vec![("s", f), ("s.1", "x"), ("s.1", "y")], "s", 2),
            Err(OpenError::DuplicateChunk { name: "s.1".into() })
        );
        assert_eq!(
            gather(vec![("s", f), ("s.1", "x"), ("s.2", "y")], "s", 2),
            Err(OpenError::SurplusChunk {
                name: "s.2".into(),
                count: 2
            })
        );
        let one = first_with_count(1);
        assert_eq!(
            gather(vec![("s", one.as_str()), ("s.1", "x")], "s", 3),
            Err(OpenError::SurplusChunk {
                name: "s.1".into(),
                count: 1
            })
        );
        assert_eq!(
            gather(vec![("s.1", "x")], "s", 2),
            Err(OpenError::MissingFirst)
        );
        let many = first_with_count(9);
        assert_eq!(
            gather(vec![("s", many.as_str())], "s", 2),
            Err(OpenError::TooManyChunks { count: 9, max: 2 })
        );
        assert_eq!(gather(vec![("s", "ab")], "s", 2), Err(OpenError::Malformed));
    }
}
