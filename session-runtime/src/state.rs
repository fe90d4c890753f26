//! The per-request session state: what the request brought, what the handler did with it, and
//! the one decision made from both — whether the response writes, removes or leaves the cookies.
//!
//! Loading (cookies → [`Codec`] → value) and saving (value → [`Codec`] → Set-Cookie) both go
//! through this module, once per request; the service and the extractors only call it.

use core::fmt;
use core::ops::Range;
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use http::header::{CACHE_CONTROL, COOKIE, Entry, SET_COOKIE, VARY};
use http::{HeaderMap, HeaderValue};
use zeroize::{Zeroize as _, Zeroizing};

use crate::chunk;
use crate::clock::Clock;
use crate::codec::{Codec, Form, Opened, Reseal, Scratch, Unsealed};
use crate::config::Config;
use crate::envelope::{SUBJECT_LEN, SessionMeta};
use crate::error::{OpenError, SessionError};
use crate::flash::FlashState;
use crate::schema::CookieSession;
use crate::storage::{self, Pending, Storage, StoreFailure, StoreMode};
use crate::store::{SessionStore, StoreError};

/// What the layer does with an incoming session cookie that does not open: tampered, truncated,
/// sealed under an unknown key, or written by a newer schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum BadCookiePolicy {
    /// Start a fresh session, log the reason, and expire the bad cookies in the response
    /// (the default: a user with a stale cookie simply appears logged out).
    #[default]
    FreshSession,
    /// Reject the request with `400 Bad Request` when a handler extracts the session.
    ///
    /// The 400 response still expires the bad cookies, so the client recovers on its next
    /// request. Handlers that never extract the session are not affected. Expired sessions are
    /// treated as fresh ones: expiry is the normal end of a session, not an attack.
    Reject,
}

/// A hook run on the session value, with its meta.
pub(crate) type Hook<T> = Arc<dyn Fn(&mut T, &SessionMeta) + Send + Sync>;

/// Everything a request needs from its layer, built once by the layer.
pub(crate) struct Shared<T> {
    pub(crate) config: Config,
    pub(crate) writer: Writer<T>,
    pub(crate) codec: Codec,
    pub(crate) flash_codec: Codec,
    pub(crate) policy: BadCookiePolicy,
    pub(crate) storage: Storage,
    pub(crate) clock: Clock,
    pub(crate) on_restored: Vec<Hook<T>>,
    pub(crate) before_save: Vec<Hook<T>>,
}

/// Seals `value` in one of its forms into a buffer; returns the cookie count.
type SealFn<T> = dyn Fn(
        &Codec,
        &T,
        &SessionMeta,
        Option<[u8; SUBJECT_LEN]>,
        Form,
        &mut Vec<u8>,
    ) -> Result<u8, SessionError>
    + Send
    + Sync;

/// The schema version the layer writes: the current one, or during a rolling deploy the
/// previous one, through the application's down-migration.
pub(crate) struct Writer<T> {
    pub(crate) version: u16,
    pub(crate) downgrade: Option<Arc<SealFn<T>>>,
}

impl<T: CookieSession> Writer<T> {
    pub(crate) fn current() -> Self {
        Writer {
            version: T::VERSION,
            downgrade: None,
        }
    }

    pub(crate) fn seal(
        &self,
        codec: &Codec,
        value: &T,
        meta: &SessionMeta,
        subject: Option<[u8; SUBJECT_LEN]>,
        form: Form,
        buf: &mut Vec<u8>,
    ) -> Result<u8, SessionError> {
        match &self.downgrade {
            Some(seal) => seal(codec, value, meta, subject, form, buf),
            None => codec.seal_form(value, meta, subject, form, buf),
        }
    }
}

/// One request's state, shared between the service and the extractors through the request
/// extensions.
pub(crate) struct Handle<T> {
    inner: Arc<HandleInner<T>>,
}

struct HandleInner<T> {
    shared: Arc<Shared<T>>,
    state: RwLock<RequestState<T>>,
}

impl<T> Clone for Handle<T> {
    fn clone(&self) -> Self {
        Handle {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<T> fmt::Debug for Handle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle").finish_non_exhaustive()
    }
}

pub(crate) struct RequestState<T> {
    pub(crate) now: u32,
    pub(crate) session: SessionState<T>,
    pub(crate) flash: FlashState,
}

/// The session through one request.
pub(crate) enum SessionState<T> {
    /// No extractor has asked: nothing decoded, nothing written.
    Unopened,
    /// Opened, and the request had no session (`rejected`: it had cookies that did not open).
    /// The read-only extractor sees "no session"; [`Session`](crate::Session) makes it
    /// [`Present`](Self::Present) with a default value.
    Absent { rejected: bool },
    /// A value the handler can read and change.
    Present(Loaded<T>),
}

pub(crate) struct Loaded<T> {
    pub(crate) value: T,
    pub(crate) meta: SessionMeta,
    /// The subject tag sealed with the session ("log out everywhere").
    pub(crate) subject: Option<[u8; SUBJECT_LEN]>,
    pub(crate) origin: Origin,
    /// The meta the session was loaded with, if it came from the request: its id is deleted or
    /// revoked when the request moves the session to another id or logs out.
    pub(crate) loaded: Option<SessionMeta>,
    pub(crate) change: Change,
    /// The postcard encoding of `value` as it stands, when known: what a refused change rolls
    /// back to, and the payload a save seals without encoding the value again. Whatever
    /// changes `value` other than [`Session::update`](crate::Session::update) and
    /// [`Session::insert`](crate::Session::insert) sets it to `None`.
    pub(crate) encoded: Option<Encoded>,
}

/// A value's postcard encoding, zeroized when dropped.
pub(crate) type Encoded = Zeroizing<Vec<u8>>;

/// Keeps the payload of a decrypted envelope in its own buffer: moved to the front, the rest
/// (header, padding, tag) zeroized and cut.
fn keep_payload(mut buf: Encoded, payload: Range<usize>) -> Encoded {
    let len = payload.len();
    buf.copy_within(payload, 0);
    buf[len..].zeroize();
    buf.truncate(len);
    buf
}

/// What the request brought.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Origin {
    /// No session cookie.
    Nothing,
    /// Session cookies that did not open: removed unless the response writes a new session.
    Rejected,
    /// A session sealed in `chunks` cookies.
    Cookie { chunks: u8, reseal: Reseal },
    /// A session in the store, found through its id cookie.
    Store { reseal: Reseal },
}

impl Origin {
    fn cookie<T>(opened: &Opened<T>) -> Self {
        Origin::Cookie {
            chunks: opened.chunks,
            reseal: opened.reseal,
        }
    }
}

/// What the handler did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Change {
    Untouched,
    Modified,
    /// Logged out: the cookies are removed (a later change starts a new session).
    Cleared,
    /// A change panicked half-way: the value is not trusted and nothing is written.
    Poisoned,
}

/// What the response does with the session cookies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Nothing,
    Write,
    Remove,
}

impl<T> RequestState<T> {
    fn outcome(&self, codec: &Codec, writer: &Writer<T>) -> Outcome {
        let loaded = match &self.session {
            SessionState::Unopened | SessionState::Absent { rejected: false } => {
                return Outcome::Nothing;
            }
            SessionState::Absent { rejected: true } => return Outcome::Remove,
            SessionState::Present(loaded) => loaded,
        };
        match (loaded.change, loaded.origin) {
            (Change::Poisoned, _) => Outcome::Nothing,
            (Change::Modified, _) => Outcome::Write,
            (Change::Cleared, _) | (Change::Untouched, Origin::Rejected) => Outcome::Remove,
            (Change::Untouched, Origin::Nothing) => Outcome::Nothing,
            (Change::Untouched, Origin::Cookie { reseal, .. } | Origin::Store { reseal }) => {
                // A session written by an older schema is re-sealed as the version this
                // instance writes, which is older than the current one in a rolling deploy.
                let migrate = reseal
                    .migrated_from
                    .is_some_and(|from| from != writer.version);
                if reseal.fallback_key
                    || migrate
                    || codec.lifetime().refresh_due(&loaded.meta, self.now)
                {
                    Outcome::Write
                } else {
                    Outcome::Nothing
                }
            }
        }
    }
}

impl<T: CookieSession> Handle<T> {
    pub(crate) fn new(shared: Arc<Shared<T>>) -> Self {
        Handle {
            inner: Arc::new(HandleInner {
                shared,
                state: RwLock::new(RequestState {
                    now: 0,
                    session: SessionState::Unopened,
                    flash: FlashState::default(),
                }),
            }),
        }
    }

    pub(crate) fn shared(&self) -> &Shared<T> {
        &self.inner.shared
    }

    pub(crate) fn lock(&self) -> RwLockWriteGuard<'_, RequestState<T>> {
        // A change that panicked marks the session poisoned before unwinding (see
        // `Session::update`), so a poisoned lock holds nothing that could be sealed.
        self.inner
            .state
            .write()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Shared access: any number of readers at once.
    pub(crate) fn read(&self) -> RwLockReadGuard<'_, RequestState<T>> {
        self.inner
            .state
            .read()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Opens the session from the request's cookies (and its store, for an id cookie), once
    /// per request, scanning the `Cookie` headers once for the session and the flash cookie.
    ///
    /// Errors only under [`BadCookiePolicy::Reject`] or [`StoreFailure::FailClosed`];
    /// otherwise a bad cookie is logged and the session starts fresh. Either way the bad cookies
    /// are removed in the response.
    pub(crate) async fn load(&self, headers: &HeaderMap) -> Result<(), LoadError> {
        let shared = self.shared();
        let (now, unsealed, mut flash_check) = {
            let mut state = self.lock();
            if !matches!(state.session, SessionState::Unopened) {
                return Ok(());
            }
            let now = shared.clock.now();
            state.now = now;
            let mut session = shared.codec.chunker().gatherer();
            let mut flash = shared.flash_codec.chunker().gatherer();
            let values = headers.get_all(COOKIE);
            for (name, value) in chunk::cookie_pairs(values.iter().map(HeaderValue::as_bytes)) {
                session.offer(name, value);
                flash.offer(name, value);
            }
            state
                .flash
                .incoming(&shared.flash_codec, flash.finish(), now);
            let flash_id = state.flash.opened_id();
            let mut buf = Zeroizing::new(Vec::new());
            let unsealed = session.finish().and_then(|gathered| {
                gathered
                    .map(|g| shared.codec.open_gathered_at::<T>(&g, now, &mut buf))
                    .transpose()
            });
            let unsealed = unsealed.map(|opened| {
                opened.map(|(unsealed, payload)| {
                    let encoded = match &unsealed {
                        // The decrypted payload is the value's encoding as it stands, unless a
                        // migration or a hook changes the value: kept, it spares the first
                        // change an encoding of its own (see `Session::update`).
                        Unsealed::Value(opened)
                            if opened.reseal.migrated_from.is_none()
                                && shared.on_restored.is_empty() =>
                        {
                            Some(keep_payload(buf, payload))
                        }
                        _ => None,
                    };
                    (unsealed, encoded)
                })
            });
            let flash_check = match (flash_id, shared.storage.flash_record()) {
                (Some(id), Some(record)) => FlashCheck::Pending {
                    record: Arc::clone(record),
                    key: storage::taken_flash_key(&id),
                },
                _ => FlashCheck::Done(false),
            };
            (now, unsealed, flash_check)
        };
        let resolved = match unsealed {
            Ok(None) => Ok(None),
            // A session in its cookies with no revocation list to ask: nothing to await.
            Ok(Some((Unsealed::Value(opened), encoded))) if shared.storage.revocation.is_none() => {
                let origin = Origin::cookie(&opened);
                Ok(Some(self.restored(opened, origin, encoded)))
            }
            // Boxed, so that a request that never reaches a store does not carry (and move) the
            // state of that await in every future built around this one.
            Ok(Some((unsealed, encoded))) => {
                Box::pin(self.resolve(unsealed, encoded, now, &mut flash_check)).await
            }
            Err(err) => Err(LoadError::Bad(err)),
        };
        let replayed = match flash_check {
            // Answered with the session's own store call, or by a store already found down
            // (not asked again, and waited for twice).
            FlashCheck::Done(replayed) => replayed,
            FlashCheck::Pending { record, key } => {
                Box::pin(flash_taken_before(&*record, &key)).await
            }
        };
        let mut state = self.lock();
        if !matches!(state.session, SessionState::Unopened) {
            return Ok(());
        }
        if replayed {
            state.flash.replayed();
        }
        match resolved {
            Ok(Some(loaded)) => state.session = SessionState::Present(loaded),
            Ok(None) => state.session = SessionState::Absent { rejected: false },
            Err(LoadError::StoreDown(err)) => {
                state.session = SessionState::Absent { rejected: false };
                return Err(LoadError::StoreDown(err));
            }
            Err(LoadError::Bad(err)) => {
                let name = shared.codec.chunker().name();
                let ended = matches!(err, OpenError::Expired(_) | OpenError::Revoked);
                if ended {
                    tracing::debug!(cookie = name, reason = err.reason(), "session ended");
                } else {
                    tracing::warn!(
                        cookie = name,
                        reason = err.reason(),
                        "session cookie rejected"
                    );
                }
                // Two cookies of one name that differ in Path or Domain (a cookie tossed by a
                // sibling subdomain): a removal can name only ours, and the planted one would
                // then open alone. Remove nothing; the request still gets no session.
                let duplicate = matches!(err, OpenError::DuplicateChunk { .. });
                state.session = SessionState::Absent {
                    rejected: !duplicate,
                };
                if shared.policy == BadCookiePolicy::Reject && !ended {
                    return Err(LoadError::Bad(err));
                }
            }
        }
        Ok(())
    }

    /// Follows an id cookie into the store and checks revocation.
    ///
    /// A pending flash check rides on the first call to the store that holds the record.
    async fn resolve(
        &self,
        unsealed: Unsealed<T>,
        mut encoded: Option<Encoded>,
        now: u32,
        flash: &mut FlashCheck,
    ) -> Result<Option<Loaded<T>>, LoadError> {
        let shared = self.shared();
        let storage = &shared.storage;
        let (opened, origin) = match unsealed {
            Unsealed::Value(opened) => {
                let origin = Origin::cookie(&opened);
                (opened, origin)
            }
            Unsealed::InStore { meta, fallback_key } => {
                let Some((store, _)) = &storage.store else {
                    return Err(LoadError::Bad(OpenError::Malformed));
                };
                let data_key = storage::data_key(&meta.id);
                let found =
                    match flash.pending_on(store) {
                        Some(flash_key) => store
                            .load_many(&[data_key.as_str(), flash_key])
                            .await
                            .map(|mut found| {
                                flash.done(found.get(1).is_some_and(Option::is_some));
                                found.swap_remove(0)
                            }),
                        None => store.load(&data_key).await,
                    };
                let found = match found {
                    Ok(found) => found,
                    Err(err) => {
                        flash.done(false);
                        return self.store_failed(err).map(|()| None);
                    }
                };
                let Some(bytes) = found else {
                    return Err(LoadError::Bad(OpenError::Revoked));
                };
                let mut bytes = Zeroizing::new(bytes);
                let opened = match shared.codec.open_envelope::<T>(&mut bytes, 1, now) {
                    Ok(Unsealed::Value(opened)) if opened.meta.id == meta.id => opened,
                    Ok(_) => return Err(LoadError::Bad(OpenError::Tampered)),
                    Err(err) => return Err(LoadError::Bad(err)),
                };
                let reseal = Reseal {
                    fallback_key: fallback_key || opened.reseal.fallback_key,
                    ..opened.reseal
                };
                encoded = None;
                (opened, Origin::Store { reseal })
            }
        };
        if let Some(revocation) = &storage.revocation {
            let also = flash.pending_on(revocation);
            let checked =
                storage::is_revoked(&**revocation, &opened.meta, opened.subject.as_ref(), also)
                    .await;
            match checked {
                Ok((revoked, flash_found)) => {
                    if let Some(found) = flash_found {
                        flash.done(found);
                    }
                    if revoked {
                        return Err(LoadError::Bad(OpenError::Revoked));
                    }
                }
                Err(err) => {
                    flash.done(false);
                    self.store_failed(err)?;
                }
            }
        }
        Ok(Some(self.restored(opened, origin, encoded)))
    }

    /// A store call failed while loading: fail open (log, go on) or closed (503).
    fn store_failed(&self, err: StoreError) -> Result<(), LoadError> {
        match self.shared().storage.on_failure {
            StoreFailure::FailClosed => {
                tracing::error!(error = %err, "session store unavailable; refusing the request");
                Err(LoadError::StoreDown(err))
            }
            _ => {
                tracing::warn!(error = %err, "session store unavailable; going on with a fresh session");
                Ok(())
            }
        }
    }

    fn restored(
        &self,
        mut opened: Opened<T>,
        origin: Origin,
        encoded: Option<Encoded>,
    ) -> Loaded<T> {
        let shared = self.shared();
        let name = shared.codec.chunker().name();
        if let Some(from) = opened.reseal.migrated_from {
            tracing::info!(
                cookie = name,
                schema = T::NAME,
                from,
                to = T::VERSION,
                "session migrated to the current schema; re-sealing"
            );
        }
        if opened.reseal.fallback_key {
            tracing::info!(
                cookie = name,
                "session opened with a fallback key; re-sealing with the primary key"
            );
        }
        for hook in &shared.on_restored {
            hook(&mut opened.value, &opened.meta);
        }
        Loaded {
            value: opened.value,
            meta: opened.meta,
            subject: opened.subject,
            origin,
            loaded: Some(opened.meta),
            change: Change::Untouched,
            encoded,
        }
    }

    /// Writes whatever the response needs: new cookies, refreshed cookies, removals. Store
    /// work, if any, is returned for the response future to await.
    pub(crate) fn finish(&self, headers: &mut HeaderMap) -> Option<Pending> {
        let mut state = self.lock();
        let state = &mut *state;
        let shared = self.shared();
        let mut pending = match state.outcome(&shared.codec, &shared.writer) {
            Outcome::Nothing => None,
            Outcome::Remove => self.remove(state, headers),
            Outcome::Write => match &mut state.session {
                SessionState::Present(loaded) => self.save(loaded, state.now, headers),
                _ => None,
            },
        };
        let consumed = match pending {
            None => state.flash.finish(&shared.flash_codec, state.now, headers),
            // The store's answer decides whether the response stands: the flash cookie waits
            // for it (see `Pending::flash_lines`).
            Some(ref mut pending) => {
                let mut lines = HeaderMap::new();
                let consumed = state
                    .flash
                    .finish(&shared.flash_codec, state.now, &mut lines);
                pending.flash_lines = lines.get_all(SET_COOKIE).iter().cloned().collect();
                consumed
            }
        };
        let record = shared.storage.flash_record();
        match (consumed, record) {
            (Some(consumed), Some(record)) => {
                let mut pending = pending.unwrap_or_else(|| Pending::nothing(None));
                pending.taken_flash = Some((
                    Arc::clone(record),
                    storage::taken_flash_key(&consumed.id),
                    consumed.ttl,
                ));
                Some(pending)
            }
            _ => pending,
        }
    }

    fn remove(&self, state: &RequestState<T>, headers: &mut HeaderMap) -> Option<Pending> {
        let shared = self.shared();
        shared.codec.remove(headers);
        let SessionState::Present(loaded) = &state.session else {
            return None;
        };
        let pending = self.retire(loaded, state.now, Vec::new());
        (pending.delete.is_some() || pending.revoke.is_some()).then_some(pending)
    }

    /// The store work that ends the session the request came with, when it was cleared or
    /// moved to another id: its store entry is deleted and, with a revocation list, its id
    /// revoked until it would have expired anyway.
    fn retire(&self, loaded: &Loaded<T>, now: u32, on_success: Vec<HeaderValue>) -> Pending {
        let shared = self.shared();
        let storage = &shared.storage;
        let mut pending = Pending::nothing(storage.store.as_ref().map(|(s, _)| Arc::clone(s)));
        pending.on_success = on_success;
        let Some(old) = loaded.loaded else {
            return pending;
        };
        let moved = old.id != loaded.meta.id || loaded.change == Change::Cleared;
        if !moved {
            return pending;
        }
        if matches!(loaded.origin, Origin::Store { .. }) || loaded.change == Change::Cleared {
            pending.delete = storage.store.as_ref().map(|_| storage::data_key(&old.id));
        }
        if let Some(revocation) = &storage.revocation {
            let ttl = storage::remaining(shared.codec.lifetime(), &old, now);
            pending.revoke = Some((Arc::clone(revocation), storage::revoked_key(&old.id), ttl));
        }
        pending
    }

    fn save(&self, loaded: &mut Loaded<T>, now: u32, headers: &mut HeaderMap) -> Option<Pending> {
        let shared = self.shared();
        let codec = &shared.codec;
        loaded.meta.last_access = now;
        if !shared.before_save.is_empty() {
            loaded.encoded = None;
        }
        for hook in &shared.before_save {
            hook(&mut loaded.value, &loaded.meta);
        }
        let mode = shared.storage.store.as_ref().map(|(_, mode)| *mode);
        if mode != Some(StoreMode::Always) {
            let mut scratch = Scratch::take();
            let buf = scratch.sealing();
            let sealed = match (&loaded.encoded, &shared.writer.downgrade) {
                // Encoded by the change that made this save, or as it came in: sealed as is.
                (Some(payload), None) => {
                    codec.seal_encoded(T::VERSION, payload, &loaded.meta, loaded.subject, buf)
                }
                _ => shared.writer.seal(
                    codec,
                    &loaded.value,
                    &loaded.meta,
                    loaded.subject,
                    Form::Cookie,
                    buf,
                ),
            };
            let written =
                sealed.and_then(|chunks| codec.write_sealed(scratch.sealed(), chunks, headers));
            match written {
                Ok(used) => {
                    let total = codec.capacity_total();
                    if used * 10 >= total * 9 {
                        tracing::warn!(
                            cookie = codec.chunker().name(),
                            schema = T::NAME,
                            used,
                            total,
                            "session is near its cookie budget"
                        );
                    }
                    // Back in cookies: a spilled entry (or the old id's) is deleted.
                    let mut pending = self.retire(loaded, now, Vec::new());
                    if matches!(loaded.origin, Origin::Store { .. })
                        && let Some(old) = loaded.loaded
                    {
                        pending.delete = Some(storage::data_key(&old.id));
                    }
                    return (pending.delete.is_some() || pending.revoke.is_some())
                        .then_some(pending);
                }
                Err(SessionError::TooLarge { .. }) if mode == Some(StoreMode::Overflow) => {}
                Err(err) => {
                    tracing::error!(
                        cookie = codec.chunker().name(),
                        schema = T::NAME,
                        error = %err,
                        "session could not be saved; the previous cookie stays in place"
                    );
                    return None;
                }
            }
        }
        match self.store_form(loaded, now) {
            Ok(pending) => Some(pending),
            Err(err) => {
                tracing::error!(
                    schema = T::NAME,
                    error = %err,
                    "session could not be sealed for the store; the previous session stays"
                );
                None
            }
        }
    }

    /// The store save of a session, with its id cookie when the cookie must change.
    fn store_form(&self, loaded: &Loaded<T>, now: u32) -> Result<Pending, SessionError> {
        let shared = self.shared();
        let codec = &shared.codec;
        let mut sealed = Vec::with_capacity(256);
        let writer = &shared.writer;
        writer.seal(
            codec,
            &loaded.value,
            &loaded.meta,
            loaded.subject,
            Form::Stored,
            &mut sealed,
        )?;
        let id_changed = loaded.loaded.is_none_or(|old| old.id != loaded.meta.id);
        let reseal = match loaded.origin {
            Origin::Store { reseal } => reseal.fallback_key,
            _ => true,
        };
        let mut id_cookie = Vec::new();
        if id_changed || reseal {
            let mut buf = Vec::with_capacity(96);
            writer.seal(
                codec,
                &loaded.value,
                &loaded.meta,
                loaded.subject,
                Form::Id,
                &mut buf,
            )?;
            id_cookie = codec.lines(&buf, 1)?;
        }
        let mut pending = self.retire(loaded, now, id_cookie);
        let ttl = storage::remaining(codec.lifetime(), &loaded.meta, now);
        pending.save = Some((storage::data_key(&loaded.meta.id), sealed, ttl));
        Ok(pending)
    }
}

/// Why the session could not be loaded.
#[derive(Debug)]
pub(crate) enum LoadError {
    /// The cookie did not open, under [`BadCookiePolicy::Reject`].
    Bad(OpenError),
    /// The store failed, under [`StoreFailure::FailClosed`].
    StoreDown(StoreError),
}

/// A response that sets session cookies must not be stored by a shared cache and replayed to
/// another user: it becomes `private, no-store` (unless the application already said so) and
/// varies on `Cookie`.
pub(crate) fn keep_out_of_shared_caches(headers: &mut HeaderMap) {
    // One lookup per header name: most responses have neither, and get them inserted.
    match headers.entry(CACHE_CONTROL) {
        Entry::Vacant(entry) => {
            entry.insert(HeaderValue::from_static("private, no-store"));
        }
        Entry::Occupied(mut entry) => {
            let already = entry.iter().any(|v| {
                let v = v.as_bytes().to_ascii_lowercase();
                v.windows(8).any(|w| w == b"no-store") || v.windows(7).any(|w| w == b"private")
            });
            if !already {
                entry.insert(HeaderValue::from_static("private, no-store"));
            }
        }
    }
    match headers.entry(VARY) {
        Entry::Vacant(entry) => {
            entry.insert(HeaderValue::from_static("Cookie"));
        }
        Entry::Occupied(mut entry) => {
            let varies = entry.iter().any(|v| {
                v.to_str().is_ok_and(|v| {
                    v.split(',')
                        .any(|t| t.trim().eq_ignore_ascii_case("cookie") || t.trim() == "*")
                })
            });
            if !varies {
                entry.append(HeaderValue::from_static("Cookie"));
            }
        }
    }
}

/// The check of a request's flash cookie against the record of taken flashes.
enum FlashCheck {
    /// Still to ask: the store that holds the record ([`Storage::flash_record`]), and the key.
    Pending {
        record: Arc<dyn SessionStore>,
        key: String,
    },
    /// Answered (or not to ask): whether the flash was taken before.
    Done(bool),
}

impl FlashCheck {
    /// The key to read in the same call, when a call is about to go to the store that holds
    /// the record and the check is still to make.
    fn pending_on(&self, store: &Arc<dyn SessionStore>) -> Option<&str> {
        match self {
            FlashCheck::Pending { record, key } if Arc::ptr_eq(record, store) => Some(key),
            _ => None,
        }
    }

    fn done(&mut self, replayed: bool) {
        *self = FlashCheck::Done(replayed);
    }
}

/// Whether a flash cookie was taken before (its key is on record). A store that cannot answer
/// lets the flash show: flashes carry nothing security-relevant, and the page should not fail
/// over one.
async fn flash_taken_before(record: &dyn SessionStore, key: &str) -> bool {
    match record.load(key).await {
        Ok(found) => found.is_some(),
        Err(err) => {
            tracing::warn!(error = %err, "the record of taken flashes is unavailable; showing the flash");
            false
        }
    }
}
