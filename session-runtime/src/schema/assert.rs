//! The `const` checks in what the derives emit: a schema that cannot fit its budget, a
//! `previous` schema that is not older, a `max_cookies` out of range. Each fails the build with
//! a message that names the schema and says what to change; the derive spans the call at the
//! attribute it is about.

use super::{Budget, CHUNK_VALUE_CAPACITY};
use crate::config::MAX_CHUNKS;

/// A message built in a `const` context: const panics cannot format integers.
#[derive(Clone, Copy)]
pub(crate) struct ConstMessage {
    buf: [u8; 512],
    len: usize,
}

impl ConstMessage {
    pub(crate) const fn new() -> Self {
        ConstMessage {
            buf: [0; 512],
            len: 0,
        }
    }

    /// Appends text; text past 512 bytes is cut at a character boundary by `as_str`.
    pub(crate) const fn str(mut self, s: &str) -> Self {
        let bytes = s.as_bytes();
        let mut i = 0;
        while i < bytes.len() && self.len < self.buf.len() {
            self.buf[self.len] = bytes[i];
            self.len += 1;
            i += 1;
        }
        self
    }

    /// Appends another message.
    pub(crate) const fn then(self, other: ConstMessage) -> Self {
        self.str(other.as_str())
    }

    /// Appends a number in decimal.
    pub(crate) const fn num(mut self, mut n: usize) -> Self {
        let mut digits = [0u8; 20];
        let mut count = 0;
        loop {
            digits[count] = b'0' + (n % 10) as u8;
            count += 1;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        while count > 0 && self.len < self.buf.len() {
            count -= 1;
            self.buf[self.len] = digits[count];
            self.len += 1;
        }
        self
    }

    pub(crate) const fn as_str(&self) -> &str {
        let mut len = self.len;
        loop {
            let (head, _) = self.buf.split_at(len);
            match core::str::from_utf8(head) {
                Ok(s) => return s,
                Err(_) => len -= 1,
            }
        }
    }
}

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
    let worst = crate::envelope::sealed_value_len(max_encoded_len);
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

/// The `previous` schema is older than the schema that names it.
pub const fn assert_previous(
    type_name: &str,
    version: u16,
    previous_name: &str,
    previous_version: u16,
) {
    if previous_version < version {
        return;
    }
    let msg = ConstMessage::new()
        .str("session schema `")
        .str(type_name)
        .str("` is version ")
        .num(version as usize)
        .str(" but its `previous` schema `")
        .str(previous_name)
        .str("` is version ")
        .num(previous_version as usize)
        .str("; the previous schema must have a lower version");
    panic!("{}", msg.as_str());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn const_message_formats() {
        let m = ConstMessage::new().str("a").num(0).str("b").num(4096);
        assert_eq!(m.as_str(), "a0b4096");
        let long = ConstMessage::new().str(&"é".repeat(300));
        assert_eq!(long.as_str().len(), 512);
    }

    #[test]
    fn budget_takes_the_tighter_key() {
        assert_eq!(budget(None, None), Budget::Unbounded);
        assert_eq!(budget(Some(2), Some(1000)), Budget::Bytes(1000));
        assert_eq!(budget(Some(1), Some(100_000)), Budget::Cookies(1));
    }
}
