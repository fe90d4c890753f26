//! All of flash: one-shot messages set on one response, shown on the next request, then gone.
//!
//! Flashes live in their own small sealed cookie (`<name>_flash`), not in the session struct,
//! so they do not eat into the schema's budget and survive `clear()` (a "you are logged out"
//! message is the usual case). The cookie goes through the same pipeline as the session, with
//! its own [`Codec`]: one cookie, no padding, a 10-minute absolute lifetime.
//!
//! A taken flash is one-shot per browser; a client that re-sends the removed cookie would see
//! it again, since nothing in cookies alone can tell a replay from the first sending. When the
//! layer has a store (the session store, else the revocation list), the id of every taken
//! flash cookie is recorded there until the cookie would have expired, and a replayed copy shows
//! nothing. The record is written when the response is sent, so a copy sent again before that
//! (two requests at once) may still show its messages.

use std::time::Duration;

use serde::{Deserialize, Serialize};
// The derives straight from their crate: the crate root (which re-exports them) also declares
// the adapters, which this module must not reach.
use session_derive::{CookieSession, SessionBound};

use crate::chunk::{Gathered, Lines};
use crate::clock::Lifetime;
use crate::codec::{Codec, Scratch, Unsealed};
use crate::config::{Config, ConfigError, Padding};
use crate::envelope::{SessionId, SessionMeta};
use crate::error::OpenError;
use crate::key::{KeySource, Keys};
use crate::store::persistence::{self, Persistence};

/// How a flash message should be presented.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, SessionBound)]
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
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, SessionBound)]
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
#[derive(Debug, Default, Serialize, Deserialize, CookieSession)]
#[session(crate = crate, version = 1, max_cookies = 1)]
struct FlashBag {
    #[session(max_len = 4)]
    messages: Vec<FlashMessage>,
}

/// The flash cookie's codec, derived from the session cookie's settings.
pub(crate) fn codec(keys: KeySource, session: &Config) -> Result<Codec, ConfigError> {
    let config = Config {
        name: format!("{}_flash", session.name),
        max_cookies: 1,
        padding: Padding::None,
        ..session.clone()
    };
    let lifetime = Lifetime {
        idle: None,
        absolute: Some(Duration::from_secs(10 * 60)),
        ..Lifetime::default()
    };
    let codec = Codec::new(keys, &config, lifetime)?;
    codec.check_schema::<FlashBag>()?;
    Ok(codec)
}

/// The flash part of one request's state.
#[derive(Debug, Default)]
pub(crate) struct FlashState {
    /// The request's flash cookie: its sealed value, until decoded.
    incoming: Incoming,
    outgoing: Vec<FlashMessage>,
    /// The handler took the incoming messages: the response removes the cookie.
    taken: bool,
}

#[derive(Debug, Default)]
enum Incoming {
    #[default]
    None,
    /// Present but bad (tampered, expired): removed in the response.
    Rejected,
    /// Present twice (a planted copy under another Path or Domain): shown never, removed never.
    Ignored,
    Opened {
        messages: Vec<FlashMessage>,
        meta: SessionMeta,
    },
}

/// A taken flash cookie to record as used: its id, until the cookie expires anyway.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Consumed {
    pub(crate) id: SessionId,
    pub(crate) ttl: Duration,
}

impl FlashState {
    /// Keeps the request's flash cookie, as gathered, for [`take`](Self::take).
    pub(crate) fn incoming(
        &mut self,
        codec: &Codec,
        keys: &Keys,
        gathered: Result<Option<Gathered<'_>>, OpenError>,
        now: u32,
    ) {
        self.incoming = match gathered {
            Ok(None) => Incoming::None,
            Ok(Some(gathered)) => {
                let mut scratch = Scratch::take();
                match codec.open_gathered::<FlashBag>(keys, &gathered, now, scratch.opening()) {
                    Ok(Unsealed::Value(opened)) => Incoming::Opened {
                        messages: opened.value.messages,
                        meta: opened.meta,
                    },
                    Ok(Unsealed::InStore { .. }) => Incoming::Rejected,
                    Err(err) => {
                        tracing::debug!(reason = err.reason(), "flash cookie rejected");
                        Incoming::Rejected
                    }
                }
            }
            // A duplicate is left alone: removing "ours" would leave a planted one (another
            // Path or Domain) to show on the next request.
            Err(OpenError::DuplicateChunk { .. }) => Incoming::Ignored,
            Err(err) => {
                tracing::debug!(reason = err.reason(), "flash cookie rejected");
                Incoming::Rejected
            }
        };
    }

    /// The id of the request's flash cookie, when one opened: what to look up in the record
    /// of taken flashes.
    pub(crate) fn opened_id(&self) -> Option<SessionId> {
        match &self.incoming {
            Incoming::Opened { meta, .. } => Some(meta.id),
            _ => None,
        }
    }

    /// The request's flash cookie was taken before (its id is on record): a replay, shown
    /// never and removed in the response.
    pub(crate) fn replayed(&mut self) {
        tracing::debug!("a flash cookie taken before was sent again; ignored");
        self.incoming = Incoming::Rejected;
    }

    /// Queues a message for the next request, dropping the oldest past [`MAX_FLASHES`].
    pub(crate) fn push(&mut self, level: Level, text: String) {
        self.outgoing.push(FlashMessage {
            level,
            text: truncate_text(text),
        });
        if self.outgoing.len() > MAX_FLASHES {
            self.outgoing.remove(0);
        }
    }

    /// The messages the request carried; the response removes them.
    pub(crate) fn take(&mut self) -> Vec<FlashMessage> {
        self.taken = true;
        match &self.incoming {
            Incoming::Opened { messages, .. } => messages.clone(),
            _ => Vec::new(),
        }
    }

    /// The flash cookie's lines the response needs: the untaken and new messages, or a
    /// removal; and the taken cookie to record as used, if one was taken.
    pub(crate) fn finish(
        &mut self,
        codec: &Codec,
        keys: &Keys,
        now: u32,
    ) -> (Lines, Option<Consumed>) {
        // A duplicate (Ignored) is not ours to remove: see `incoming`.
        let carried = matches!(self.incoming, Incoming::Opened { .. } | Incoming::Rejected);
        let rejected = matches!(self.incoming, Incoming::Rejected);
        if !self.taken && self.outgoing.is_empty() {
            let lines = if rejected {
                codec.removals().iter().cloned().collect()
            } else {
                Lines::new()
            };
            return (lines, None);
        }
        let mut consumed = None;
        let mut messages = match core::mem::take(&mut self.incoming) {
            Incoming::Opened { messages, .. } if !self.taken => messages,
            Incoming::Opened { meta, .. } => {
                consumed = Some(Consumed {
                    id: meta.id,
                    ttl: persistence::remaining(codec.lifetime(), &meta, now),
                });
                Vec::new()
            }
            _ => Vec::new(),
        };
        messages.append(&mut self.outgoing);
        if messages.len() > MAX_FLASHES {
            messages.drain(..messages.len() - MAX_FLASHES);
        }
        if messages.is_empty() {
            let lines = if carried {
                codec.removals().iter().cloned().collect()
            } else {
                Lines::new()
            };
            return (lines, consumed);
        }
        let bag = FlashBag { messages };
        let mut scratch = Scratch::take();
        let sealed = SessionMeta::new(now)
            .and_then(|meta| codec.seal_into(keys, &bag, &meta, scratch.sealing()))
            .map(|chunks| codec.lines(scratch.sealed(), chunks));
        match sealed {
            Ok(lines) => (lines, consumed),
            Err(err) => {
                tracing::error!(error = %err, "flash messages could not be saved");
                (Lines::new(), consumed)
            }
        }
    }
}

fn truncate_text(mut text: String) -> String {
    if text.len() > MAX_FLASH_TEXT {
        let mut end = MAX_FLASH_TEXT;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    text
}

/// The record of a taken flash cookie, by the cookie's id.
pub(crate) fn taken_key(id: &SessionId) -> String {
    persistence::taken_flash_key(id)
}

/// Whether a flash cookie was taken before (its key is on record), asked on its own when no
/// session check carried it. A store that cannot answer lets the flash show: flashes carry
/// nothing security-relevant, and the page should not fail over one.
pub(crate) async fn taken_before(persistence: &Persistence, key: Option<&str>) -> bool {
    let (Some(key), Some(record)) = (key, persistence.flash_record()) else {
        return false;
    };
    match record.load(key).await {
        Ok(found) => found.is_some(),
        Err(err) => {
            tracing::warn!(error = %err, "the record of taken flashes is unavailable; showing the flash");
            false
        }
    }
}
