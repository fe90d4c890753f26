//! The persistence seam: where a session lives besides its cookies, the records that end
//! sessions early, and the one object, [`Persistence`], that reads them when a request opens its
//! session and plans and runs the store operations of its response.
//!
//! Its entries, each under a key derived one way from what it is about, so whoever can read the
//! store (memcached has no authentication) learns nothing that opens a session:
//!
//! | key | value | written by |
//! |---|---|---|
//! | `s:<tag of the id>` | the session's sealed envelope | a server-store save |
//! | `r:<tag of the id>` | `1` | a logout or regenerate under a revocation list |
//! | `g:<keyed tag of the subject>` | the generation and time of the last "log out everywhere" | `revoke_all` |
//! | `f:<tag of a flash cookie's id>` | `1` | a response that took the flash messages |
//! | `e:…` (the store's [`marker_key`](SessionStore::marker_key)) | when the server's records began | the first use of a server, and after it lost its data |
//!
//! Ids are 128 random bits, so their tags are plain SHA-256; subjects are names, so theirs are
//! keyed with the application's key material ([`Keys::tags`]): applications that do not share a
//! key never meet in a shared store, and a guessed name cannot be confirmed by looking.

use core::fmt;
use core::time::Duration;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use sha2::{Digest, Sha256};
use smallvec::SmallVec;

use super::{Condition, SessionStore, StoreError, join_all};
use crate::clock::Lifetime;
use crate::envelope::{SUBJECT_LEN, SessionId, SessionMeta, Subject};
use crate::key::Keys;

/// What happens to a request when the session store cannot be reached (or does not answer in
/// time) while its session is being opened.
///
/// Only reading fails open: a response that must write (a change to a server-side session, a
/// logout, a `regenerate()`) and cannot, answers `503 Service Unavailable` whatever this says.
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

/// What the layer does with sessions issued before a revocation store lost its records (a
/// memcached restart, a Redis without persistence restarted or flushed), which it detects with
/// a marker on each server read in the same round trip as the records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum RevocationLoss {
    /// Sessions issued before the loss are ended (the default): a logout recorded before it
    /// may be gone, so none of them is trusted. Users log in again once.
    #[default]
    EndOlderSessions,
    /// Sessions issued before the loss stay open, and logged-out cookies recorded before it
    /// open again: only for a store whose records matter less than a logout of every user.
    KeepSessions,
}

/// When the session goes to the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StoreMode {
    /// Every session: the cookie holds only the sealed id.
    Always,
    /// Only a session too large for its cookies; it comes back into cookies when it shrinks.
    Overflow,
}

/// The layer's persistence settings, and the markers this process knows are in place.
pub(crate) struct Persistence {
    store: Option<(Arc<dyn SessionStore>, StoreMode)>,
    revocation: Option<Arc<dyn SessionStore>>,
    /// The store of the configuration before this one (`with_previous_store`): read for the
    /// entries and records of sessions issued under it, written only to retire them.
    previous: Option<Arc<dyn SessionStore>>,
    on_failure: StoreFailure,
    on_loss: RevocationLoss,
    /// Marker keys this process has read or written, with the time their records begin: a
    /// session issued under one of them needs no marker write of its own.
    markers: Mutex<HashMap<String, u32>>,
}

impl fmt::Debug for Persistence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Persistence")
            .field("store", &self.store)
            .field("revocation", &self.revocation)
            .field("previous", &self.previous)
            .field("on_failure", &self.on_failure)
            .field("on_loss", &self.on_loss)
            .finish_non_exhaustive()
    }
}

/// How long markers live; each is rewritten (its time kept) when a day old, so a marker in use
/// never expires. At most 30 days: memcached reads a longer TTL as a point in time.
const MARKER_TTL: Duration = Duration::from_secs(30 * 24 * 60 * 60);
const MARKER_REFRESH_SECS: u32 = 24 * 60 * 60;

/// What a request's session is, for the checks made when it is opened.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Checked {
    pub(crate) meta: SessionMeta,
    pub(crate) subject: Option<Subject>,
    /// The session itself is in the store (an id cookie): read its entry too.
    pub(crate) in_store: bool,
    /// The place in the key set of the key that opened it: its subject's record is read
    /// under that key's tag.
    pub(crate) key_index: usize,
}

/// The value a session's entry is replaced with while it moves out of a store (into its
/// cookies, or into the current store from the previous one), for the second it takes.
pub(crate) const MOVED: &[u8] = b"moved";

/// What the store said about a request's session.
#[derive(Debug, Default)]
pub(crate) struct Found {
    /// The session's sealed entry (asked only for an id cookie).
    pub(crate) entry: Option<Vec<u8>>,
    /// The key its entry was asked under ([`data_key`] of the session's id): kept, so that the
    /// request's write or logout does not hash the id again.
    pub(crate) entry_key: Option<String>,
    /// The entry came from the previous store: the session moves on this request.
    pub(crate) from_previous: bool,
    /// Why the session must not open, if it must not.
    pub(crate) ended: Option<Ended>,
    /// The flash key asked about is on record.
    pub(crate) flash_taken: bool,
}

/// Why a session that opened is ended by its records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ended {
    /// Its id was revoked (a logout), or its subject logged out everywhere after it was issued.
    Revoked,
    /// It was issued before the revocation store lost its records.
    RecordsLost,
}

impl Persistence {
    pub(crate) fn new(
        store: Option<(Arc<dyn SessionStore>, StoreMode)>,
        revocation: Option<Arc<dyn SessionStore>>,
        previous: Option<Arc<dyn SessionStore>>,
        on_failure: StoreFailure,
        on_loss: RevocationLoss,
    ) -> Self {
        Persistence {
            store,
            revocation,
            previous,
            on_failure,
            on_loss,
            markers: Mutex::new(HashMap::new()),
        }
    }

    pub(crate) fn on_failure(&self) -> StoreFailure {
        self.on_failure
    }

    /// The session store and when it is used.
    pub(crate) fn mode(&self) -> Option<StoreMode> {
        self.store.as_ref().map(|(_, mode)| *mode)
    }

    /// Whether logouts are recorded on a revocation list.
    pub(crate) fn revocation_list(&self) -> bool {
        self.revocation.is_some()
    }

    fn data(&self) -> Option<&Arc<dyn SessionStore>> {
        self.store.as_ref().map(|(store, _)| store)
    }

    /// Whether a previous store is read for sessions issued before this configuration.
    pub(crate) fn has_previous(&self) -> bool {
        self.previous.is_some()
    }

    /// Whether a session that opened from its cookies is moving in: every session lives in
    /// the store here, so one in cookies was issued before the store was (and moves into it,
    /// under a new id, its cookies' id recorded as retired).
    pub(crate) fn moves_in(&self) -> bool {
        self.mode() == Some(StoreMode::Always)
    }

    /// Where retired ids are recorded: the revocation list, else (for sessions moving in from
    /// their cookies) the session store.
    fn records(&self) -> Option<&Arc<dyn SessionStore>> {
        self.revocation.as_ref().or(self.data())
    }

    /// Where subject generations ("log out everywhere") live: the revocation list, else the
    /// session store. `None`: `revoke_all` cannot work here.
    pub(crate) fn generations(&self) -> Option<&Arc<dyn SessionStore>> {
        self.revocation.as_ref().or(self.data())
    }

    /// Where taken flash cookies are recorded: the session store, else the revocation list.
    pub(crate) fn flash_record(&self) -> Option<&Arc<dyn SessionStore>> {
        // The session store first: flash records that anyone can cause must not crowd
        // revocations out of a bounded revocation store.
        self.data().or(self.revocation.as_ref())
    }

    /// Whether opening a session read from cookies needs a store at all.
    pub(crate) fn checks(&self, subject: Option<&Subject>) -> bool {
        self.revocation.is_some()
            || (subject.is_some() && self.generations().is_some())
            || self.moves_in()
    }

    /// Reads what decides whether `session` opens: its entry (an id cookie), its revocation
    /// records and their servers' markers, and a flash record (`flash`), in one round trip per
    /// store, the stores asked at once.
    pub(crate) async fn check(
        &self,
        keys: &Keys,
        session: &Checked,
        flash: Option<&str>,
        now: u32,
    ) -> Result<Found, StoreError> {
        // The asks, grouped by store: at most two stores (the session store and the list).
        let mut asks: Vec<Ask> = Vec::with_capacity(2);
        let mut ask = |store: &Arc<dyn SessionStore>, key: String, role: Role| match asks
            .iter_mut()
            .find(|a| Arc::ptr_eq(&a.store, store))
        {
            Some(a) => a.keys.push((key, role)),
            None => {
                // Room for the markers `with_markers` adds.
                let mut keys = Vec::with_capacity(4);
                keys.push((key, role));
                asks.push(Ask {
                    store: Arc::clone(store),
                    keys,
                });
            }
        };
        // A session in its cookies where every session lives in the store is moving in: its
        // id is looked up where retired ids are recorded.
        let moving_in = !session.in_store && self.moves_in();
        if let Some(store) = self.data().filter(|_| session.in_store) {
            ask(store, data_key(&session.meta.id), Role::Entry);
        }
        if let Some(store) = self.revocation.as_ref() {
            ask(store, revoked_key(&session.meta.id), Role::Record);
        } else if let (Some(store), true) = (self.data(), moving_in) {
            ask(store, revoked_key(&session.meta.id), Role::Record);
        }
        // The subject's record under the tag of the key that opened the session.
        if let (Some(store), Some(subject)) = (self.generations(), session.subject) {
            let key = generation_key(keys, session.key_index, &subject.tag);
            ask(store, key, Role::Generation);
        }
        if let (Some(key), Some(store)) = (flash, self.flash_record()) {
            ask(store, key.to_owned(), Role::Flash);
        }
        let mut asks: Vec<Ask> = asks.into_iter().map(Ask::with_markers).collect();
        let records_asked = asks.iter().any(|ask| {
            ask.keys
                .iter()
                .any(|(_, role)| matches!(role, Role::Record | Role::Generation))
        });
        // The previous store: in the same round trip for a session in its cookies whose records
        // are read anyway. An id cookie's entry is asked of the current store first: one that
        // moved (or was issued here) is found there, and the previous store is asked only on a
        // miss (below), or at once when it is the only place the entry can be.
        let previous_now = if session.in_store {
            self.data().is_none()
        } else {
            records_asked
        };
        if let (Some(previous), true) = (&self.previous, previous_now) {
            asks.push(self.previous_ask(previous, keys, session));
        }
        let mut found = Found::default();
        let mut records = Records::default();
        if let [ask] = asks.as_slice() {
            // One store, the common case: asked directly, without a join and without vectors
            // of key lists. (Not folded into the loop below through a common answer list: that
            // list, held across the awaits, takes the open's boxed future past the allocator's
            // per-thread cache limit.)
            let keys: SmallVec<[&str; 2]> = ask.keys.iter().map(|(key, _)| key.as_str()).collect();
            let answer = ask.store.load_many(&keys).await?;
            self.read_answer(ask, answer, session, now, &mut found, &mut records)
                .await?;
        } else {
            // Each store asked once, all at once; the calls borrow the keys built above.
            let refs: Vec<Vec<&str>> = asks
                .iter()
                .map(|ask| ask.keys.iter().map(|(key, _)| key.as_str()).collect())
                .collect();
            let answers = join_all(
                asks.iter()
                    .zip(&refs)
                    .map(|(ask, keys)| ask.store.load_many(keys))
                    .collect(),
            )
            .await;
            for (ask, answer) in asks.iter().zip(answers) {
                self.read_answer(ask, answer?, session, now, &mut found, &mut records)
                    .await?;
            }
        }
        // An id cookie whose entry is in neither the current store nor (asked above) the
        // previous one: the previous store is asked now, a second round trip on a miss only.
        if let (Some(previous), true, None, false) =
            (&self.previous, session.in_store, &found.entry, previous_now)
        {
            let ask = self.previous_ask(previous, keys, session);
            let refs: Vec<&str> = ask.keys.iter().map(|(key, _)| key.as_str()).collect();
            let answer = previous.load_many(&refs).await;
            Box::pin(self.read_answer(&ask, answer?, session, now, &mut found, &mut records))
                .await?;
        }
        // Sessions issued before this configuration, on their way in, have no records under
        // the current stores' markers: a marker written now does not end them.
        let arriving = found.from_previous || (!session.in_store && self.moves_in());
        if records.revoked {
            found.ended = Some(Ended::Revoked);
        } else if session.meta.issued_at < records.since
            && !arriving
            && self.on_loss == RevocationLoss::EndOlderSessions
        {
            found.ended = Some(Ended::RecordsLost);
        }
        if found.entry.is_some() {
            found.entry_key = asks
                .iter_mut()
                .flat_map(|ask| ask.keys.iter_mut())
                .find(|(_, role)| *role == Role::Entry)
                .map(|(key, _)| core::mem::take(key));
        }
        Ok(found)
    }

    /// What the previous store is asked about a session: its entry (an id cookie), its id on a
    /// revocation list and its subject's record, without markers (its records are read, never
    /// written, until it is removed).
    fn previous_ask(
        &self,
        previous: &Arc<dyn SessionStore>,
        keys: &Keys,
        session: &Checked,
    ) -> Ask {
        let mut asked = Vec::with_capacity(3);
        if session.in_store {
            asked.push((data_key(&session.meta.id), Role::PreviousEntry));
        }
        asked.push((revoked_key(&session.meta.id), Role::Record));
        if let Some(subject) = session.subject {
            let key = generation_key(keys, session.key_index, &subject.tag);
            asked.push((key, Role::PreviousGeneration));
        }
        Ask {
            store: Arc::clone(previous),
            keys: asked,
        }
    }

    /// Reads one store's answer into what was found.
    async fn read_answer(
        &self,
        ask: &Ask,
        values: Vec<Option<Vec<u8>>>,
        session: &Checked,
        now: u32,
        found: &mut Found,
        records: &mut Records,
    ) -> Result<(), StoreError> {
        // A store that answers fewer values than keys would silently skip checks.
        if values.len() != ask.keys.len() {
            return Err(StoreError::Protocol(format!(
                "{} values for {} keys",
                values.len(),
                ask.keys.len()
            )));
        }
        for ((key, role), value) in ask.keys.iter().zip(values) {
            match role {
                Role::Entry => found.entry = value,
                Role::PreviousEntry => {
                    if found.entry.is_none() && value.is_some() {
                        found.entry = value;
                        found.from_previous = true;
                    }
                }
                Role::Record => records.revoked |= value.is_some(),
                Role::Flash => found.flash_taken = value.is_some(),
                Role::Generation => {
                    if let Some(record) = value.as_deref().and_then(Generation::read) {
                        records.revoked |= record.revokes(&session.meta, session.subject);
                    }
                }
                Role::PreviousGeneration => {
                    if let Some(record) = value.as_deref().and_then(Generation::read) {
                        records.revoked |= record.revokes_before(&session.meta, session.subject);
                    }
                }
                Role::Marker => {
                    let since = match value.as_deref().and_then(Marker::read) {
                        Some(marker) => {
                            self.known(key, marker.since);
                            // Boxed, as `lost` below: rare, and inline their state would
                            // grow the future of every request that asks a store.
                            if now.saturating_sub(marker.refreshed) >= MARKER_REFRESH_SECS {
                                Box::pin(self.refresh_marker(&ask.store, key, marker, now)).await;
                            }
                            marker.since
                        }
                        None => Box::pin(self.lost(&ask.store, key, now)).await,
                    };
                    records.since = records.since.max(since);
                }
            }
        }
        Ok(())
    }

    /// Records when a marker's records begin, as read or written by this process.
    fn known(&self, marker: &str, since: u32) {
        let mut known = self.markers.lock().unwrap_or_else(PoisonError::into_inner);
        match known.get_mut(marker) {
            Some(known) => *known = since,
            None => {
                known.insert(marker.to_owned(), since);
            }
        }
    }

    /// A marker was missing: the server lost its records (or was never used). Writes a new one
    /// and returns when the records it guards begin: the next second, since every session
    /// issued up to now may have lost its records. Sessions this process issues in the rest of
    /// this second are stamped with that next second (see [`ensure_markers`](Self::ensure_markers)).
    async fn lost(&self, store: &Arc<dyn SessionStore>, marker: &str, now: u32) -> u32 {
        let now = now.saturating_add(1);
        let value = Marker {
            since: now,
            refreshed: now,
        }
        .bytes();
        match store
            .save(marker, &value, MARKER_TTL, Condition::Absent)
            .await
        {
            Ok(written) => {
                if written {
                    tracing::warn!(
                        marker,
                        "a revocation store server has no marker: it lost its records (a restart or a flush) or is new; sessions issued before now are not trusted"
                    );
                }
                self.known(marker, now);
            }
            Err(err) => {
                tracing::warn!(error = %err, "a revocation store marker could not be written")
            }
        }
        now
    }

    async fn refresh_marker(
        &self,
        store: &Arc<dyn SessionStore>,
        key: &str,
        marker: Marker,
        now: u32,
    ) {
        let value = Marker {
            refreshed: now,
            ..marker
        }
        .bytes();
        if let Err(err) = store
            .save(key, &value, MARKER_TTL, Condition::Present)
            .await
        {
            tracing::warn!(error = %err, "a revocation store marker could not be refreshed");
        }
    }

    /// Marks the layer's stores as in use before a session is issued under them: each server
    /// that will hold its revocation records gets its marker, unless this process already saw
    /// it. A marker written after a session was issued would end that session. Returns when
    /// the newest of those markers' records begin: a session must not be issued before it.
    pub(crate) async fn ensure_markers(
        &self,
        keys: &Keys,
        meta: &SessionMeta,
        subject: Option<&Subject>,
        now: u32,
    ) -> u32 {
        let mut wanted: Vec<(Arc<dyn SessionStore>, String)> = Vec::new();
        if let Some(store) = &self.revocation {
            wanted.push((Arc::clone(store), store.marker_key(&revoked_key(&meta.id))));
        }
        if let (Some(subject), Some(store)) = (subject, self.generations()) {
            // Sealed under the primary key: its tag is where the session's record is read.
            let key = generation_key(keys, 0, &subject.tag);
            wanted.push((Arc::clone(store), store.marker_key(&key)));
        }
        let mut since = 0;
        {
            let known = self.markers.lock().unwrap_or_else(PoisonError::into_inner);
            wanted.retain(|(_, marker)| match known.get(marker) {
                Some(&begins) => {
                    since = since.max(begins);
                    false
                }
                None => true,
            });
        }
        wanted.dedup_by(|a, b| a.1 == b.1 && Arc::ptr_eq(&a.0, &b.0));
        let value = Marker {
            since: now,
            refreshed: now,
        }
        .bytes();
        for (store, marker) in wanted {
            let written = store
                .save(&marker, &value, MARKER_TTL, Condition::Absent)
                .await;
            let begins = match written {
                // Written now: the records there begin now.
                Ok(true) => Some(now),
                // Already there (written by another instance): its own time, read once.
                Ok(false) => match store.load(&marker).await {
                    Ok(found) => Some(
                        found
                            .as_deref()
                            .and_then(Marker::read)
                            .map_or(now, |m| m.since),
                    ),
                    Err(err) => {
                        tracing::warn!(error = %err, "a revocation store marker could not be read");
                        None
                    }
                },
                Err(err) => {
                    tracing::warn!(error = %err, "a revocation store marker could not be written");
                    None
                }
            };
            if let Some(begins) = begins {
                self.known(&marker, begins);
                since = since.max(begins);
            }
        }
        since
    }

    /// Reads the current generation of `subject` ("log out everywhere"), to seal into a
    /// session named for it now.
    pub(crate) async fn generation(
        &self,
        keys: &Keys,
        subject: &[u8; SUBJECT_LEN],
    ) -> Result<Option<u64>, StoreError> {
        let Some(store) = self.generations() else {
            return Ok(None);
        };
        // Sealed under the primary key: its tag is where the session's record will be read.
        let key = generation_key(keys, 0, subject);
        Ok(store
            .load(&key)
            .await?
            .as_deref()
            .and_then(Generation::read)
            .map(|g| g.generation))
    }

    /// Logs `subject` out everywhere: a new generation under each key of the set (so sessions
    /// sealed under a fallback key stay revocable), for as long as a session can live.
    pub(crate) async fn revoke_all(
        &self,
        keys: &Keys,
        subject: &[u8; SUBJECT_LEN],
        lifetime: &Lifetime,
        now: u32,
    ) -> Result<(), StoreError> {
        let Some(store) = self.generations() else {
            return Err(StoreError::Rejected(
                "revoke_all needs a store: configure with_store, with_overflow_store or with_revocation".into(),
            ));
        };
        let mut generation = [0u8; 8];
        getrandom::fill(&mut generation)
            .map_err(|_| StoreError::Rejected("no randomness for a generation".into()))?;
        let record = Generation {
            generation: u64::from_le_bytes(generation),
            since: now,
        }
        .bytes();
        let ttl = lifetime
            .longest()
            .saturating_add(lifetime.max_skew)
            .saturating_add(Duration::from_secs(1));
        for key in generation_keys(keys, subject) {
            store.save(&key, &record, ttl, Condition::Always).await?;
        }
        Ok(())
    }

    /// Runs the operations that end the request's session, before anything new is handed out.
    /// `Err`: a logout that did not take effect. `Ok(false)`: an [`exclusive`](Retire::exclusive)
    /// record was there already: another request ended the session first.
    pub(crate) async fn retire(&self, retire: &Retire) -> Result<bool, StoreError> {
        // The previous store first, then the current one: a request moving the session in
        // writes the current store first and then claims the previous entry, so whichever
        // order the two run in, the session does not outlive its logout.
        let stores = self.previous.iter().chain(self.data());
        if let Some(key) = &retire.entry {
            for store in stores {
                store.delete(key).await.inspect_err(|err| {
                    tracing::error!(error = %err, "a logged-out session entry could not be deleted");
                })?;
            }
        }
        let mut first = true;
        if let (Some((key, ttl)), Some(store)) = (&retire.revoke, self.records()) {
            let condition = if retire.exclusive {
                Condition::Absent
            } else {
                Condition::Always
            };
            first = store
                .save(key, b"1", *ttl, condition)
                .await
                .inspect_err(|err| {
                    tracing::error!(error = %err, "a logged-out session could not be revoked");
                })?;
        }
        // A move's retire is not a logout.
        if !retire.is_empty() && !retire.exclusive {
            crate::metrics::session_revoked();
        }
        Ok(first || !retire.exclusive)
    }

    /// Saves a session's sealed entry. `Ok(false)`: its entry was gone (a logout or a
    /// regenerate elsewhere ended it meanwhile), and nothing was written.
    pub(crate) async fn save(&self, save: &Save, sealed: &[u8]) -> Result<bool, StoreError> {
        let Some(store) = self.data() else {
            return Ok(false);
        };
        store
            .save(&save.key, sealed, save.ttl, save.condition)
            .await
    }

    /// Deletes an entry the session no longer uses (it moved back into its cookies, or out of
    /// the previous store); a failure only leaves an entry that expires with its TTL.
    pub(crate) async fn clean_up(&self, key: &str, place: Where) {
        if let Some(store) = self.at(place)
            && let Err(err) = store.delete(key).await
        {
            tracing::warn!(error = %err, "an old session entry could not be deleted");
        }
    }

    fn at(&self, place: Where) -> Option<&Arc<dyn SessionStore>> {
        match place {
            Where::Current => self.data(),
            Where::Previous => self.previous.as_ref(),
        }
    }

    /// Claims a session's entry for a move out of `place`: replaces it with [`MOVED`] for a
    /// second, if it is still there. `Ok(false)`: it is gone (a logout meanwhile).
    pub(crate) async fn claim(&self, key: &str, place: Where) -> Result<bool, StoreError> {
        let Some(store) = self.at(place) else {
            return Ok(false);
        };
        store
            .save(key, MOVED, Duration::from_secs(1), Condition::Present)
            .await
    }

    /// Undoes a move into the current store whose claim on the previous entry failed.
    pub(crate) async fn undo_move(&self, key: &str) -> Result<(), StoreError> {
        match self.data() {
            Some(store) => store.delete(key).await,
            None => Ok(()),
        }
    }

    /// Records a taken flash cookie; a failure only lets a replayed copy show again.
    pub(crate) async fn record_flash(&self, key: &str, ttl: Duration) {
        if let Some(store) = self.flash_record()
            && let Err(err) = store.save(key, b"1", ttl, Condition::Always).await
        {
            tracing::warn!(error = %err, "a taken flash could not be recorded");
        }
    }
}

/// What a response's store work is, planned by the lifecycle when the handler is done.
#[derive(Debug, Default)]
pub(crate) struct Plan {
    /// Ends the session the request came with: must succeed before anything is handed out.
    pub(crate) retire: Retire,
    /// An entry to delete whose failure is only logged, and where.
    pub(crate) clean_up: Option<(String, Where)>,
    /// A subject whose generation must be read before the session is sealed.
    pub(crate) learn_generation: Option<[u8; SUBJECT_LEN]>,
    /// A new session: the markers of its servers must be in place first.
    pub(crate) ensure_markers: bool,
    /// A taken flash cookie to record, and for how long.
    pub(crate) taken_flash: Option<(String, Duration)>,
}

impl Plan {
    /// Whether the response has store work at all.
    pub(crate) fn is_empty(&self) -> bool {
        self.retire.is_empty()
            && self.clean_up.is_none()
            && self.learn_generation.is_none()
            && !self.ensure_markers
            && self.taken_flash.is_none()
    }
}

/// The store work that ends a session.
#[derive(Debug, Default)]
pub(crate) struct Retire {
    /// Its entry in the session store.
    pub(crate) entry: Option<String>,
    /// Its id on the revocation list, until it would have expired anyway.
    pub(crate) revoke: Option<(String, Duration)>,
    /// Retired by a move, not a logout: the record must not be there yet (if it is, a logout
    /// ended the session first, and the move is dropped).
    pub(crate) exclusive: bool,
}

impl Retire {
    pub(crate) fn is_empty(&self) -> bool {
        self.entry.is_none() && self.revoke.is_none()
    }
}

/// A save of a session's entry.
#[derive(Debug)]
pub(crate) struct Save {
    pub(crate) key: String,
    pub(crate) ttl: Duration,
    /// [`Condition::Absent`] for a new id, [`Condition::Present`] for the entry the request
    /// came with: nothing re-creates an entry a logout deleted.
    pub(crate) condition: Condition,
}

/// Which of the layer's session stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Where {
    Current,
    Previous,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Entry,
    /// The entry in the previous store, used if the current store has none.
    PreviousEntry,
    Record,
    Generation,
    /// A subject's record in the previous store.
    PreviousGeneration,
    Flash,
    Marker,
}

/// What a session's records said, across the stores asked.
#[derive(Debug, Default)]
struct Records {
    revoked: bool,
    /// When the records of the current stores' servers begin (their markers).
    since: u32,
}

/// The keys asked of one store in one call.
struct Ask {
    store: Arc<dyn SessionStore>,
    keys: Vec<(String, Role)>,
}

impl Ask {
    /// Adds the markers of the servers holding this ask's revocation records.
    fn with_markers(mut self) -> Self {
        let mut markers: Vec<String> = Vec::new();
        for (key, role) in &self.keys {
            if matches!(role, Role::Record | Role::Generation) {
                let marker = self.store.marker_key(key);
                if !markers.contains(&marker) {
                    markers.push(marker);
                }
            }
        }
        self.keys
            .extend(markers.into_iter().map(|m| (m, Role::Marker)));
        self
    }
}

/// A subject's record of its last "log out everywhere".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Generation {
    generation: u64,
    since: u32,
}

impl Generation {
    fn bytes(self) -> [u8; 12] {
        let mut out = [0u8; 12];
        out[..8].copy_from_slice(&self.generation.to_le_bytes());
        out[8..].copy_from_slice(&self.since.to_le_bytes());
        out
    }

    fn read(bytes: &[u8]) -> Option<Self> {
        let bytes: &[u8; 12] = bytes.try_into().ok()?;
        Some(Generation {
            generation: u64::from_le_bytes(bytes[..8].try_into().ok()?),
            since: u32::from_le_bytes(bytes[8..].try_into().ok()?),
        })
    }

    /// Whether a record in the previous store ends a session: one issued before it, unless
    /// sealed with its generation. Unlike [`revokes`](Self::revokes), a session sealed with
    /// another generation is not ended by it: that generation may be the current store's.
    fn revokes_before(&self, meta: &SessionMeta, subject: Option<Subject>) -> bool {
        subject.and_then(|s| s.generation) != Some(self.generation) && meta.issued_at <= self.since
    }

    /// Whether this record ends a session: one sealed with a generation must carry this one;
    /// one sealed without (issued while the subject had no record, or by an older version)
    /// must have been issued after it.
    fn revokes(&self, meta: &SessionMeta, subject: Option<Subject>) -> bool {
        match subject.and_then(|s| s.generation) {
            Some(generation) => generation != self.generation,
            None => meta.issued_at <= self.since,
        }
    }
}

/// A server's marker: when the records it guards began, and when it was last rewritten.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Marker {
    since: u32,
    refreshed: u32,
}

impl Marker {
    fn bytes(self) -> [u8; 8] {
        let mut out = [0u8; 8];
        out[..4].copy_from_slice(&self.since.to_le_bytes());
        out[4..].copy_from_slice(&self.refreshed.to_le_bytes());
        out
    }

    fn read(bytes: &[u8]) -> Option<Self> {
        let bytes: &[u8; 8] = bytes.try_into().ok()?;
        Some(Marker {
            since: u32::from_le_bytes(bytes[..4].try_into().ok()?),
            refreshed: u32::from_le_bytes(bytes[4..].try_into().ok()?),
        })
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// `prefix` then the 16 bytes of `tag` in hex.
fn hex_key(prefix: &str, tag: &[u8]) -> String {
    let mut out = String::with_capacity(prefix.len() + 32);
    out.push_str(prefix);
    // By hand: a `format!` per byte was half of the layer's own work on a store read.
    for byte in &tag[..16] {
        out.push(char::from(HEX[usize::from(byte >> 4)]));
        out.push(char::from(HEX[usize::from(byte & 0x0f)]));
    }
    out
}

/// An unkeyed tag (SHA-256 under a label): for random ids, which nobody can guess.
pub(crate) fn tag(label: &[u8], bytes: &[u8]) -> [u8; 32] {
    Sha256::new()
        .chain_update(label)
        .chain_update(bytes)
        .finalize()
        .into()
}

/// The store key of a session's data.
pub(crate) fn data_key(id: &SessionId) -> String {
    hex_key("s:", &tag(b"session-runtime v1 store key", &id.0))
}

/// A session's data key made earlier in the request, with the id it was made from.
pub(crate) type KeptKey = (SessionId, String);

/// The store key of a session's data: `kept` when it was made from `id`, else made now.
pub(crate) fn data_key_kept(kept: Option<KeptKey>, id: &SessionId) -> String {
    match kept {
        Some((from, key)) if from == *id => {
            debug_assert_eq!(key, data_key(id), "a kept key is the id's");
            key
        }
        _ => data_key(id),
    }
}

/// The revocation-list key of a session id.
pub(crate) fn revoked_key(id: &SessionId) -> String {
    hex_key("r:", &tag(b"session-runtime v1 revoked id", &id.0))
}

/// The record of a taken flash cookie, by the cookie's id.
pub(crate) fn taken_flash_key(id: &SessionId) -> String {
    hex_key("f:", &tag(b"session-runtime v1 taken flash", &id.0))
}

const GENERATION_LABEL: &[u8] = b"session-runtime v2 subject generation";

/// The generation keys of a subject tag, one per key of the set (primary first): keyed tags.
pub(crate) fn generation_keys(keys: &Keys, subject: &[u8; SUBJECT_LEN]) -> Vec<String> {
    keys.tags(GENERATION_LABEL, subject)
        .map(|tag| hex_key("g:", &tag))
        .collect()
}

/// The generation key of a subject tag under the key at `index` in the set.
pub(crate) fn generation_key(keys: &Keys, index: usize, subject: &[u8; SUBJECT_LEN]) -> String {
    hex_key("g:", &keys.tag(index, GENERATION_LABEL, subject))
}

/// The subject tag sealed into a session's header: a one-way hash of what the application
/// names (a user id), so the cookie never carries it in the clear even to the key holder's logs.
pub(crate) fn subject_tag(subject: &str) -> [u8; SUBJECT_LEN] {
    let digest = tag(b"session-runtime v1 subject", subject.as_bytes());
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
        // Refused by the builder with a store or a revocation list; a flash has its own.
        (None, None) => lifetime.longest(),
    };
    // A timestamp sealed by an instance whose clock runs ahead (within the allowed skew) keeps
    // the cookie valid that much longer than `now` suggests; and a cookie is still valid in
    // the second its limit is reached. The entry outlives both.
    let ahead = meta.issued_at.max(meta.last_access).saturating_sub(now);
    ttl.saturating_add(Duration::from_secs(u64::from(ahead) + 1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::Key;

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

    #[test]
    fn generation_keys_differ_between_applications_and_cover_every_key() {
        let (a, b) = (Key::generate(), Key::generate());
        let subject = subject_tag("alice");
        let one = generation_keys(&Keys::new(a.clone()), &subject);
        let other = generation_keys(&Keys::new(b.clone()), &subject);
        assert_eq!(one.len(), 1);
        assert_ne!(one, other, "two keys, two tags");
        let both = generation_keys(&Keys::new(b).with_fallback(a), &subject);
        assert_eq!(both, [other[0].clone(), one[0].clone()]);
        assert!(
            !one[0].contains(
                &Sha256::digest(subject)
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect::<String>()[..8]
            )
        );
    }

    #[test]
    fn a_generation_record_ends_sessions_issued_under_another_generation() {
        let meta = SessionMeta {
            id: SessionId([1; 16]),
            issued_at: 100,
            last_access: 100,
        };
        let record = Generation {
            generation: 9,
            since: 100,
        };
        let tag = [3; SUBJECT_LEN];
        let sealed = |generation| Some(Subject { tag, generation });
        assert!(!record.revokes(&meta, sealed(Some(9))), "issued under it");
        assert!(
            record.revokes(&meta, sealed(Some(8))),
            "issued under an older one"
        );
        assert!(
            record.revokes(&meta, sealed(None)),
            "no generation: the same second counts as before"
        );
        let later = SessionMeta {
            issued_at: 101,
            ..meta
        };
        assert!(!record.revokes(&later, sealed(None)));
        assert_eq!(Generation::read(&record.bytes()), Some(record));
    }
}
