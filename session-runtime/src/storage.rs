//! Where a sealed session lives, and whether it may still be used: in its cookies (the
//! default), in a server-side store behind an id cookie (always, or only when it outgrows its
//! cookies), and the optional revocation list for sessions that stay in cookies.
//!
//! Store keys are derived from the session id with SHA-256 under a label, never the raw id, so
//! whoever can read the store (memcached has no authentication) learns nothing that opens a
//! session: the values are sealed envelopes, the keys one-way tags.

use core::fmt;
use core::time::Duration;
use std::sync::Arc;

use http::HeaderValue;
use sha2::{Digest, Sha256};

use crate::clock::Lifetime;
use crate::envelope::{SUBJECT_LEN, SessionId, SessionMeta};
use crate::store::{BoxFuture, Condition, SessionStore, StoreError};

/// What happens to a request when the session store cannot be reached (or does not answer in
/// time).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum StoreFailure {
    /// Go on with a fresh session and log a warning (the default): a store outage looks like a
    /// logout to users, but the site stays up. A change made to that fresh session is saved only
    /// if the store is back by then; otherwise that response becomes a 503.
    #[default]
    FailOpen,
    /// Answer `503 Service Unavailable` from the session extractor: nobody is served as someone
    /// else or as a stranger while the store is down.
    FailClosed,
}

/// When the session goes to the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StoreMode {
    /// Every session: the cookie holds only the sealed id.
    Always,
    /// Only a session too large for its cookies; it comes back into cookies when it shrinks.
    Overflow,
}

/// The layer's storage settings.
pub(crate) struct Storage {
    pub(crate) store: Option<(Arc<dyn SessionStore>, StoreMode)>,
    pub(crate) revocation: Option<Arc<dyn SessionStore>>,
    pub(crate) on_failure: StoreFailure,
}

impl fmt::Debug for Storage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Storage")
            .field("store", &self.store.as_ref().map(|(s, m)| (s, m)))
            .field("revocation", &self.revocation)
            .field("on_failure", &self.on_failure)
            .finish()
    }
}

impl Storage {
    /// Where taken flash cookies are recorded: the session store, else the revocation list;
    /// none in a cookie-only layer.
    pub(crate) fn flash_record(&self) -> Option<&Arc<dyn SessionStore>> {
        // The session store first: flash records that anyone can cause must not crowd
        // revocations out of a bounded revocation store.
        self.store
            .as_ref()
            .map(|(store, _)| store)
            .or(self.revocation.as_ref())
    }
}

fn tag(label: &[u8], bytes: &[u8]) -> String {
    let digest = Sha256::new()
        .chain_update(label)
        .chain_update(bytes)
        .finalize();
    // By hand: a `format!` per byte was half of the layer's own work on a store read.
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(34);
    for byte in &digest[..16] {
        out.push(char::from(HEX[usize::from(byte >> 4)]));
        out.push(char::from(HEX[usize::from(byte & 0x0f)]));
    }
    out
}

/// The store key of a session's data.
pub(crate) fn data_key(id: &SessionId) -> String {
    format!("s:{}", tag(b"session-runtime v1 store key", &id.0))
}

/// The revocation-list key of a session id.
pub(crate) fn revoked_key(id: &SessionId) -> String {
    format!("r:{}", tag(b"session-runtime v1 revoked id", &id.0))
}

/// The record of a taken flash cookie, by the cookie's id.
pub(crate) fn taken_flash_key(id: &SessionId) -> String {
    format!("f:{}", tag(b"session-runtime v1 taken flash", &id.0))
}

/// The generation key of a subject tag: the time of its last "log out everywhere".
pub(crate) fn generation_key(subject: &[u8; SUBJECT_LEN]) -> String {
    format!(
        "g:{}",
        tag(b"session-runtime v1 subject generation", subject)
    )
}

/// The subject tag sealed into a session's header: a one-way hash of what the application
/// names (a user id), so the cookie never carries it in the clear even to the key holder's logs.
pub(crate) fn subject_tag(subject: &str) -> [u8; SUBJECT_LEN] {
    let digest = Sha256::new()
        .chain_update(b"session-runtime v1 subject")
        .chain_update(subject.as_bytes())
        .finalize();
    let mut out = [0u8; SUBJECT_LEN];
    out.copy_from_slice(&digest[..SUBJECT_LEN]);
    out
}

/// How long a store entry (or a revocation) must last: the session's remaining lifetime, plus
/// what clock skew and whole-second rounding can add to it.
pub(crate) fn remaining(lifetime: &Lifetime, meta: &SessionMeta, now: u32) -> Duration {
    let age = Duration::from_secs(u64::from(now.saturating_sub(meta.issued_at)));
    let absolute = lifetime.absolute.map(|limit| limit.saturating_sub(age));
    let ttl = match (lifetime.idle, absolute) {
        (Some(idle), Some(absolute)) => idle.min(absolute),
        (Some(idle), None) => idle,
        (None, Some(absolute)) => absolute,
        // No timeout at all: the store still needs one; a month, as a browser-session bound.
        (None, None) => Duration::from_secs(30 * 24 * 60 * 60),
    };
    // A timestamp sealed by an instance whose clock runs ahead (within the allowed skew) keeps
    // the cookie valid that much longer than `now` suggests; and a cookie is still valid in
    // the second its limit is reached. The entry outlives both.
    let ahead = meta.issued_at.max(meta.last_access).saturating_sub(now);
    ttl.saturating_add(Duration::from_secs(u64::from(ahead) + 1))
}

/// Whether a session is revoked: its id on the revocation list, or issued no later than its
/// subject's last "log out everywhere". One round trip for both, and for `also` (a key whose
/// presence the caller wants to know, read in the same call).
pub(crate) async fn is_revoked(
    revocation: &dyn SessionStore,
    meta: &SessionMeta,
    subject: Option<&[u8; SUBJECT_LEN]>,
    also: Option<&str>,
) -> Result<(bool, Option<bool>), StoreError> {
    let revoked = revoked_key(&meta.id);
    let generation = subject.map(generation_key);
    let mut keys = vec![revoked.as_str()];
    keys.extend(also);
    keys.extend(generation.as_deref());
    let found = revocation.load_many(&keys).await?;
    let present = |i: usize| found.get(i).is_some_and(Option::is_some);
    let also_found = also.map(|_| present(1));
    if present(0) {
        return Ok((true, also_found));
    }
    let since = generation
        .as_ref()
        .and_then(|_| found.last())
        .and_then(Option::as_ref)
        .and_then(|v| <[u8; 4]>::try_from(v.as_slice()).ok())
        .map(u32::from_le_bytes);
    Ok((
        since.is_some_and(|since| meta.issued_at <= since),
        also_found,
    ))
}

/// Store work left for the response: run after the handler, before the response leaves.
pub(crate) struct Pending {
    pub(crate) store: Option<Arc<dyn SessionStore>>,
    /// Save the session's sealed envelope under this key for this long.
    pub(crate) save: Option<(String, Vec<u8>, Duration)>,
    /// Delete this key (an old id after `regenerate`, a cleared session, a session that moved
    /// back into its cookies).
    pub(crate) delete: Option<String>,
    /// Put this id on the revocation list until its session would have expired anyway.
    pub(crate) revoke: Option<(Arc<dyn SessionStore>, String, Duration)>,
    /// Record this taken flash cookie as used, so that a replayed copy shows nothing.
    pub(crate) taken_flash: Option<(Arc<dyn SessionStore>, String, Duration)>,
    /// The flash cookie's Set-Cookie lines: sent, and the taken flash recorded, only if the
    /// session was saved (a 503 shows the user nothing, so nothing is taken).
    pub(crate) flash_lines: Vec<HeaderValue>,
    /// Set-Cookie lines sent only if the save succeeded (the new id cookie).
    pub(crate) on_success: Vec<HeaderValue>,
    /// Set-Cookie lines sent whatever happens (removals).
    pub(crate) always: Vec<HeaderValue>,
}

/// What the store work ended in.
pub(crate) struct Finished {
    pub(crate) lines: Vec<HeaderValue>,
    /// The session (or its revocation) could not be written: the response becomes a 503 and
    /// the previous session stays as it was.
    pub(crate) failed: bool,
}

impl Pending {
    /// No store work yet, against `store`.
    pub(crate) fn nothing(store: Option<Arc<dyn SessionStore>>) -> Self {
        Pending {
            store,
            save: None,
            delete: None,
            revoke: None,
            taken_flash: None,
            flash_lines: Vec::new(),
            on_success: Vec::new(),
            always: Vec::new(),
        }
    }

    pub(crate) fn run(self) -> BoxFuture<'static, Finished> {
        Box::pin(async move {
            let mut lines = self.always;
            let mut failed = false;
            if let (Some(store), Some((key, value, ttl))) = (&self.store, &self.save) {
                match store.save(key, value, *ttl, Condition::Always).await {
                    Ok(_) => lines.extend(self.on_success),
                    Err(err) => {
                        tracing::error!(
                            error = %err,
                            "session could not be saved to the store; the previous session stays"
                        );
                        return Finished {
                            lines,
                            failed: true,
                        };
                    }
                }
            }
            if let (Some(store), Some(key)) = (&self.store, &self.delete)
                && let Err(err) = store.delete(key).await
            {
                // The entry expires with its TTL; the id is no longer in any cookie we send.
                tracing::warn!(error = %err, "an old session entry could not be deleted");
            }
            if let Some((store, key, ttl)) = &self.revoke
                && let Err(err) = store.save(key, b"1", *ttl, Condition::Always).await
            {
                tracing::error!(error = %err, "a logged-out session could not be revoked");
                failed = true;
            }
            if failed {
                return Finished { lines, failed };
            }
            lines.extend(self.flash_lines);
            if let Some((store, key, ttl)) = &self.taken_flash
                && let Err(err) = store.save(key, b"1", *ttl, Condition::Always).await
            {
                // The messages were shown and their cookie removed; only a replay of the old
                // cookie could show them again.
                tracing::warn!(error = %err, "a taken flash could not be recorded");
            }
            Finished { lines, failed }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_keys_are_the_documented_hex_tags() {
        let id = SessionId([7; 16]);
        let digest = Sha256::new()
            .chain_update(b"session-runtime v1 store key")
            .chain_update([7; 16])
            .finalize();
        let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(data_key(&id), format!("s:{hex}"));
        assert_eq!(revoked_key(&id).len(), 34);
        assert!(taken_flash_key(&id).starts_with("f:"));
        assert_ne!(taken_flash_key(&id)[2..], revoked_key(&id)[2..]);
    }
}
