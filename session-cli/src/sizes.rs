//! `sizes`: worst cases against budgets, and what fits in how many cookies.

use std::fmt::Write as _;

use session_runtime::{Budget, CookieSession, Key, SessionLayer};

use crate::args::SizesOptions;
use crate::payload::AnyPayload;
use crate::{Failure, Outcome, Schema};

/// Bytes the envelope adds to a payload: prefix 3, nonce 12, sealed header 27, tag 16
/// (docs/FORMAT.md, "Sizes"). A test seals real sessions to keep this figure honest.
pub(crate) const ENVELOPE_OVERHEAD: usize = 58;

/// Characters of cookie value a payload of `payload` bytes seals to, without padding.
pub(crate) fn sealed_len(payload: usize) -> usize {
    ((ENVELOPE_OVERHEAD + payload) * 4).div_ceil(3)
}

/// The largest payload that seals into `chars` characters.
fn largest_payload(chars: usize) -> usize {
    (chars * 3 / 4).saturating_sub(ENVELOPE_OVERHEAD)
}

/// One schema version's sizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct VersionRow {
    version: u16,
    name: &'static str,
    max_encoded_len: Option<usize>,
    budget: Budget,
}

impl VersionRow {
    pub(crate) fn of<T: CookieSession>() -> Self {
        VersionRow {
            version: T::VERSION,
            name: T::NAME,
            max_encoded_len: T::MAX_ENCODED_LEN,
            budget: T::BUDGET,
        }
    }
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
        "envelope: {ENVELOPE_OVERHEAD} bytes around the payload; P bytes of payload seal to ⌈({ENVELOPE_OVERHEAD} + P) · 4 / 3⌉ characters\n"
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
        "schema `{}`: writes version {}, reads versions {} to {}\n",
        schema.name, schema.current, schema.oldest, schema.current
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
                let sealed = sealed_len(max);
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
    let listed = schema.versions.len();
    let chain = usize::from(schema.current - schema.oldest) + 1;
    if listed < chain {
        let _ = writeln!(
            out,
            "\nolder versions, read through `previous`, are not listed ({listed} of up to {chain})"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn largest_payload_is_the_inverse_of_sealed_len() {
        for chars in [100, 3840, 4012, 8024, 61_440] {
            let p = largest_payload(chars);
            assert!(sealed_len(p) <= chars, "{chars}");
            assert!(sealed_len(p + 1) > chars, "{chars}");
        }
    }
}
