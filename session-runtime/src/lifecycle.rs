//! The session lifecycle: one request's session, from the cookies it brought to the Set-Cookie
//! lines and store operations its response sends. Every mode (cookies; cookies with a
//! revocation list; a server store behind an id cookie; cookies that spill to a store) goes
//! through this one module, and differs only in where the sealed envelope goes and in what
//! ending ("retiring") the session the request came with means.
//!
//! Framework-free: it reads the bytes of the `Cookie` headers and returns Set-Cookie lines and
//! store work; the adapters (the tower service and the extractors) only translate.
//!
//! # The transitions
//!
//! What a request came with ([`Incoming`]) never changes once opened; what the handler does
//! moves [`Change`] through one table ([`Change::next`]); what the response does is read off
//! both in [`Lifecycle::finish`]:
//!
//! | transition | call | change becomes | the response |
//! |---|---|---|---|
//! | open | a request without a session | untouched | nothing |
//! | restore | a request with one | untouched | nothing, unless a re-seal is due |
//! | refresh | a restore past `refresh_after` | untouched | re-sealed with a new last access (cookie, or entry and id cookie) |
//! | rotate key | a restore opened with a fallback key | untouched | re-sealed under the primary |
//! | rotate key by reload | a restore after a [`KeySource`] reload made its key a fallback | untouched | re-sealed under the new primary (the request's snapshot of the set) |
//! | migrate | a restore of an older schema version | untouched | re-sealed as the version written |
//! | write an older version | any write under `writing::<P>()` | — | sealed as `P` |
//! | expire | a restore past a timeout | (no session) | the cookies removed |
//! | revoke | a restore whose id or subject is revoked | (no session) | the cookies removed |
//! | change | `update`, `insert` | modified | written |
//! | set subject | `set_subject` | modified | written, the subject's generation read first |
//! | regenerate | `regenerate` | modified, retire | the old id retired first, then the new one written |
//! | clear | `clear` | cleared, retire | the old id retired first, the cookies removed |
//! | clear then change | `clear`, then `update` | modified, retire | the old id retired first, a new session written |
//!
//! Retiring is what makes a logout stick: in a server store the entry is deleted, with a
//! revocation list the id is recorded; in cookies alone the cookies are removed, and a recorded
//! copy still opens (the documented limit). A retire that fails makes the response a 503 and
//! hands out nothing new. A write to an existing entry is conditional, so a request still in
//! flight across a logout cannot re-create what the logout deleted.

use core::fmt;
use core::ops::{Deref, Range};
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use zeroize::{Zeroize as _, Zeroizing};

use crate::chunk::{self, Lines};
use crate::clock::Clock;
use crate::codec::{Codec, Form, MAX_STORED_LEN, Opened, Reseal, Scratch, Unsealed, encode_into};
use crate::config::Config;
use crate::envelope::{SessionId, SessionMeta, Subject};
use crate::error::{OpenError, SessionError};
use crate::flash::{self, FlashMessage, FlashState, Level};
use crate::key::{KeySource, Keys};
use crate::schema::{CookieSession, decode_exact};
use crate::store::persistence::{
    self, Checked, Ended, Found, KeptKey, MOVED, Persistence, Plan, Retire, Save, StoreFailure,
    StoreMode, Where,
};
use crate::store::{BoxFuture, Condition, StoreError};

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

/// Everything a request needs from its layer, built once by the layer's builder.
pub(crate) struct Core<T> {
    pub(crate) config: Config,
    /// The keys, swappable: a request takes one snapshot ([`Lifecycle::new`]) and seals, opens
    /// and names its store records with it alone. `codec` and `flash_codec` share this source.
    pub(crate) keys: KeySource,
    pub(crate) writer: Writer<T>,
    pub(crate) codec: Codec,
    pub(crate) flash_codec: Codec,
    pub(crate) policy: BadCookiePolicy,
    pub(crate) persistence: Persistence,
    pub(crate) clock: Clock,
    pub(crate) on_restored: Vec<Hook<T>>,
    pub(crate) before_save: Vec<Hook<T>>,
}

impl<T> Core<T> {
    /// Logs `subject` out everywhere (see `SessionLayer::revoke_all`).
    pub(crate) async fn revoke_all(&self, subject: &str) -> Result<(), StoreError> {
        let tag = persistence::subject_tag(subject);
        let now = self.clock.now();
        // Under every key of the set in use now: a session sealed under a key that a reload
        // made a fallback is read under that key's tag.
        let keys = self.keys.keys();
        self.persistence
            .revoke_all(&keys, &tag, self.codec.lifetime(), now)
            .await
            .inspect(|()| crate::metrics::subject_revoked())
    }
}

/// Seals `value` in one of its forms into a buffer under the primary of the keys given;
/// returns the cookie count.
type SealFn<T> = dyn Fn(
        &Codec,
        &Keys,
        &T,
        &SessionMeta,
        Option<Subject>,
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
}

/// What the request came with. Set once, when the session is opened; never changed by the
/// handler, so a clear or a regenerate always knows which session it ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Incoming {
    /// No extractor has asked yet.
    Unopened,
    /// No session cookie.
    Nothing,
    /// Session cookies that did not open (`remove`: ours to remove; a duplicate is not).
    Rejected { remove: bool },
    /// A session: in its cookies, or in the store behind its id cookie.
    Session {
        meta: SessionMeta,
        place: Place,
        reseal: Reseal,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    Cookie {
        chunks: u8,
    },
    Store,
    /// In the previous store (`with_previous_store`): it moves on this request.
    Previous,
}

impl Place {
    /// Behind an id cookie, in either store.
    fn stored(self) -> bool {
        matches!(self, Place::Store | Place::Previous)
    }
}

/// What the handler did with the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Change {
    Untouched,
    Modified,
    /// Logged out, and nothing set since.
    Cleared,
    /// A change panicked half-way: the value is not trusted and nothing is written.
    Poisoned,
}

/// The handler's calls, as the transition table sees them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Event {
    Change,
    Clear,
    Regenerate,
    SetSubject,
    Panicked,
}

impl Change {
    /// The transition table. A poisoned session stays poisoned; a clear ends in `Cleared`
    /// whatever came before; any change after it (or anything else) is a modification.
    const fn next(self, event: Event) -> Change {
        match (self, event) {
            (Change::Poisoned, _) | (_, Event::Panicked) => Change::Poisoned,
            (_, Event::Clear) => Change::Cleared,
            (_, Event::Change | Event::Regenerate | Event::SetSubject) => Change::Modified,
        }
    }

    /// Whether the event ends the session the request came with.
    const fn retires(event: Event) -> bool {
        matches!(event, Event::Clear | Event::Regenerate)
    }
}

/// The session value the handler sees.
struct Current<T> {
    value: T,
    meta: SessionMeta,
    subject: Option<Subject>,
    /// Restored from the request (not new, not cleared since).
    restored: bool,
    /// The postcard encoding of `value` as it stands, when known: what a refused change rolls
    /// back to, and the payload a save seals without encoding the value again.
    encoded: Option<Encoded>,
}

/// A value's postcard encoding, zeroized when dropped.
type Encoded = Zeroizing<Vec<u8>>;

/// One request's state. Its fields are private to this module: the adapters change it only
/// through [`Lifecycle`]'s methods.
struct State<T> {
    now: u32,
    incoming: Incoming,
    current: Option<Current<T>>,
    change: Change,
    /// A clear or regenerate asked to end the incoming session; later changes keep it asked.
    retire: bool,
    /// The subject changed or the session moved to a new id: read its generation before sealing.
    learn_generation: bool,
    flash: FlashState,
    /// The store key the incoming session's entry was read under, with its id: its write or
    /// its retirement uses it rather than hashing the id again.
    entry_key: Option<KeptKey>,
}

/// One request's session, shared between the adapter that finishes the response and the
/// extractors that hand it to handlers.
pub(crate) struct Lifecycle<T> {
    inner: Arc<Inner<T>>,
}

struct Inner<T> {
    core: Arc<Core<T>>,
    /// The request's snapshot of the layer's keys, taken once: opening, sealing and the store
    /// records' tags all use this set, whatever reload happens meanwhile.
    keys: Arc<Keys>,
    state: RwLock<State<T>>,
}

impl<T> Clone for Lifecycle<T> {
    fn clone(&self) -> Self {
        Lifecycle {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<T> fmt::Debug for Lifecycle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lifecycle").finish_non_exhaustive()
    }
}

/// Why the session could not be opened.
#[derive(Debug)]
pub(crate) enum LoadError {
    /// The cookie did not open, under [`BadCookiePolicy::Reject`].
    Bad(OpenError),
    /// The store failed, under [`StoreFailure::FailClosed`] (logged where it failed).
    StoreDown,
}

/// Read access to the session value.
pub(crate) struct ValueRef<'a, T> {
    guard: RwLockReadGuard<'a, State<T>>,
}

impl<T> Deref for ValueRef<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        &current_ref(&self.guard).value
    }
}

fn current_ref<T>(state: &State<T>) -> &Current<T> {
    // `Lifecycle::present` makes the session present before any handle to it is given out,
    // and nothing takes it back.
    state
        .current
        .as_ref()
        .unwrap_or_else(|| unreachable!("a Session is only built once its value is present"))
}

fn current_mut<T>(state: &mut State<T>) -> &mut Current<T> {
    state
        .current
        .as_mut()
        .unwrap_or_else(|| unreachable!("a Session is only built once its value is present"))
}

/// Keeps the payload of a decrypted envelope in its own buffer: moved to the front, the rest
/// (header, padding, tag) zeroized and cut.
fn keep_payload(mut buf: Encoded, payload: Range<usize>) -> Encoded {
    let len = payload.len();
    buf.copy_within(payload, 0);
    buf[len..].zeroize();
    buf.truncate(len);
    buf
}

/// What the response's session work ended in.
#[derive(Debug, Default)]
pub(crate) struct Finished {
    /// Set-Cookie lines to append.
    pub(crate) lines: Lines,
    /// The session could not be saved, or the session the request came with could not be
    /// ended: the response becomes a 503, and carries none of the session's lines.
    pub(crate) failed: bool,
}

impl Finished {
    /// The 503 of a save or a logout the store did not confirm: no session lines at all.
    fn failed() -> Self {
        Finished {
            lines: Lines::new(),
            failed: true,
        }
    }
}

/// The response's session work: done, or store work to await first.
pub(crate) enum Finish {
    Done(Finished),
    Pending(BoxFuture<'static, Finished>),
}

impl<T: CookieSession + Send + Sync> Lifecycle<T> {
    pub(crate) fn new(core: Arc<Core<T>>) -> Self {
        Lifecycle {
            inner: Arc::new(Inner {
                keys: core.keys.keys(),
                core,
                state: RwLock::new(State {
                    now: 0,
                    incoming: Incoming::Unopened,
                    current: None,
                    change: Change::Untouched,
                    retire: false,
                    learn_generation: false,
                    flash: FlashState::default(),
                    entry_key: None,
                }),
            }),
        }
    }

    pub(crate) fn core(&self) -> &Core<T> {
        &self.inner.core
    }

    fn lock(&self) -> RwLockWriteGuard<'_, State<T>> {
        // A change that panicked marks the session poisoned before unwinding (see `update`),
        // so a poisoned lock holds nothing that could be sealed.
        self.inner
            .state
            .write()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn read(&self) -> RwLockReadGuard<'_, State<T>> {
        self.inner
            .state
            .read()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Opens the session from the request's `Cookie` headers (and its store, for an id cookie
    /// or a revocation list), once per request, scanning the headers once for the session and
    /// the flash cookie: as far as it goes without a store now, the store's part in what it
    /// returns ([`Begun::finished`]).
    ///
    /// Errors only under [`BadCookiePolicy::Reject`] or [`StoreFailure::FailClosed`];
    /// otherwise a bad cookie is logged and the session starts fresh. Either way the bad
    /// cookies are removed in the response.
    pub(crate) fn open<'h>(&self, cookie_headers: impl IntoIterator<Item = &'h [u8]>) -> Begun {
        // Only the store's part is a future, boxed: a request that never reaches a store awaits
        // nothing, and every future built around this (the extractor's, the handler's, which
        // axum boxes per request) stays small.
        let core = self.core();
        let keys = &*self.inner.keys;
        let mut state = self.lock();
        if state.incoming != Incoming::Unopened {
            return Begun::Done(Ok(()));
        }
        let now = core.clock.now();
        state.now = now;
        let mut session = core.codec.chunker().gatherer();
        let mut flash = core.flash_codec.chunker().gatherer();
        for (name, value) in chunk::cookie_pairs(cookie_headers) {
            session.offer(name, value);
            flash.offer(name, value);
        }
        state
            .flash
            .incoming(&core.flash_codec, keys, flash.finish(), now);
        let flash_key = state
            .flash
            .opened_id()
            .filter(|_| core.persistence.flash_record().is_some())
            .map(|id| flash::taken_key(&id));
        let mut buf = Zeroizing::new(Vec::new());
        let unsealed = session.finish().and_then(|gathered| {
            gathered
                .map(|g| core.codec.open_gathered_at::<T>(keys, &g, now, &mut buf))
                .transpose()
        });
        let opened = match unsealed {
            Ok(None) => Opening::Nothing,
            Ok(Some((Unsealed::Value(opened), payload))) => {
                // The decrypted payload is the value's encoding as it stands, unless a migration
                // or a hook changes the value: kept, it spares the first change an encoding of
                // its own (see `update`).
                let encoded = self.keeps(&opened).then(|| keep_payload(buf, payload));
                if core.persistence.checks(opened.subject.as_ref()) {
                    drop(state);
                    return self.asking(Unsealed::Value(opened), encoded, flash_key, now);
                }
                let place = Place::Cookie {
                    chunks: opened.chunks,
                };
                if flash_key.is_none() {
                    // The common case, recorded under the lock already held, without moving
                    // the value through an `Opening`.
                    self.restore(&mut state, opened, place, encoded);
                    return Begun::Done(Ok(()));
                }
                Opening::Value {
                    opened,
                    place,
                    encoded,
                    flash_taken: false,
                }
            }
            Ok(Some((unsealed, _))) => {
                drop(state);
                return self.asking(unsealed, None, flash_key, now);
            }
            Err(err) => Opening::Bad {
                err,
                flash_taken: None,
            },
        };
        match flash_key {
            Some(_) => {
                drop(state);
                self.with_flash(opened, flash_key)
            }
            None => Begun::Done(self.settle_in(&mut state, opened, false)),
        }
    }

    /// `opened` recorded once the flash cookie's record, if there is one to read, is asked
    /// on its own: no session call carries it.
    fn with_flash(&self, opened: Opening<T>, flash_key: Option<String>) -> Begun {
        let Some(key) = flash_key else {
            return Begun::Done(self.settle(opened, false));
        };
        let this = self.clone();
        Begun::Asking(Box::pin(async move {
            let taken = flash::taken_before(&this.core().persistence, Some(&key)).await;
            this.settle(opened, taken)
        }))
    }

    /// The rest of an [`open`](Self::open) once the cookie says a store must be asked: what
    /// it asks is decided now, and only the call is a future ([`ask_stores`](Self::ask_stores),
    /// boxed with its own handle on the lifecycle).
    fn asking(
        &self,
        unsealed: Unsealed<T>,
        encoded: Option<Encoded>,
        flash_key: Option<String>,
        now: u32,
    ) -> Begun {
        match self.to_check(unsealed, encoded) {
            Ok(asked) => Begun::Asking(Box::pin(self.clone().ask_stores(asked, flash_key, now))),
            // An id cookie with no store to go to.
            Err(opened) => self.with_flash(opened, flash_key),
        }
    }

    /// The store's part of [`open`](Self::open): the stores asked what the opened cookie cannot
    /// say alone (the session's entry, whether it was revoked, whether the flash cookie was
    /// taken before, in the same call), then the session recorded in the state. This future
    /// is boxed per request that asks a store: it holds only what the call needs (the opened
    /// value is boxed in `asked`), so it stays under the allocator's per-thread cache limit
    /// (1,032 bytes for glibc) whatever the schema's size.
    async fn ask_stores(
        self,
        asked: Asked<T>,
        flash_key: Option<String>,
        now: u32,
    ) -> Result<(), LoadError> {
        let mut found = self
            .core()
            .persistence
            .check(&self.inner.keys, &asked.checked, flash_key.as_deref(), now)
            .await;
        // The entry's key goes to the state, not through `checked`: the opened value's moves
        // stay as small as they were.
        let entry_key = found
            .as_mut()
            .ok()
            .and_then(|found| found.entry_key.take())
            .map(|key| (asked.checked.meta.id, key));
        // The flash cookie's record was asked in the same call: `checked` carries its answer.
        let opened = self.checked(found, asked, now);
        let mut state = self.lock();
        if matches!(opened, Opening::Value { .. }) {
            state.entry_key = entry_key;
        }
        self.settle_in(&mut state, opened, false)
    }

    /// What the stores are asked about an opened cookie; or, for an id cookie with no store
    /// to go to, what it opens into.
    fn to_check(
        &self,
        unsealed: Unsealed<T>,
        encoded: Option<Encoded>,
    ) -> Result<Asked<T>, Opening<T>> {
        let persistence = &self.core().persistence;
        match unsealed {
            Unsealed::Value(opened) => {
                let checked = Checked {
                    meta: opened.meta,
                    subject: opened.subject,
                    in_store: false,
                    key_index: opened.key_index,
                };
                Ok(Asked {
                    checked,
                    value: Some(Box::new((opened, encoded))),
                    id_fallback: false,
                })
            }
            Unsealed::InStore {
                meta,
                subject,
                fallback_key,
                key_index,
            } if persistence.mode().is_some() || persistence.has_previous() => {
                let checked = Checked {
                    meta,
                    subject,
                    in_store: true,
                    key_index,
                };
                Ok(Asked {
                    checked,
                    value: None,
                    id_fallback: fallback_key,
                })
            }
            Unsealed::InStore { .. } => Err(Opening::Bad {
                err: OpenError::Malformed,
                flash_taken: None,
            }),
        }
    }

    /// What the stores' answer makes of the opened cookie.
    fn checked(&self, found: Result<Found, StoreError>, asked: Asked<T>, now: u32) -> Opening<T> {
        let core = self.core();
        let Asked {
            checked,
            value,
            id_fallback,
        } = asked;
        let found = match found {
            Ok(found) => found,
            Err(err) => {
                let place = match &value {
                    Some(value) => Place::Cookie {
                        chunks: value.0.chunks,
                    },
                    None => Place::Store,
                };
                return Opening::StoreDown {
                    err,
                    incoming: checked.meta,
                    place,
                };
            }
        };
        if let Some(ended) = found.ended {
            if ended == Ended::RecordsLost {
                tracing::info!(
                    cookie = core.codec.chunker().name(),
                    "session issued before the revocation store lost its records; ended"
                );
            }
            return Opening::Ended {
                err: OpenError::Revoked,
                flash_taken: found.flash_taken,
            };
        }
        match value {
            Some(value) => {
                let (opened, encoded) = *value;
                let place = Place::Cookie {
                    chunks: opened.chunks,
                };
                Opening::Value {
                    opened,
                    place,
                    encoded,
                    flash_taken: found.flash_taken,
                }
            }
            None => {
                let Some(bytes) = found.entry else {
                    // The entry was deleted (a logout) or expired.
                    return Opening::Ended {
                        err: OpenError::Revoked,
                        flash_taken: found.flash_taken,
                    };
                };
                if bytes == MOVED {
                    // Another request is moving it (into its cookies, or into the current
                    // store) and sets its new cookies: this one has none, and removes none.
                    return Opening::Moving {
                        flash_taken: found.flash_taken,
                    };
                }
                let place = if found.from_previous {
                    Place::Previous
                } else {
                    Place::Store
                };
                let mut bytes = Zeroizing::new(bytes);
                match core
                    .codec
                    .open_envelope_at::<T>(&self.inner.keys, &mut bytes, 1, now)
                {
                    Ok((Unsealed::Value(mut opened), payload))
                        if opened.meta.id == checked.meta.id =>
                    {
                        // The id cookie's key counts too: re-sealed if either was a fallback.
                        opened.reseal.fallback_key |= id_fallback;
                        // Kept, as a cookie's is: a change then encodes the value once, and
                        // the entry is sealed from that encoding.
                        let encoded = self.keeps(&opened).then(|| keep_payload(bytes, payload));
                        Opening::Value {
                            opened,
                            place,
                            encoded,
                            flash_taken: found.flash_taken,
                        }
                    }
                    // The flash was asked in the same call: its answer goes along.
                    Ok(_) => Opening::Bad {
                        err: OpenError::Tampered,
                        flash_taken: Some(found.flash_taken),
                    },
                    Err(err) => Opening::Bad {
                        err,
                        flash_taken: Some(found.flash_taken),
                    },
                }
            }
        }
    }

    /// Whether the decrypted payload of `opened` is the value's encoding as it stands: not
    /// when a migration or a restore hook changes the value.
    fn keeps(&self, opened: &Opened<T>) -> bool {
        opened.reseal.migrated_from.is_none() && self.core().on_restored.is_empty()
    }

    /// Records what the request came with.
    fn settle(&self, opened: Opening<T>, flash_taken: bool) -> Result<(), LoadError> {
        self.settle_in(&mut self.lock(), opened, flash_taken)
    }

    /// [`settle`](Self::settle), under the lock already held.
    fn settle_in(
        &self,
        state: &mut State<T>,
        opened: Opening<T>,
        flash_taken: bool,
    ) -> Result<(), LoadError> {
        let core = self.core();
        let name = core.codec.chunker().name();
        if state.incoming != Incoming::Unopened {
            return Ok(());
        }
        if flash_taken {
            state.flash.replayed();
        }
        match opened {
            Opening::Nothing => {
                state.incoming = Incoming::Nothing;
                Ok(())
            }
            Opening::Value {
                opened,
                place,
                encoded,
                flash_taken,
            } => {
                if flash_taken {
                    state.flash.replayed();
                }
                self.restore(state, opened, place, encoded);
                Ok(())
            }
            Opening::Moving { flash_taken } => {
                if flash_taken {
                    state.flash.replayed();
                }
                tracing::debug!(
                    cookie = name,
                    "session moving on another request; none here"
                );
                state.incoming = Incoming::Rejected { remove: false };
                Ok(())
            }
            Opening::Ended { err, flash_taken } => {
                if flash_taken {
                    state.flash.replayed();
                }
                tracing::debug!(cookie = name, reason = err.reason(), "session ended");
                crate::metrics::rejected(err.reason());
                state.incoming = Incoming::Rejected { remove: true };
                Ok(())
            }
            Opening::Bad { err, flash_taken } => {
                if flash_taken == Some(true) {
                    state.flash.replayed();
                }
                crate::metrics::rejected(err.reason());
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
                state.incoming = Incoming::Rejected { remove: !duplicate };
                if core.policy == BadCookiePolicy::Reject && !ended {
                    return Err(LoadError::Bad(err));
                }
                Ok(())
            }
            Opening::StoreDown {
                err,
                incoming,
                place,
            } => {
                let fail_closed = core.persistence.on_failure() == StoreFailure::FailClosed;
                if fail_closed {
                    tracing::error!(error = %err, "session store unavailable; refusing the request");
                } else {
                    tracing::warn!(error = %err, "session store unavailable; going on without it");
                }
                // A session whose entry or records could not be read is not served (a fresh
                // one is, under fail-open); it is remembered, so a logout in this request
                // still has to end it, and the response says so when it cannot.
                state.incoming = Incoming::Session {
                    meta: incoming,
                    place,
                    reseal: Reseal::default(),
                };
                if fail_closed {
                    Err(LoadError::StoreDown)
                } else {
                    Ok(())
                }
            }
        }
    }

    fn restore(
        &self,
        state: &mut State<T>,
        mut opened: Opened<T>,
        place: Place,
        encoded: Option<Encoded>,
    ) {
        let core = self.core();
        let name = core.codec.chunker().name();
        crate::metrics::restored(opened.reseal.migrated_from, T::VERSION);
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
        for hook in &core.on_restored {
            hook(&mut opened.value, &opened.meta);
        }
        state.incoming = Incoming::Session {
            meta: opened.meta,
            place,
            reseal: opened.reseal,
        };
        state.current = Some(Current {
            value: opened.value,
            meta: opened.meta,
            subject: opened.subject,
            restored: true,
            encoded: if core.on_restored.is_empty() {
                encoded
            } else {
                None
            },
        });
    }

    /// Makes the session present: a fresh `T::default()` when the request had none.
    pub(crate) fn present(&self) -> Result<(), SessionError>
    where
        T: Default,
    {
        let mut state = self.lock();
        if state.current.is_none() {
            let meta = SessionMeta::new(state.now)?;
            state.current = Some(Current {
                value: T::default(),
                meta,
                subject: None,
                restored: false,
                encoded: None,
            });
        }
        Ok(())
    }

    /// A copy of the live session value for the read-only extractor, `None` when the request
    /// has no session (or it was cleared).
    pub(crate) fn copy(&self) -> Result<Option<T>, SessionError> {
        let state = self.read();
        let Some(current) = &state.current else {
            return Ok(None);
        };
        if !current.restored && state.change != Change::Modified {
            return Ok(None);
        }
        // A copy without asking schemas to be `Clone`: through the encoding every schema has,
        // kept from the cookie or the last change when there is one.
        let mut scratch = Scratch::take();
        let bytes = match &current.encoded {
            Some(encoded) => encoded.as_slice(),
            None => {
                encode_into(&current.value, scratch.opening())?;
                scratch.bytes()
            }
        };
        decode_exact::<T>(bytes)
            .map(Some)
            .map_err(|err| SessionError::Encode(err.to_string()))
    }

    /// Applies `event` through the transition table.
    fn apply(state: &mut State<T>, event: Event) {
        state.change = state.change.next(event);
        state.retire |= Change::retires(event);
        state.learn_generation |= matches!(event, Event::SetSubject | Event::Regenerate);
    }

    pub(crate) fn value(&self) -> ValueRef<'_, T> {
        ValueRef { guard: self.read() }
    }

    /// Changes the session with `f`, if the result still fits its budget and `max_len`
    /// bounds; on `Err` the change is undone.
    pub(crate) fn update<R>(&self, f: impl FnOnce(&mut T) -> R) -> Result<R, SessionError> {
        let core = self.core();
        let mut state = self.lock();
        let prior = state.change;
        let current = current_mut(&mut state);
        // What a refused change rolls back to: the encoding kept from the cookie or from the
        // last change, or one made now.
        let mut before = match current.encoded.take() {
            Some(encoded) => encoded,
            None => {
                let mut before = Zeroizing::new(Vec::new());
                encode_into(&current.value, &mut before)?;
                before
            }
        };
        // Poisoned while `f` runs: if it panics, nothing half-made can be sealed.
        state.change = Change::Poisoned;
        let current = current_mut(&mut state);
        let out = f(&mut current.value);
        let mut scratch = Scratch::take();
        match encode_fitting(&current.value, core, scratch.opening()) {
            Ok(encoded) => {
                if encoded {
                    // The new encoding replaces the old in its buffer, which usually has room.
                    before.as_mut_slice().zeroize();
                    before.clear();
                    before.extend_from_slice(scratch.bytes());
                    current.encoded = Some(before);
                }
                state.change = prior;
                Self::apply(&mut state, Event::Change);
                Ok(out)
            }
            Err(err) => {
                match decode_exact::<T>(&before) {
                    Ok(old) => {
                        current.value = old;
                        current.encoded = Some(before);
                        state.change = prior;
                    }
                    Err(_) => {
                        Self::apply(&mut state, Event::Panicked);
                        tracing::error!(
                            schema = T::NAME,
                            "could not restore the session after a refused change; it will not be saved"
                        );
                    }
                }
                Err(err)
            }
        }
    }

    /// Replaces the session value, if the new one fits.
    pub(crate) fn insert(&self, new: T) -> Result<(), SessionError> {
        let mut scratch = Scratch::take();
        let encoded = encode_fitting(&new, self.core(), scratch.opening())?;
        let mut state = self.lock();
        let current = current_mut(&mut state);
        current.value = new;
        current.encoded = encoded.then(|| Zeroizing::new(scratch.bytes().to_vec()));
        Self::apply(&mut state, Event::Change);
        Ok(())
    }

    /// Logs out: a default value under a new id; the incoming session is ended in the response.
    pub(crate) fn clear(&self)
    where
        T: Default,
    {
        let mut state = self.lock();
        let now = state.now;
        let current = current_mut(&mut state);
        current.value = T::default();
        current.encoded = None;
        current.subject = None;
        current.restored = false;
        match SessionMeta::new(now) {
            Ok(meta) => current.meta = meta,
            // Without a fresh id nothing may be written under the old one: a later change
            // poisons the session (below) rather than reuse it.
            Err(_) => {
                Self::apply(&mut state, Event::Clear);
                Self::apply(&mut state, Event::Panicked);
                return;
            }
        }
        Self::apply(&mut state, Event::Clear);
    }

    /// A new id and issue time, keeping the value.
    pub(crate) fn regenerate(&self) -> Result<(), SessionError> {
        let mut state = self.lock();
        let now = state.now;
        current_mut(&mut state).meta = SessionMeta::new(now)?;
        Self::apply(&mut state, Event::Regenerate);
        Ok(())
    }

    /// Names who the session belongs to.
    pub(crate) fn set_subject(&self, subject: &str) {
        let mut state = self.lock();
        current_mut(&mut state).subject = Some(Subject {
            tag: persistence::subject_tag(subject),
            generation: None,
        });
        Self::apply(&mut state, Event::SetSubject);
    }

    pub(crate) fn id(&self) -> SessionId {
        current_ref(&self.read()).meta.id
    }

    pub(crate) fn meta(&self) -> SessionMeta {
        current_ref(&self.read()).meta
    }

    pub(crate) fn is_new(&self) -> bool {
        !current_ref(&self.read()).restored
    }

    pub(crate) fn chunk_count(&self) -> u8 {
        let state = self.read();
        if !current_ref(&state).restored {
            return 0;
        }
        match state.incoming {
            Incoming::Session {
                place: Place::Cookie { chunks },
                ..
            } => chunks,
            Incoming::Session {
                place: Place::Store | Place::Previous,
                ..
            } => 1,
            _ => 0,
        }
    }

    pub(crate) fn flash(&self, level: Level, text: String) {
        self.lock().flash.push(level, text);
    }

    pub(crate) fn take_flashes(&self) -> Vec<FlashMessage> {
        self.lock().flash.take()
    }

    /// Decides what the response does with the session, and either does it (cookies alone)
    /// or returns the store work to await first.
    pub(crate) fn finish(&self) -> Finish {
        let core = &self.inner.core;
        let keys = &*self.inner.keys;
        let mut state = self.lock();
        let state = &mut *state;
        if state.incoming == Incoming::Unopened && state.change == Change::Untouched {
            // The handler never took the session: nothing was read, so nothing is owed.
            return Finish::Done(Finished::default());
        }
        let now = state.now;
        let mut plan = Plan::default();

        let (flash_lines, consumed) = state.flash.finish(&core.flash_codec, keys, now);
        if let Some(consumed) = consumed
            && core.persistence.flash_record().is_some()
        {
            plan.taken_flash = Some((flash::taken_key(&consumed.id), consumed.ttl));
        }
        let (write, lines) = state.outcome(core);
        if !lines.is_empty() {
            // The outcome's removals: a logout, or cookies that did not open.
            crate::metrics::removed();
        }
        if state.retire
            && let Some((old, place, _)) = state.incoming()
        {
            plan.retire = retirement(core, &old, place, now, state.entry_key.take());
        }
        let incoming = state.incoming();
        let learn_generation = state.learn_generation;
        let (true, Some(current)) = (write, state.current.as_mut()) else {
            return Self::conclude(core, plan, lines, flash_lines, None);
        };
        let entry_key = state.entry_key.take();
        let sealing = prepare(
            core,
            current,
            incoming,
            entry_key,
            learn_generation,
            now,
            &mut plan,
        );
        if plan.is_empty()
            && sealing.old_entry.is_none()
            && sealing.previous_entry.is_none()
            && core.persistence.mode() != Some(StoreMode::Always)
        {
            // Cookies alone, nothing to wait for: sealed now.
            let encoded = current.encoded.as_deref().map(Vec::as_slice);
            match sealing.cookie(core, keys, &current.value, encoded) {
                Ok(Some(mut cookie)) => {
                    crate::metrics::written(incoming.is_none());
                    chunk::append(&mut cookie, lines);
                    return Self::conclude(core, plan, cookie, flash_lines, None);
                }
                // Too large for its cookies: spilled to the overflow store, below.
                Ok(None) => {}
                // Not answered as if it had worked.
                Err(_) => return Finish::Done(Finished::failed()),
            }
        }
        let lifecycle = self.clone();
        Self::conclude(core, plan, lines, flash_lines, Some((sealing, lifecycle)))
    }

    fn conclude(
        core: &Arc<Core<T>>,
        plan: Plan,
        lines: Lines,
        flash_lines: Lines,
        write: Option<(Sealing, Lifecycle<T>)>,
    ) -> Finish {
        if plan.is_empty() && write.is_none() {
            let mut lines = lines;
            chunk::append(&mut lines, flash_lines);
            return Finish::Done(Finished {
                lines,
                failed: false,
            });
        }
        Finish::Pending(Box::pin(run(
            Arc::clone(core),
            plan,
            lines,
            flash_lines,
            write,
        )))
    }
}

impl<T> State<T> {
    /// The session the request came with, if it came with one.
    fn incoming(&self) -> Option<(SessionMeta, Place, Reseal)> {
        match self.incoming {
            Incoming::Session {
                meta,
                place,
                reseal,
            } => Some((meta, place, reseal)),
            _ => None,
        }
    }

    /// The outcome table: whether the session is written, and the removals the response sends
    /// whatever else happens.
    fn outcome(&self, core: &Core<T>) -> (bool, Lines) {
        let removals = || core.codec.removals().iter().cloned().collect();
        match (self.change, self.current.as_ref()) {
            // Nothing half-made is written; a logout asked before the panic still happens.
            (Change::Poisoned, _) if self.retire => (false, removals()),
            (Change::Poisoned, _) => (false, Lines::new()),
            (Change::Cleared, _) => (false, removals()),
            (Change::Modified, current) => (current.is_some(), Lines::new()),
            (Change::Untouched, Some(current)) if current.restored => {
                let Some((_, place, reseal)) = self.incoming() else {
                    return (false, Lines::new());
                };
                // Issued under the configuration before this one: it moves now, into the
                // current store or its cookies.
                let moves =
                    place == Place::Previous || (!place.stored() && core.persistence.moves_in());
                // A session written by an older schema is re-sealed as the version this
                // instance writes, which is older than the current one in a rolling deploy.
                let migrate = reseal
                    .migrated_from
                    .is_some_and(|from| from != core.writer.version);
                let refresh = core.codec.lifetime().refresh_due(&current.meta, self.now);
                (
                    reseal.fallback_key || migrate || refresh || moves,
                    Lines::new(),
                )
            }
            (Change::Untouched, _) if self.incoming == (Incoming::Rejected { remove: true }) => {
                (false, removals())
            }
            (Change::Untouched, _) => (false, Lines::new()),
        }
    }
}

/// What ends the session the request came with: its entry deleted (a session in the store), its
/// id recorded (a revocation list); in cookies alone, nothing beyond the removals.
fn retirement<T>(
    core: &Core<T>,
    old: &SessionMeta,
    place: Place,
    now: u32,
    entry_key: Option<KeptKey>,
) -> Retire {
    let persistence = &core.persistence;
    // A session moving in from its cookies has its id recorded where every session lives now.
    let record = persistence.revocation_list() || (!place.stored() && persistence.moves_in());
    Retire {
        entry: (place.stored() && (persistence.mode().is_some() || persistence.has_previous()))
            .then(|| persistence::data_key_kept(entry_key, &old.id)),
        revoke: record.then(|| {
            (
                persistence::revoked_key(&old.id),
                persistence::remaining(core.codec.lifetime(), old, now),
            )
        }),
        exclusive: false,
    }
}

/// Readies a session for its write: its last access, the `before_save` hooks, and what the
/// write needs from the store first (the subject's generation, the servers' markers).
fn prepare<T>(
    core: &Core<T>,
    current: &mut Current<T>,
    incoming: Option<(SessionMeta, Place, Reseal)>,
    entry_key: Option<KeptKey>,
    learn_generation: bool,
    now: u32,
    plan: &mut Plan,
) -> Sealing {
    current.meta.last_access = now;
    if !core.before_save.is_empty() {
        current.encoded = None;
        for hook in &core.before_save {
            hook(&mut current.value, &current.meta);
        }
    }
    let persistence = &core.persistence;
    let mut same_id =
        incoming.is_some_and(|(old, _, _)| old.id == current.meta.id) && current.restored;
    let in_store_before =
        incoming.is_some_and(|(old, place, _)| place == Place::Store && old.id == current.meta.id);
    let from_previous = same_id && incoming.is_some_and(|(_, place, _)| place == Place::Previous);
    // A session in its cookies where every session lives in the store moves in under a new id
    // (its times kept), and its cookies' id is retired, so a copy of them cannot come back.
    let moving_in =
        same_id && persistence.moves_in() && incoming.is_some_and(|(_, place, _)| !place.stored());
    if moving_in
        && let Some((old, place, _)) = incoming
        && let Ok(fresh) = SessionMeta::new(now)
    {
        current.meta.id = fresh.id;
        plan.retire = Retire {
            exclusive: true,
            ..retirement(core, &old, place, now, None)
        };
        same_id = false;
    }
    if learn_generation && persistence.generations().is_some() {
        plan.learn_generation = current.subject.map(|s| s.tag);
    }
    // Records of a session issued under a server's marker are trusted; a marker written after
    // it would end it. A new id, or a subject named now, needs them in place. A session
    // re-sealed under the primary key from a fallback is read under the primary's tag from now
    // on: that server's marker too.
    // A session moving in was issued before the current stores' markers were read for it.
    let rekeyed = incoming.is_some_and(|(_, _, reseal)| reseal.fallback_key);
    plan.ensure_markers =
        (!same_id || plan.learn_generation.is_some() || rekeyed || from_previous || moving_in)
            && (persistence.revocation_list()
                || (current.subject.is_some() && persistence.generations().is_some()));
    Sealing {
        meta: current.meta,
        subject: current.subject,
        same_id,
        in_store_before,
        old_entry: in_store_before.then_some(current.meta.id),
        entry_key,
        previous_entry: from_previous.then_some(current.meta.id),
        moving_in,
        id_kept: in_store_before
            && same_id
            && !rekeyed
            && !learn_generation
            && core.config.max_age.is_none(),
    }
}

/// What the stores are asked about an opened cookie, and what it carried.
struct Asked<T> {
    /// Its session's id, timestamps, subject and key.
    checked: Checked,
    /// The value it carried and its kept encoding; `None` for an id cookie. Boxed: the
    /// future that holds it across the store call is then the same size whatever `T` is.
    value: Option<Box<(Opened<T>, Option<Encoded>)>>,
    /// The id cookie opened with a fallback key.
    id_fallback: bool,
}

/// How far [`Lifecycle::open`] got without a store: done, or the stores still to ask.
pub(crate) enum Begun {
    Done(Result<(), LoadError>),
    Asking(BoxFuture<'static, Result<(), LoadError>>),
}

impl Begun {
    /// The open's result, once the stores (if any) have answered.
    pub(crate) async fn finished(self) -> Result<(), LoadError> {
        match self {
            Begun::Done(result) => result,
            Begun::Asking(asking) => asking.await,
        }
    }
}

/// What the session was opened into, before it is recorded in the state.
enum Opening<T> {
    Nothing,
    Value {
        opened: Opened<T>,
        place: Place,
        encoded: Option<Encoded>,
        flash_taken: bool,
    },
    /// Its entry is being moved by another request.
    Moving {
        flash_taken: bool,
    },
    /// Revoked, or its entry gone.
    Ended {
        err: OpenError,
        flash_taken: bool,
    },
    /// Did not open; `flash_taken` when the store was asked about the flash on the way.
    Bad {
        err: OpenError,
        flash_taken: Option<bool>,
    },
    StoreDown {
        err: StoreError,
        incoming: SessionMeta,
        place: Place,
    },
}

/// A session sealed for its response.
enum Sealed {
    Cookie(Lines),
    Store(Vec<u8>, Lines),
}

/// What a write seals, read off the request.
#[derive(Debug)]
struct Sealing {
    meta: SessionMeta,
    subject: Option<Subject>,
    /// The session keeps the id it came with.
    same_id: bool,
    /// Its entry is in the store under that id.
    in_store_before: bool,
    /// The entry the session had under its id, to remove when it moves into its cookies.
    old_entry: Option<SessionId>,
    /// The store key the incoming session's entry was read under, with its id: the write
    /// under that id uses it.
    entry_key: Option<KeptKey>,
    /// Its entry in the previous store, claimed and removed once it is written where it goes.
    previous_entry: Option<SessionId>,
    /// It came in its cookies, and moves into the store.
    moving_in: bool,
    /// The request's id cookie still carries what a new one would (the id, subject,
    /// generation and key; its last access is not checked, its entry's is) and the cookie has
    /// no `Max-Age` to renew: a save sends no id cookie.
    id_kept: bool,
}

impl Sealing {
    /// The session in its cookies: `Ok(None)` when it does not fit and a store takes it.
    fn cookie<T: CookieSession>(
        &self,
        core: &Core<T>,
        keys: &Keys,
        value: &T,
        encoded: Option<&[u8]>,
    ) -> Result<Option<Lines>, SessionError> {
        let codec = &core.codec;
        let mode = core.persistence.mode();
        if mode == Some(StoreMode::Always) {
            return Ok(None);
        }
        let mut scratch = Scratch::take();
        let buf = scratch.sealing();
        let sealed = self.seal(core, keys, value, encoded, Form::Cookie, buf);
        match sealed.map(|chunks| codec.lines(scratch.sealed(), chunks)) {
            Ok(lines) => {
                let used = crate::envelope::base64_len(scratch.sealed().len());
                let total = codec.capacity_total();
                crate::metrics::sealed_size(used, total);
                if used * 10 >= total * 9 {
                    tracing::warn!(
                        cookie = codec.chunker().name(),
                        schema = T::NAME,
                        used,
                        total,
                        "session is near its cookie budget"
                    );
                }
                Ok(Some(lines))
            }
            Err(SessionError::TooLarge { .. }) if mode == Some(StoreMode::Overflow) => Ok(None),
            Err(err) => {
                tracing::error!(
                    cookie = codec.chunker().name(),
                    schema = T::NAME,
                    error = %err,
                    "session could not be saved; the previous cookie stays in place"
                );
                Err(err)
            }
        }
    }

    /// The session for the store: its sealed entry and its id cookie's lines.
    fn stored<T: CookieSession>(
        &self,
        core: &Core<T>,
        keys: &Keys,
        value: &T,
        encoded: Option<&[u8]>,
    ) -> Result<(Vec<u8>, Lines), SessionError> {
        let codec = &core.codec;
        let mut entry = Vec::with_capacity(256);
        self.seal(core, keys, value, encoded, Form::Stored, &mut entry)?;
        if self.id_kept {
            // The browser's id cookie still says all it must: no line, no seal.
            return Ok((entry, Lines::new()));
        }
        let mut id = Vec::with_capacity(96);
        self.seal(core, keys, value, None, Form::Id, &mut id)?;
        Ok((entry, codec.lines(&id, 1)))
    }

    /// Seals `value` in `form` as the version the layer writes: the current schema, or the
    /// previous one through the down-migration during a rolling deploy. `encoded`, the
    /// value's encoding when one is kept (made by the change that led to this save, or the
    /// payload it came in), is sealed as is rather than encoded again.
    fn seal<T: CookieSession>(
        &self,
        core: &Core<T>,
        keys: &Keys,
        value: &T,
        encoded: Option<&[u8]>,
        form: Form,
        buf: &mut Vec<u8>,
    ) -> Result<u8, SessionError> {
        let codec = &core.codec;
        let (meta, subject) = (&self.meta, self.subject);
        match (&core.writer.downgrade, encoded) {
            (Some(seal), _) => seal(codec, keys, value, meta, subject, form, buf),
            (None, Some(payload)) if form != Form::Id => {
                codec.seal_encoded(keys, T::VERSION, payload, meta, subject, form, buf)
            }
            (None, _) => codec.seal_form(keys, value, meta, subject, form, buf),
        }
    }
}

/// The store work of a response, in the order that keeps every promise: the old session is
/// ended before anything new is handed out, and nothing new is handed out unless it was saved.
async fn run<T: CookieSession + Send + Sync>(
    core: Arc<Core<T>>,
    mut plan: Plan,
    mut lines: Lines,
    flash_lines: Lines,
    write: Option<(Sealing, Lifecycle<T>)>,
) -> Finished {
    // Every store call is boxed where it is awaited (the write, and the rarer calls of a
    // logout, a move, a flash record), so this future, boxed per response that saves, stays
    // under the allocator's per-thread cache limit (1,032 bytes for glibc) rather than
    // holding the state of its largest call inline.
    let persistence = &core.persistence;
    let mut write = write;
    if !plan.retire.is_empty() {
        match Box::pin(persistence.retire(&plan.retire)).await {
            Ok(true) => {}
            // A session moving in whose cookies a logout retired first: nothing is written.
            Ok(false) => {
                tracing::info!(
                    "the session was ended by another request while this one moved it; its change is dropped"
                );
                write = None;
            }
            Err(_) => return Finished::failed(),
        }
    }
    if let Some((sealing, lifecycle)) = write {
        match Box::pin(write_session(&core, &mut plan, sealing, &lifecycle)).await {
            Written::Lines(written) => {
                crate::metrics::written(!matches!(
                    lifecycle.read().incoming,
                    Incoming::Session { .. }
                ));
                chunk::append(&mut lines, written);
            }
            // Ended meanwhile (a logout, a regenerate elsewhere): no cookie for the dead id.
            Written::Ended => {
                tracing::info!(
                    "the session was ended by another request while this one ran; its change is dropped"
                );
            }
            Written::Failed => return Finished::failed(),
        }
    }
    if let Some((key, place)) = &plan.clean_up {
        Box::pin(persistence.clean_up(key, *place)).await;
    }
    if let Some((key, ttl)) = &plan.taken_flash {
        Box::pin(persistence.record_flash(key, *ttl)).await;
    }
    chunk::append(&mut lines, flash_lines);
    Finished {
        lines,
        failed: false,
    }
}

/// What writing the session came to.
enum Written {
    /// Its Set-Cookie lines.
    Lines(Lines),
    /// Its entry was gone: ended by another request.
    Ended,
    /// Not written: the response must say so.
    Failed,
}

/// Writes the session: reads what its header needs (the subject's generation), puts its
/// servers' markers in place, seals it, and saves it where it goes.
async fn write_session<T: CookieSession + Send + Sync>(
    core: &Core<T>,
    plan: &mut Plan,
    mut sealing: Sealing,
    lifecycle: &Lifecycle<T>,
) -> Written {
    let persistence = &core.persistence;
    let now = sealing.meta.last_access;
    // The request's snapshot: the generation, the markers and the seal under one set.
    let keys = Arc::clone(&lifecycle.inner.keys);
    if let (Some(tag), Some(subject)) = (plan.learn_generation, sealing.subject.as_mut()) {
        match Box::pin(persistence.generation(&keys, &tag)).await {
            Ok(generation) => subject.generation = generation,
            Err(err) => {
                tracing::error!(error = %err, "the subject's generation could not be read; the session is not saved");
                return Written::Failed;
            }
        }
    }
    if plan.ensure_markers {
        let since = Box::pin(persistence.ensure_markers(
            &keys,
            &sealing.meta,
            sealing.subject.as_ref(),
            now,
        ))
        .await;
        if since > sealing.meta.issued_at
            && !Box::pin(reissue(core, &mut sealing, since, now)).await
        {
            return Written::Failed;
        }
    }
    // Sealed from the request's state, as the handler left it (the lock is held only while
    // sealing). A generation learnt now changes the header, not the payload.
    let sealed = {
        let state = lifecycle.read();
        let current = current_ref(&state);
        let encoded = current.encoded.as_deref().map(Vec::as_slice);
        match sealing.cookie(core, &keys, &current.value, encoded) {
            Ok(Some(lines)) => Ok(Sealed::Cookie(lines)),
            Ok(None) => sealing
                .stored(core, &keys, &current.value, encoded)
                .map(|(entry, id)| Sealed::Store(entry, id)),
            Err(err) => Err(err),
        }
    };
    match sealed {
        Ok(Sealed::Cookie(lines)) => {
            // Back in its cookies from the store: only if its entry is still there (a logout
            // meanwhile deleted it), which the entry's replacement by a short-lived marker tells
            // in one call; the entry is then deleted.
            let leaving = match (sealing.old_entry, sealing.previous_entry) {
                (Some(old), _) => Some((old, Where::Current)),
                (None, Some(old)) => Some((old, Where::Previous)),
                (None, None) => None,
            };
            if let Some((old, place)) = leaving
                && plan.retire.entry.is_none()
            {
                let key = persistence::data_key_kept(sealing.entry_key.take(), &old);
                match Box::pin(persistence.claim(&key, place)).await {
                    Ok(true) => plan.clean_up = Some((key, place)),
                    Ok(false) => return Written::Ended,
                    Err(err) => {
                        tracing::error!(error = %err, "a session leaving the store could not be checked; not saved");
                        return Written::Failed;
                    }
                }
                if place == Where::Previous {
                    crate::metrics::moved("previous_store");
                }
            }
            Written::Lines(lines)
        }
        Ok(Sealed::Store(entry, id_lines)) => {
            let condition = match (sealing.same_id, sealing.in_store_before) {
                // The entry the request came with: never re-created once deleted.
                (true, true) => Condition::Present,
                // Moving in from the previous store: written where it goes first, then its old
                // entry claimed (below).
                (true, false) if sealing.previous_entry.is_some() => Condition::Absent,
                // The same session spilling from its cookies: two requests may spill it at once.
                (true, false) => Condition::Always,
                (false, _) => Condition::Absent,
            };
            let mut save = Save {
                key: persistence::data_key_kept(sealing.entry_key.take(), &sealing.meta.id),
                ttl: persistence::remaining(core.codec.lifetime(), &sealing.meta, now),
                condition,
            };
            let mut written = persistence.save(&save, &entry).await;
            let mut claim = sealing.previous_entry;
            if matches!(written, Ok(false)) && claim.is_some() && sealing.same_id {
                // Another request moved it first: this one is a write to that entry, which a
                // logout meanwhile deleted if it is gone.
                claim = None;
                save.condition = Condition::Present;
                written = Box::pin(persistence.save(&save, &entry)).await;
            }
            if let (Ok(true), Some(old)) = (&written, claim) {
                return Box::pin(moved_in(persistence, &save.key, old, id_lines)).await;
            }
            match written {
                Ok(true) => {
                    if sealing.moving_in {
                        crate::metrics::moved("cookies");
                    }
                    Written::Lines(id_lines)
                }
                Ok(false) if save.condition == Condition::Present => Written::Ended,
                Ok(false) => {
                    tracing::error!("a new session id is already in the store; not saved");
                    Written::Failed
                }
                Err(err) => {
                    tracing::error!(error = %err, "session could not be saved to the store; the previous session stays");
                    Written::Failed
                }
            }
        }
        Err(err) => {
            tracing::error!(schema = T::NAME, error = %err, "session could not be sealed; the previous session stays");
            Written::Failed
        }
    }
}

/// Ends a move into the current store, whose entry `key` was just written: the session's entry
/// in the previous store is claimed; if a logout deleted it meanwhile, the new entry is deleted
/// too, and the session is ended. (A logout deletes the previous entry first, then the current
/// one: in either order of the two requests' steps, nothing outlives the logout.)
async fn moved_in(
    persistence: &Persistence,
    key: &str,
    old: SessionId,
    id_lines: Lines,
) -> Written {
    let old_key = persistence::data_key(&old);
    let claimed = persistence.claim(&old_key, Where::Previous).await;
    match claimed {
        Ok(true) => {
            persistence.clean_up(&old_key, Where::Previous).await;
            crate::metrics::moved("previous_store");
            return Written::Lines(id_lines);
        }
        Ok(false) => {}
        Err(ref err) => {
            tracing::error!(error = %err, "a session moving from the previous store could not be checked there; not saved");
        }
    }
    if let Err(err) = persistence.undo_move(key).await {
        tracing::error!(error = %err, "a session logged out while it moved could not be deleted from the current store");
        return Written::Failed;
    }
    if claimed.is_err() {
        Written::Failed
    } else {
        Written::Ended
    }
}

/// A session about to be issued under records that begin after it (a server's marker written
/// later than its issue time): a new session is stamped with that time (at most the allowed
/// skew ahead); an existing one is moved to a new id issued then, its old id retired first, so
/// its absolute timeout is never reset and it is never taken for older than its records.
/// `false`: the old id could not be retired.
async fn reissue<T>(core: &Core<T>, sealing: &mut Sealing, since: u32, now: u32) -> bool {
    let ahead = u32::try_from(core.codec.lifetime().max_skew.as_secs()).unwrap_or(u32::MAX);
    let since = since.min(now.saturating_add(ahead));
    if !sealing.same_id {
        sealing.meta.issued_at = since;
        sealing.meta.last_access = sealing.meta.last_access.max(since);
        return true;
    }
    let old = sealing.meta;
    let Ok(fresh) = SessionMeta::new(since) else {
        return false;
    };
    let persistence = &core.persistence;
    let retire = Retire {
        entry: sealing
            .in_store_before
            .then(|| persistence::data_key(&old.id)),
        revoke: persistence.revocation_list().then(|| {
            (
                persistence::revoked_key(&old.id),
                persistence::remaining(core.codec.lifetime(), &old, now),
            )
        }),
        exclusive: false,
    };
    if !matches!(persistence.retire(&retire).await, Ok(true)) {
        return false;
    }
    sealing.meta = fresh;
    sealing.same_id = false;
    sealing.in_store_before = false;
    sealing.old_entry = None;
    sealing.id_kept = false;
    true
}

/// Checks that `value` is within its bounds and still fits the session's cookies (or its
/// store), and encodes it into `buf`. `Ok(false)`: it fits, but could not be encoded; a schema
/// whose worst case fits is not refused for that here (its save reports it).
fn encode_fitting<T: CookieSession>(
    value: &T,
    core: &Core<T>,
    buf: &mut Vec<u8>,
) -> Result<bool, SessionError> {
    value.check_bounds()?;
    let codec = &core.codec;
    // With a store (always, or for overflow), a session may grow past its cookies.
    let limit = match core.persistence.mode() {
        Some(_) => MAX_STORED_LEN,
        None => codec.capacity_total(),
    };
    // Within its bounds, a schema whose worst case fits needs no measuring.
    let measured = T::MAX_ENCODED_LEN.is_none_or(|max| codec.worst_value_len(max) > limit);
    if let Err(err) = encode_into(value, buf) {
        return if measured { Err(err) } else { Ok(false) };
    }
    let size = codec.worst_value_len(buf.len());
    if measured && size > limit {
        return Err(SessionError::TooLarge {
            size,
            budget: limit,
        });
    }
    Ok(true)
}
