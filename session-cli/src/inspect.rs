//! `inspect`: what a sealed session says about itself.
//!
//! The session is opened through the runtime's own codec (so authentication, chunk checks and
//! the key set are exactly the middleware's), with a schema that takes any payload, and with no
//! timeouts: an expired session is still shown, with its age.

use std::fmt::Write as _;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use session_runtime::{Clock, Codec, Keys, OpenError, Opened, SessionLayer};

use crate::args::InspectOptions;
use crate::payload::AnyPayload;
use crate::time::{relative, rfc3339};
use crate::{Failure, Outcome, Schema};

/// The most chunks the format allows.
const MAX_CHUNKS: u8 = 16;

/// A codec that opens what any configuration of the cookie `name` wrote in `chunks` cookies.
///
/// The codec refuses a chunk longer than it would write itself, and how long that is depends
/// on the settings (the longest chunk name and the attributes share each cookie with the value).
/// So the tool takes the fewest chunk names the cookie needs and the shortest attributes a
/// writer could have had: its chunks are then at least as long as any writer's.
fn opening_codec(keys: &Keys, name: &str, chunks: u8) -> Result<Codec, Failure> {
    // Browsers refuse these prefixes without Secure, so every writer sent it.
    let prefixed = ["__host-", "__secure-"].iter().any(|p| {
        name.get(..p.len())
            .is_some_and(|n| n.eq_ignore_ascii_case(p))
    });
    SessionLayer::<AnyPayload>::builder(keys.clone())
        .with_cookie_name(name)
        .with_max_cookies(chunks)
        .with_secure(prefixed)
        .with_http_only(false)
        .with_idle_timeout(None)
        .with_absolute_timeout(None)
        .build_codec()
        .map_err(|e| Failure::Usage(e.to_string()))
}

pub(crate) fn inspect(
    keys: &Keys,
    options: &InspectOptions,
    header: &str,
    schema: Option<&Schema>,
) -> Outcome {
    let prefix = Prefix::read(header, &options.name);
    let chunks = prefix.map_or(MAX_CHUNKS, |p| p.chunks.clamp(1, MAX_CHUNKS));
    let codec = opening_codec(keys, &options.name, chunks)?;
    // Opened at the end of time: no sealed timestamp is "in the future", none expires.
    let opened = match codec.open::<AnyPayload>(header, u32::MAX) {
        Ok(Some(opened)) => opened,
        Ok(None) => {
            return Err(Failure::NotOpened {
                shown: String::new(),
                reason: no_cookie(header, &options.name),
            });
        }
        Err(err) => {
            return Err(Failure::NotOpened {
                shown: prefix.map(|p| p.show(keys)).unwrap_or_default(),
                reason: format!(
                    "the session did not open: {err}{}",
                    hint(&err, keys, options)
                ),
            });
        }
    };
    let mut out = show_header(&opened, prefix, keys, options, schema);
    let Some(schema) = schema else {
        return Ok(out);
    };
    match (schema.open)(&codec, header) {
        Ok(Some(value)) => {
            line(&mut out, "value", &value);
            Ok(out)
        }
        // The same header held a session a moment ago.
        Ok(None) => Err(Failure::NotOpened {
            shown: out,
            reason: "the session vanished between two reads of the same header".into(),
        }),
        Err(err) => Err(Failure::NotOpened {
            shown: out,
            reason: format!(
                "the sealed header opened, but the payload does not open as `{}`: {err}",
                schema.name
            ),
        }),
    }
}

fn show_header(
    opened: &Opened<AnyPayload>,
    prefix: Option<Prefix>,
    keys: &Keys,
    options: &InspectOptions,
    schema: Option<&Schema>,
) -> String {
    let mut out = String::new();
    let chunks = opened.chunks;
    let plural = if chunks == 1 { "" } else { "s" };
    line(
        &mut out,
        "cookie",
        &format!("{}, {chunks} chunk{plural}", options.name),
    );
    if let Some(prefix) = prefix {
        line(&mut out, "format", &prefix.format.to_string());
        let which = if opened.reseal.fallback_key {
            format!("a fallback key ({}_OLD)", options.key_env)
        } else {
            format!("the primary key ({})", options.key_env)
        };
        line(&mut out, "key id", &format!("{}, {which}", prefix.key_id));
    } else {
        line(
            &mut out,
            "key id",
            &format!("primary {}", keys.primary_id()),
        );
    }
    let version = opened.value.version;
    let schema_text = match schema {
        Some(s) if version == s.current => format!("version {version} (`{}`)", s.name),
        Some(s) if version < s.current && version >= s.oldest => format!(
            "version {version} (migrates to `{}` version {})",
            s.name, s.current
        ),
        Some(s) => format!(
            "version {version} (`{}` reads versions {} to {})",
            s.name, s.oldest, s.current
        ),
        None => format!("version {version}"),
    };
    line(&mut out, "schema", &schema_text);
    let id = opened.meta.id.to_hex();
    let id = if options.show_id {
        id
    } else {
        format!("{}… (--show-id shows all of it)", &id[..8])
    };
    line(&mut out, "session id", &id);
    let now = Clock::System.now();
    for (label, at) in [
        ("issued at", opened.meta.issued_at),
        ("last access", opened.meta.last_access),
    ] {
        line(
            &mut out,
            label,
            &format!("{at}  {}  ({})", rfc3339(at), relative(at, now)),
        );
    }
    line(
        &mut out,
        "payload",
        &format!("{} bytes", opened.value.bytes.len()),
    );
    out
}

fn line(out: &mut String, label: &str, value: &str) {
    let _ = writeln!(out, "{label:<12} {value}");
}

/// Why the codec found no session: names the cookies that were there.
fn no_cookie(header: &str, name: &str) -> String {
    let names: Vec<&str> = pairs(header).map(|(n, _)| n).collect();
    if names.is_empty() {
        return "the header holds no cookies".into();
    }
    format!(
        "no cookie named `{name}` in the header (found: {}); pass --name",
        names.join(", ")
    )
}

fn hint(err: &OpenError, keys: &Keys, options: &InspectOptions) -> String {
    match err {
        OpenError::UnknownKey { .. } => format!(
            " (the primary key in {} has id {}; fallbacks are read from {}_OLD)",
            options.key_env,
            keys.primary_id(),
            options.key_env
        ),
        OpenError::Tampered => format!(
            " (or sealed under another key with the same id, or for a cookie name other than `{}`)",
            options.name
        ),
        _ => String::new(),
    }
}

/// The first three envelope bytes, as the first four characters of the first cookie carry
/// them (docs/FORMAT.md). Read before opening, so a cookie that does not open still shows
/// which key and format it claims.
#[derive(Debug, Clone, Copy)]
struct Prefix {
    format: u8,
    key_id: u8,
    chunks: u8,
}

impl Prefix {
    fn read(header: &str, name: &str) -> Option<Prefix> {
        let (_, value) = pairs(header).find(|(n, _)| *n == name)?;
        let bytes = URL_SAFE_NO_PAD.decode(value.get(..4)?).ok()?;
        Some(Prefix {
            format: bytes[0],
            key_id: bytes[1],
            chunks: bytes[2],
        })
    }

    /// The prefix of a cookie that did not open, marked as unauthenticated.
    fn show(self, keys: &Keys) -> String {
        let mut out = String::new();
        line(
            &mut out,
            "unverified",
            "the cookie did not open; it claims:",
        );
        line(&mut out, "format", &self.format.to_string());
        let known = if self.key_id == keys.primary_id() {
            "the primary key's id"
        } else {
            "not the primary key's id"
        };
        line(&mut out, "key id", &format!("{} ({known})", self.key_id));
        line(&mut out, "chunks", &self.chunks.to_string());
        out
    }
}

/// The `name=value` pairs of a cookie header.
fn pairs(header: &str) -> impl Iterator<Item = (&str, &str)> {
    header.split(';').filter_map(|pair| {
        let (name, value) = pair.split_once('=')?;
        Some((name.trim(), value.trim()))
    })
}
