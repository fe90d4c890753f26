//! A bounded in-process store, for development and tests.
//!
//! One map from key to entry, and beside it an index of the entries by expiry time. The index
//! serves both limits: expired entries are swept from its front on every save (each entry is
//! swept at most once, so the cost is amortised over the saves that created them), and when a
//! save would pass the entry or byte limit, the entries closest to expiry go first. Every save
//! renews a session's TTL, so for sessions with one idle lifetime that is the session saved
//! least recently.

use core::time::Duration;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, PoisonError};
use std::time::Instant;

use super::{BoxFuture, Condition, SessionStore, StoreError, check_key, ttl_secs};

/// Entry limit of [`MemoryStore::new`].
const DEFAULT_MAX_ENTRIES: usize = 10_000;
/// Byte limit of [`MemoryStore::new`].
const DEFAULT_MAX_BYTES: usize = 64 << 20;

/// Sessions kept in this process's memory, bounded in entry count and bytes, expired by TTL.
///
/// For development and tests: nothing is shared between processes, and a restart forgets every
/// session. When a save would pass a limit, the entries closest to expiry are evicted first
/// (the sessions saved least recently); expired entries are never returned and are swept as
/// saves come in. Bytes are counted as key plus value length.
///
/// ```
/// use session_runtime::MemoryStore;
///
/// let store = MemoryStore::new()
///     .with_max_entries(50_000)
///     .with_max_bytes(256 << 20);
/// assert!(store.is_empty());
/// ```
#[derive(Debug)]
pub struct MemoryStore {
    max_entries: usize,
    max_bytes: usize,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    entries: HashMap<String, Entry>,
    /// Keys by `(expiry, insertion number)`: the number keeps equal instants apart.
    by_expiry: BTreeMap<(Instant, u64), String>,
    bytes: usize,
    next_seq: u64,
}

#[derive(Debug)]
struct Entry {
    value: Vec<u8>,
    expires: Instant,
    seq: u64,
}

impl Entry {
    fn size(&self, key: &str) -> usize {
        key.len() + self.value.len()
    }
}

impl State {
    fn remove(&mut self, key: &str) {
        if let Some(entry) = self.entries.remove(key) {
            self.by_expiry.remove(&(entry.expires, entry.seq));
            self.bytes -= entry.size(key);
        }
    }

    /// Removes the entry closest to expiry, if it expires by `deadline`.
    fn pop_first_by(&mut self, deadline: Option<Instant>) -> bool {
        let Some((&(expires, _), _)) = self.by_expiry.first_key_value() else {
            return false;
        };
        if deadline.is_some_and(|deadline| expires > deadline) {
            return false;
        }
        if let Some((_, key)) = self.by_expiry.pop_first()
            && let Some(entry) = self.entries.remove(&key)
        {
            self.bytes -= entry.size(&key);
        }
        true
    }
}

impl MemoryStore {
    /// An empty store holding at most 10 000 entries and 64 MiB.
    pub fn new() -> Self {
        MemoryStore {
            max_entries: DEFAULT_MAX_ENTRIES,
            max_bytes: DEFAULT_MAX_BYTES,
            state: Mutex::new(State::default()),
        }
    }

    /// Keeps at most `max` entries (at least one).
    pub fn with_max_entries(mut self, max: usize) -> Self {
        self.max_entries = max.max(1);
        self
    }

    /// Keeps at most `max` bytes of keys and values. A single value larger than this is refused
    /// with [`StoreError::Rejected`].
    pub fn with_max_bytes(mut self, max: usize) -> Self {
        self.max_bytes = max.max(1);
        self
    }

    /// The number of entries held, expired ones not yet swept included.
    pub fn len(&self) -> usize {
        self.state().entries.len()
    }

    /// Whether the store holds no entries.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The bytes held: keys plus values.
    pub fn bytes(&self) -> usize {
        self.state().bytes
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // Nothing in a critical section panics, so a poisoned lock still guards a whole state.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn load_now(&self, key: &str, now: Instant) -> Result<Option<Vec<u8>>, StoreError> {
        check_key(key)?;
        let mut state = self.state();
        match state.entries.get(key) {
            Some(entry) if entry.expires > now => Ok(Some(entry.value.clone())),
            Some(_) => {
                state.remove(key);
                Ok(None)
            }
            None => Ok(None),
        }
    }

    fn save_now(
        &self,
        key: &str,
        value: &[u8],
        ttl: Duration,
        condition: Condition,
        now: Instant,
    ) -> Result<bool, StoreError> {
        check_key(key)?;
        let size = key.len() + value.len();
        if size > self.max_bytes {
            return Err(StoreError::Rejected(format!(
                "a {size}-byte entry is larger than the memory store's {}-byte limit",
                self.max_bytes
            )));
        }
        let expires = now + Duration::from_secs(ttl_secs(ttl));
        let mut state = self.state();
        // Checked under the same lock as the write, so no other save comes between.
        let present = state
            .entries
            .get(key)
            .is_some_and(|entry| entry.expires > now);
        if !condition.holds(present) {
            return Ok(false);
        }
        state.remove(key);
        while state.pop_first_by(Some(now)) {}
        while state.entries.len() >= self.max_entries || state.bytes + size > self.max_bytes {
            if !state.pop_first_by(None) {
                break;
            }
        }
        let seq = state.next_seq;
        state.next_seq += 1;
        state.by_expiry.insert((expires, seq), key.to_owned());
        state.bytes += size;
        state.entries.insert(
            key.to_owned(),
            Entry {
                value: value.to_vec(),
                expires,
                seq,
            },
        );
        Ok(true)
    }

    fn delete_now(&self, key: &str) -> Result<(), StoreError> {
        check_key(key)?;
        self.state().remove(key);
        Ok(())
    }
}

impl Default for MemoryStore {
    fn default() -> Self {
        MemoryStore::new()
    }
}

impl SessionStore for MemoryStore {
    fn load<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Vec<u8>>, StoreError>> {
        Box::pin(core::future::ready(self.load_now(key, Instant::now())))
    }

    fn load_many<'a>(
        &'a self,
        keys: &'a [&'a str],
    ) -> BoxFuture<'a, Result<Vec<Option<Vec<u8>>>, StoreError>> {
        let now = Instant::now();
        let loaded = keys.iter().map(|key| self.load_now(key, now)).collect();
        Box::pin(core::future::ready(loaded))
    }

    fn save<'a>(
        &'a self,
        key: &'a str,
        value: &'a [u8],
        ttl: Duration,
        condition: Condition,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        let now = Instant::now();
        Box::pin(core::future::ready(
            self.save_now(key, value, ttl, condition, now),
        ))
    }

    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(core::future::ready(self.delete_now(key)))
    }

    fn backend(&self) -> &'static str {
        "memory"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Condition::Always;

    const MINUTE: Duration = Duration::from_secs(60);

    fn consistent(store: &MemoryStore) {
        let state = store.state();
        assert_eq!(state.entries.len(), state.by_expiry.len());
        let bytes: usize = state.entries.iter().map(|(k, e)| e.size(k)).sum();
        assert_eq!(state.bytes, bytes);
        for (key, entry) in &state.entries {
            assert_eq!(state.by_expiry.get(&(entry.expires, entry.seq)), Some(key));
        }
    }

    #[test]
    fn entry_limit_evicts_the_entry_closest_to_expiry() {
        let store = MemoryStore::new().with_max_entries(3);
        let t0 = Instant::now();
        store
            .save_now("a", b"1", MINUTE * 3, Always, t0)
            .expect("memory store");
        store
            .save_now("b", b"2", MINUTE, Always, t0)
            .expect("memory store");
        store
            .save_now("c", b"3", MINUTE * 2, Always, t0)
            .expect("memory store");
        store
            .save_now("d", b"4", MINUTE * 4, Always, t0)
            .expect("memory store");
        assert_eq!(store.len(), 3);
        assert_eq!(store.load_now("b", t0).expect("memory store"), None);
        for key in ["a", "c", "d"] {
            assert!(
                store.load_now(key, t0).expect("memory store").is_some(),
                "{key}"
            );
        }
        consistent(&store);
    }

    #[test]
    fn byte_limit_evicts_until_the_new_entry_fits() {
        let store = MemoryStore::new().with_max_bytes(100);
        let t0 = Instant::now();
        for (i, key) in ["k1", "k2", "k3", "k4"].into_iter().enumerate() {
            let ttl = MINUTE * (i as u32 + 1);
            store
                .save_now(key, &[0u8; 18], ttl, Always, t0)
                .expect("memory store");
        }
        assert_eq!(store.bytes(), 80);
        // 50 bytes need room: k1 and k2 (the two closest to expiry) go.
        store
            .save_now("k5", &[1u8; 48], MINUTE * 9, Always, t0)
            .expect("memory store");
        assert_eq!(store.bytes(), 90);
        assert_eq!(store.load_now("k1", t0).expect("memory store"), None);
        assert_eq!(store.load_now("k2", t0).expect("memory store"), None);
        assert!(store.load_now("k3", t0).expect("memory store").is_some());
        consistent(&store);
    }

    #[test]
    fn a_value_larger_than_the_byte_limit_is_refused_and_nothing_is_evicted() {
        let store = MemoryStore::new().with_max_bytes(64);
        let t0 = Instant::now();
        store
            .save_now("keep", b"v", MINUTE, Always, t0)
            .expect("memory store");
        let refused = store.save_now("big", &[0u8; 64], MINUTE, Always, t0);
        assert!(
            matches!(refused, Err(StoreError::Rejected(_))),
            "{refused:?}"
        );
        assert!(store.load_now("keep", t0).expect("memory store").is_some());
        consistent(&store);
    }

    #[test]
    fn expired_entries_are_hidden_on_read_and_swept_by_saves() {
        let store = MemoryStore::new();
        let t0 = Instant::now();
        for i in 0..100 {
            store
                .save_now(&format!("old{i}"), b"v", Duration::from_secs(1), Always, t0)
                .expect("memory store");
        }
        store
            .save_now("live", b"v", MINUTE, Always, t0)
            .expect("memory store");
        let later = t0 + Duration::from_secs(2);
        assert_eq!(store.load_now("old7", later).expect("memory store"), None);
        assert_eq!(store.len(), 100);
        store
            .save_now("new", b"v", MINUTE, Always, later)
            .expect("memory store");
        assert_eq!(store.len(), 2);
        consistent(&store);
    }

    #[test]
    fn overwrite_replaces_value_expiry_and_byte_count() {
        let store = MemoryStore::new();
        let t0 = Instant::now();
        store
            .save_now("k", &[0u8; 10], Duration::from_secs(1), Always, t0)
            .expect("memory store");
        store
            .save_now("k", &[1u8; 4], MINUTE, Always, t0)
            .expect("memory store");
        assert_eq!(store.bytes(), 5);
        let later = t0 + Duration::from_secs(5);
        assert_eq!(
            store.load_now("k", later).expect("memory store"),
            Some(vec![1u8; 4])
        );
        store.delete_now("k").expect("memory store");
        assert!(store.is_empty());
        assert_eq!(store.bytes(), 0);
        consistent(&store);
    }
}
