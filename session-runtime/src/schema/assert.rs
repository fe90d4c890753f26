//! [`ConstMessage`], which builds the messages of the `const` checks in what the derives emit,
//! and the one check that needs nothing but the schema: a `previous` schema that is not older.
//! The others are the bounds' (`bounds`) and the budget's (`crate::budget`, with the pipeline
//! whose sizes it measures with). Each fails the build with a message that names the schema and
//! says what to change; the derive spans the call at the attribute it is about.

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
}
