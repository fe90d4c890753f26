//! The schema fingerprint: FNV-1a (64 bit) over the type name, version, field names, field type
//! tokens and field bounds. Not a security measure: it catches a struct (or a bound) changed
//! without a version bump.

use quote::ToTokens;

use crate::attr::Bound;
use crate::model::Model;

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(FNV_OFFSET, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(FNV_PRIME)
    })
}

/// The text that is hashed, with unit and record separators so no two schemas collide by
/// concatenation. A field without a bound adds nothing after its type, so fingerprints of
/// schemas without bounds are what they were before bounds were hashed.
fn canonical(model: &Model<'_>) -> String {
    let mut text = format!("{}\u{1f}{}", model.ident, model.version());
    for field in model.fields() {
        let ty = field.ty.to_token_stream().to_string();
        text.push('\u{1e}');
        text.push_str(&field.name);
        text.push('\u{1f}');
        text.push_str(&ty);
        if let Some(bound) = &field.bound {
            text.push('\u{1f}');
            bound_text(&mut text, &bound.value);
        }
    }
    text
}

/// `max_len=N,each(..),key(..),value(..)`, in that order whatever the order written.
fn bound_text(text: &mut String, bound: &Bound) {
    if let Some(max_len) = &bound.max_len {
        text.push_str(&format!("max_len={},", max_len.value));
    }
    for (name, inner) in [
        ("each", &bound.each),
        ("key", &bound.key),
        ("value", &bound.value),
    ] {
        if let Some(inner) = inner {
            text.push_str(name);
            text.push('(');
            bound_text(text, &inner.value);
            text.push_str("),");
        }
    }
}

/// The fingerprint as 16 lowercase hex digits.
pub(crate) fn of(model: &Model<'_>) -> String {
    format!("{:016x}", fnv1a(canonical(model).as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::fnv1a;

    #[test]
    fn fnv1a_reference_values() {
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a(b"foobar"), 0x8594_4171_f739_67e8);
    }
}
