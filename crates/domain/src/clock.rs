//! Time, behind a trait so that lock timers and session timeouts can be tested with a clock
//! the test controls.

use time::OffsetDateTime;

#[cfg(feature = "test-support")]
pub use offset::OffsetClock;

/// The current time.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> OffsetDateTime;
}

/// The system clock, in UTC.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// Only in builds with the `test-support` feature (the test kit's).
#[cfg(feature = "test-support")]
mod offset {
    use std::sync::{Arc, Mutex};

    use time::{Duration, OffsetDateTime};

    use super::Clock;

    /// The system clock plus an offset that tests move forward (for example across a 3-hour
    /// PIN lock) without waiting.
    #[derive(Debug, Clone, Default)]
    pub struct OffsetClock {
        offset: Arc<Mutex<Duration>>,
    }

    impl OffsetClock {
        /// Moves the clock forward by `by`.
        pub fn advance(&self, by: Duration) {
            let mut offset = self.offset.lock().unwrap_or_else(|e| e.into_inner());
            *offset += by;
        }
    }

    impl Clock for OffsetClock {
        fn now(&self) -> OffsetDateTime {
            let offset = *self.offset.lock().unwrap_or_else(|e| e.into_inner());
            OffsetDateTime::now_utc() + offset
        }
    }
}
