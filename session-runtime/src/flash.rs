//! One-shot flash messages: set on one response, shown on the next request, then gone.
//!
//! Flashes live in their own small sealed cookie (`<name>_flash`), not in the session struct,
//! so they do not eat into the schema's budget and survive `clear()` (a "you are logged out"
//! message is the usual case).

use serde::{Deserialize, Serialize};

/// How a flash message should be presented.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, crate::SessionBound)]
#[session(crate = crate)]
pub enum Level {
    /// Neutral information.
    Info,
    /// Something worked.
    Success,
    /// Something needs attention.
    Warning,
    /// Something failed.
    Error,
}

impl Level {
    /// The level's name in lower case, handy as a CSS class.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Info => "info",
            Level::Success => "success",
            Level::Warning => "warning",
            Level::Error => "error",
        }
    }
}

/// A one-shot message for the next page the user sees.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, crate::SessionBound)]
#[session(crate = crate)]
pub struct FlashMessage {
    /// How to present it.
    pub level: Level,
    /// The text, at most [`MAX_FLASH_TEXT`] bytes.
    #[session(max_len = 512)]
    pub text: String,
}

/// The longest flash text, in bytes; longer texts are cut at a character boundary.
pub const MAX_FLASH_TEXT: usize = 512;

/// The most flash messages kept at once; older ones are dropped first.
pub const MAX_FLASHES: usize = 4;

/// The sealed content of the flash cookie.
#[derive(Debug, Default, Serialize, Deserialize, crate::CookieSession)]
#[session(crate = crate, version = 1, max_cookies = 1)]
pub(crate) struct FlashBag {
    #[session(max_len = 4)]
    pub(crate) messages: Vec<FlashMessage>,
}

pub(crate) fn truncate_text(mut text: String) -> String {
    if text.len() > MAX_FLASH_TEXT {
        let mut end = MAX_FLASH_TEXT;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    text
}
