//! The `const` checks of a schema's declared budget (`max_cookies = N`, `budget = BYTES`), which
//! the derive emits: a `max_cookies` out of range, a worst case that cannot seal within the
//! budget. Each fails the build with a message that names the schema and says what to change;
//! the derive spans the call at the key it is about.
//!
//! The compile-time twin of `Codec::check_schema`, which checks the same worst case against the
//! real cookie settings when the layer is built. It measures with the pipeline's sizes (the
//! envelope's overhead, the most cookies a session spans), so it lives with the pipeline, above
//! the schema traits it reads.

use crate::config::MAX_CHUNKS;
use crate::envelope::sealed_value_len;
use crate::schema::assert::ConstMessage;
use crate::schema::{Budget, CHUNK_VALUE_CAPACITY};

/// The `BUDGET` of a schema from its `max_cookies` and `budget` keys: the tighter of the two.
/// A `max_cookies` outside what a session may span fails the build.
pub const fn budget(max_cookies: Option<usize>, bytes: Option<usize>) -> Budget {
    let cookies = match max_cookies {
        Some(n) if n >= 1 && n <= MAX_CHUNKS as usize => Some(n as u8),
        Some(_) => {
            let msg = ConstMessage::new()
                .str("`max_cookies` must be from 1 to ")
                .num(MAX_CHUNKS as usize);
            panic!("{}", msg.as_str());
        }
        None => None,
    };
    match (cookies, bytes) {
        (None, None) => Budget::Unbounded,
        (Some(c), None) => Budget::Cookies(c),
        (None, Some(b)) => Budget::Bytes(b),
        (Some(c), Some(b)) => {
            if b < c as usize * CHUNK_VALUE_CAPACITY {
                Budget::Bytes(b)
            } else {
                Budget::Cookies(c)
            }
        }
    }
}

/// `max_encoded_len`, the worst case of schema `type_name`, after checking that it seals within
/// `budget`. The derive writes it as the schema's `MAX_ENCODED_LEN`, spanned at the budget key.
pub const fn fit(type_name: &str, budget: Budget, max_encoded_len: usize) -> usize {
    let Some(limit) = budget.sealed_chars() else {
        return max_encoded_len;
    };
    let worst = sealed_value_len(max_encoded_len);
    if worst <= limit {
        return max_encoded_len;
    }
    let msg = ConstMessage::new()
        .str("session schema `")
        .str(type_name)
        .str("` does not fit its budget: its worst case seals to ")
        .num(worst)
        .str(" bytes of cookie value, over the budget of ")
        .num(limit)
        .str(" bytes");
    let msg = match budget {
        Budget::Cookies(n) => msg
            .str(" (max_cookies = ")
            .num(n as usize)
            .str(" × ")
            .num(CHUNK_VALUE_CAPACITY)
            .str(")"),
        _ => msg,
    };
    let msg = msg.str("; lower a max_len or raise the budget");
    panic!("{}", msg.as_str());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_takes_the_tighter_key() {
        assert_eq!(budget(None, None), Budget::Unbounded);
        assert_eq!(budget(Some(2), Some(1000)), Budget::Bytes(1000));
        assert_eq!(budget(Some(1), Some(100_000)), Budget::Cookies(1));
    }
}
