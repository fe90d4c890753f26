//! Time: where the middleware reads "now" from (the system clock, or a clock tests move by
//! hand), and the lifetime rules measured with it from a session's sealed timestamps.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use crate::envelope::SessionMeta;
use crate::error::{Expiry, OpenError};

/// The current time in Unix seconds, as sealed headers store it (saturating at `u32::MAX`, the
/// year 2106).
pub(crate) fn unix_now() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u32::try_from(d.as_secs()).unwrap_or(u32::MAX))
}

/// How long a session lives, from its sealed timestamps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Lifetime {
    pub(crate) idle: Option<Duration>,
    pub(crate) absolute: Option<Duration>,
    /// How stale `last_access` may get before an unchanged session is re-sealed.
    pub(crate) refresh_after: Duration,
    /// How far ahead of this clock a sealed timestamp may be (instances' clocks differ a little).
    pub(crate) max_skew: Duration,
}

impl Default for Lifetime {
    fn default() -> Self {
        Lifetime {
            idle: Some(Duration::from_secs(30 * 60)),
            absolute: Some(Duration::from_secs(12 * 60 * 60)),
            refresh_after: Duration::from_secs(60),
            max_skew: Duration::from_secs(5 * 60),
        }
    }
}

impl Lifetime {
    /// Refuses a session past its idle or absolute timeout at `now`.
    pub(crate) fn check(&self, meta: &SessionMeta, now: u32) -> Result<(), OpenError> {
        self.check_absolute(meta, now)?;
        let elapsed = Duration::from_secs(u64::from(now.saturating_sub(meta.last_access)));
        if self.idle.is_some_and(|limit| elapsed > limit) {
            return Err(OpenError::Expired(Expiry::Idle));
        }
        Ok(())
    }

    /// Refuses a session past its absolute timeout, or sealed too far in the future, at `now`:
    /// the checks of an id cookie, whose entry holds the session's last access (and is checked
    /// against the idle timeout when it is opened).
    pub(crate) fn check_absolute(&self, meta: &SessionMeta, now: u32) -> Result<(), OpenError> {
        let newest = meta.issued_at.max(meta.last_access);
        let ahead = newest.saturating_sub(now);
        if u64::from(ahead) > self.max_skew.as_secs() {
            return Err(OpenError::FromTheFuture { ahead_secs: ahead });
        }
        let elapsed = |since: u32| Duration::from_secs(u64::from(now.saturating_sub(since)));
        if self
            .absolute
            .is_some_and(|limit| elapsed(meta.issued_at) > limit)
        {
            return Err(OpenError::Expired(Expiry::Absolute));
        }
        Ok(())
    }

    /// How long after now a session that is not used again can still open: the shorter of the
    /// two timeouts. A month when neither is set (the builder refuses that with a store).
    pub(crate) fn longest(&self) -> Duration {
        match (self.idle, self.absolute) {
            (Some(idle), Some(absolute)) => idle.min(absolute),
            (Some(limit), None) | (None, Some(limit)) => limit,
            (None, None) => Duration::from_secs(30 * 24 * 60 * 60),
        }
    }

    /// Whether an unchanged session opened at `now` should be re-sealed to move its idle expiry.
    pub(crate) fn refresh_due(&self, meta: &SessionMeta, now: u32) -> bool {
        self.idle.is_some()
            && u64::from(now.saturating_sub(meta.last_access)) >= self.refresh_after.as_secs()
    }
}

/// The time source of a [`SessionLayer`](crate::SessionLayer), in Unix seconds.
///
/// Idle and absolute expiry are computed from the timestamps sealed in the cookie and this
/// clock, never from the browser's `Max-Age`.
#[derive(Debug, Clone, Default)]
pub enum Clock {
    /// The system clock (the default).
    #[default]
    System,
    /// A clock that moves only when told to: for tests of expiry and refresh.
    Manual(ManualClock),
}

impl Clock {
    /// The current time in Unix seconds.
    pub fn now(&self) -> u32 {
        match self {
            Clock::System => unix_now(),
            Clock::Manual(clock) => clock.now(),
        }
    }
}

impl From<ManualClock> for Clock {
    fn from(clock: ManualClock) -> Self {
        Clock::Manual(clock)
    }
}

/// A hand-driven clock; clones share the same time.
///
/// ```
/// use std::time::Duration;
/// use session_runtime::ManualClock;
///
/// let clock = ManualClock::new(1_700_000_000);
/// let seen_by_layer = clock.clone();
/// clock.advance(Duration::from_secs(31 * 60));
/// assert_eq!(seen_by_layer.now(), 1_700_000_000 + 31 * 60);
/// ```
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<AtomicU32>);

impl ManualClock {
    /// A clock stopped at `unix_seconds`.
    pub fn new(unix_seconds: u32) -> Self {
        ManualClock(Arc::new(AtomicU32::new(unix_seconds)))
    }

    /// A clock stopped at the current system time.
    pub fn starting_now() -> Self {
        Self::new(unix_now())
    }

    /// The time it shows.
    pub fn now(&self) -> u32 {
        self.0.load(Ordering::Relaxed)
    }

    /// Sets the time.
    pub fn set(&self, unix_seconds: u32) {
        self.0.store(unix_seconds, Ordering::Relaxed);
    }

    /// Moves the time forward (saturating in the year 2106).
    pub fn advance(&self, by: Duration) {
        let secs = u32::try_from(by.as_secs()).unwrap_or(u32::MAX);
        let _ = self
            .0
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |t| {
                Some(t.saturating_add(secs))
            });
    }
}
