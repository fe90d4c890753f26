//! The sealed envelope (filled in below).

/// Characters of base64url cookie value for a payload of `payload_len` bytes.
pub const fn sealed_value_len(payload_len: usize) -> usize {
    payload_len
}
