//! `sizes`: worst cases against budgets, and what fits in how many cookies.

use std::fmt::Write as _;

use session_runtime::{Budget, Key, SessionLayer};

use crate::args::SizesOptions;
use crate::payload::AnyPayload;
use crate::{Failure, Outcome, Schema};

/// Bytes the envelope adds to a payload: prefix 3, nonce 12, sealed header 27, tag 16
/// (docs/FORMAT.md, "Sizes"). A test seals real sessions to keep this figure honest.
pub(crate) const ENVELOPE_OVERHEAD: usize = 58;

/// Bytes a subject tag and its generation add to the header when a handler names a subject
/// (`set_subject`): every budget counts them, since any handler may (docs/FORMAT.md).
pub(crate) const SUBJECT_RESERVE: usize = 24;

/// Characters of cookie value a payload of `payload` bytes seals to, without padding or subject.
pub(crate) fn sealed_len(payload: usize) -> usize {
    ((ENVELOPE_OVERHEAD + payload) * 4).div_ceil(3)
}

/// Characters a payload of `payload` bytes may seal to, a subject included: what budgets count.
pub(crate) fn worst_sealed_len(payload: usize) -> usize {
    sealed_len(payload + SUBJECT_RESERVE)
}

/// The largest payload that seals into `chars` characters, a subject included.
fn largest_payload(chars: usize) -> usize {
    (chars * 3 / 4).saturating_sub(ENVELOPE_OVERHEAD + SUBJECT_RESERVE)
}

pub(crate) fn sizes(options: &SizesOptions, schema: Option<&Schema>) -> Outcome {
    let per_cookie = per_cookie_capacity(&options.name, options.max_cookies)?;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "cookie `{}`: {per_cookie} characters of sealed value per cookie (no padding)",
        options.name
    );
    match schema {
        Some(schema) => versions(&mut out, schema, per_cookie, options.max_cookies),
        None => cookies(&mut out, options.max_cookies, per_cookie),
    }
    Ok(out)
}

/// What one cookie carries with this name and maximum (the longest chunk name, `name.(N-1)`,
/// takes its share of every cookie) and the default attributes.
fn per_cookie_capacity(name: &str, max_cookies: u8) -> Result<usize, Failure> {
    // The key only completes the settings; nothing is sealed.
    let codec = SessionLayer::<AnyPayload>::builder(Key::generate())
        .with_cookie_name(name)
        .with_max_cookies(max_cookies)
        .build_codec()
        .map_err(|e| Failure::Usage(e.to_string()))?;
    Ok(codec.capacity_total() / usize::from(max_cookies))
}

fn cookies(out: &mut String, max_cookies: u8, per_cookie: usize) {
    let _ = writeln!(
        out,
        "envelope: {ENVELOPE_OVERHEAD} bytes around the payload, and {SUBJECT_RESERVE} more with a subject (set_subject), which every budget counts; P bytes of payload seal to at most ⌈({} + P) · 4 / 3⌉ characters\n",
        ENVELOPE_OVERHEAD + SUBJECT_RESERVE
    );
    let _ = writeln!(
        out,
        "{:<8} {:<13} largest payload",
        "cookies", "sealed chars"
    );
    for n in 1..=usize::from(max_cookies) {
        let chars = n * per_cookie;
        let _ = writeln!(out, "{n:<8} {chars:<13} {} bytes", largest_payload(chars));
    }
}

fn versions(out: &mut String, schema: &Schema, per_cookie: usize, max_cookies: u8) {
    let _ = writeln!(
        out,
        "schema `{}`: writes version {}, reads versions {}\n",
        schema.name,
        schema.current,
        schema.reads()
    );
    let _ = writeln!(
        out,
        "{:<8} {:<20} {:<14} {:<13} {:<26} {:<6} cookies",
        "version", "type", "worst payload", "worst sealed", "budget", "share"
    );
    for row in &schema.versions {
        let budget = match row.budget {
            Budget::Unbounded => "none".to_owned(),
            Budget::Cookies(n) => format!(
                "{n} cookie{} ({} chars)",
                if n == 1 { "" } else { "s" },
                row.budget.sealed_chars().unwrap_or_default()
            ),
            Budget::Bytes(n) => format!("{n} chars"),
        };
        let (payload, sealed, share, cookies) = match row.max_encoded_len {
            Some(max) => {
                let sealed = worst_sealed_len(max);
                let share = row.budget.sealed_chars().map_or("-".to_owned(), |b| {
                    format!("{}%", (sealed * 100).div_ceil(b))
                });
                (
                    format!("{max} bytes"),
                    format!("{sealed} chars"),
                    share,
                    match sealed.div_ceil(per_cookie) {
                        n if n > usize::from(max_cookies) => {
                            format!("{n}, over --max-cookies {max_cookies}")
                        }
                        n => n.to_string(),
                    },
                )
            }
            None => (
                "unbounded".to_owned(),
                "-".to_owned(),
                "-".to_owned(),
                "checked on each write".to_owned(),
            ),
        };
        let _ = writeln!(
            out,
            "{:<8} {:<20} {payload:<14} {sealed:<13} {budget:<26} {share:<6} {cookies}",
            row.version, row.name
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn largest_payload_is_the_inverse_of_sealed_len() {
        for chars in [200, 3840, 4012, 8024, 61_440] {
            let p = largest_payload(chars);
            assert!(worst_sealed_len(p) <= chars, "{chars}");
            assert!(worst_sealed_len(p + 1) > chars, "{chars}");
        }
    }
}
