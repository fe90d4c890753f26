//! Where the middleware reads "now" from: the system clock, or a clock tests move by hand.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use crate::codec::unix_now;

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
