//! The PIN policy: 3 wrong PINs in a row lock a key for 3 hours, 6 for 24 hours, 9 for good.
//! A right PIN resets the count. PIN1 (authentication) and PIN2 (signing) count separately.
//!
//! The counter is advanced *before* the PIN is checked and stored durably first, so a crash
//! or a burst of parallel requests can never earn an extra guess; a right PIN then resets it.

use serde::{Deserialize, Serialize};
use splitid_proto::app_v1::PinStatus;
use time::{Duration, OffsetDateTime};

/// Wrong PINs in a row that trigger each lock.
pub const FIRST_LOCK_AFTER: u32 = 3;
pub const SECOND_LOCK_AFTER: u32 = 6;
pub const PERMANENT_LOCK_AFTER: u32 = 9;
pub const FIRST_LOCK: Duration = Duration::hours(3);
pub const SECOND_LOCK: Duration = Duration::hours(24);

/// The durable state of one key's PIN counter, as the store keeps it; the policy below says
/// what it means ([`PinPolicy`]).
pub use splitid_store::PinCounter;

/// The lock that the next run of wrong PINs brings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NextLock {
    ThreeHours,
    TwentyFourHours,
    Permanent,
}

/// What a key's PIN allows right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum PinState {
    /// Usable; this many wrong PINs more and it locks, as `next_lock` says.
    Usable {
        attempts_before_lock: u32,
        next_lock: NextLock,
    },
    /// Locked until the given time.
    Locked {
        #[serde(with = "time::serde::rfc3339")]
        until: OffsetDateTime,
    },
    /// Locked for good: the account must be deleted and registered again.
    PermanentlyLocked,
}

/// The 3/6/9 policy over a stored [`PinCounter`].
pub trait PinPolicy: Sized {
    /// What the PIN allows at `now`.
    fn state(&self, now: OffsetDateTime) -> PinState;
    /// Counts an attempt as wrong, with the lock it would bring, *before* the PIN is judged.
    /// Store the result durably, then check the PIN; a right PIN undoes it with
    /// [`right_pin`](Self::right_pin). A crash in between leaves the attempt counted.
    fn begin_attempt(self, now: OffsetDateTime) -> Self;
    /// The attempt was right: the count starts again.
    fn right_pin(self) -> Self;
}

impl PinPolicy for PinCounter {
    fn state(&self, now: OffsetDateTime) -> PinState {
        if self.wrong_in_a_row >= PERMANENT_LOCK_AFTER {
            return PinState::PermanentlyLocked;
        }
        if let Some(until) = self.locked_until.filter(|until| *until > now) {
            return PinState::Locked { until };
        }
        let (threshold, next_lock) = [
            (FIRST_LOCK_AFTER, NextLock::ThreeHours),
            (SECOND_LOCK_AFTER, NextLock::TwentyFourHours),
            (PERMANENT_LOCK_AFTER, NextLock::Permanent),
        ]
        .into_iter()
        .find(|&(threshold, _)| threshold > self.wrong_in_a_row)
        .unwrap_or((PERMANENT_LOCK_AFTER, NextLock::Permanent));
        PinState::Usable {
            attempts_before_lock: threshold - self.wrong_in_a_row,
            next_lock,
        }
    }

    fn begin_attempt(self, now: OffsetDateTime) -> Self {
        let wrong_in_a_row = self.wrong_in_a_row.saturating_add(1);
        let locked_until = match wrong_in_a_row {
            FIRST_LOCK_AFTER => Some(now + FIRST_LOCK),
            SECOND_LOCK_AFTER => Some(now + SECOND_LOCK),
            _ => self.locked_until,
        };
        PinCounter {
            wrong_in_a_row,
            locked_until,
        }
    }

    fn right_pin(self) -> Self {
        PinCounter::default()
    }
}

/// The PIN state as the app shows it.
pub fn pin_status(state: PinState) -> PinStatus {
    match state {
        PinState::Usable {
            attempts_before_lock,
            next_lock,
        } => PinStatus::Usable {
            attempts_before_lock,
            next_lock: match next_lock {
                NextLock::ThreeHours => "3h",
                NextLock::TwentyFourHours => "24h",
                NextLock::Permanent => "permanent",
            }
            .to_owned(),
        },
        PinState::Locked { until } => PinStatus::Locked {
            until: super::rfc3339(until),
        },
        PinState::PermanentlyLocked => PinStatus::PermanentlyLocked,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usable(attempts_before_lock: u32, next_lock: NextLock) -> PinState {
        PinState::Usable {
            attempts_before_lock,
            next_lock,
        }
    }

    fn fail(counter: PinCounter, now: OffsetDateTime) -> PinCounter {
        counter.begin_attempt(now)
    }

    #[test]
    fn three_six_nine() {
        let mut now = OffsetDateTime::UNIX_EPOCH;
        let mut counter = PinCounter::default();
        assert_eq!(counter.state(now), usable(3, NextLock::ThreeHours));
        counter = fail(counter, now);
        counter = fail(counter, now);
        assert_eq!(counter.state(now), usable(1, NextLock::ThreeHours));
        counter = fail(counter, now);
        assert_eq!(
            counter.state(now),
            PinState::Locked {
                until: now + Duration::hours(3)
            }
        );
        assert!(matches!(
            counter.state(now + Duration::hours(3) - Duration::SECOND),
            PinState::Locked { .. }
        ));

        now += Duration::hours(3);
        assert_eq!(counter.state(now), usable(3, NextLock::TwentyFourHours));
        for _ in 0..3 {
            counter = fail(counter, now);
        }
        assert_eq!(
            counter.state(now),
            PinState::Locked {
                until: now + Duration::hours(24)
            }
        );

        now += Duration::hours(24);
        assert_eq!(counter.state(now), usable(3, NextLock::Permanent));
        for _ in 0..3 {
            counter = fail(counter, now);
        }
        assert_eq!(counter.state(now), PinState::PermanentlyLocked);
        assert_eq!(
            counter.state(now + Duration::days(10_000)),
            PinState::PermanentlyLocked
        );
    }

    #[test]
    fn a_right_pin_resets_the_count() {
        let now = OffsetDateTime::UNIX_EPOCH;
        let counter = fail(fail(PinCounter::default(), now), now);
        let counter = counter.begin_attempt(now).right_pin();
        assert_eq!(counter.state(now), usable(3, NextLock::ThreeHours));
    }

    #[test]
    fn an_unjudged_attempt_counts_as_wrong_with_its_lock() {
        // A crash (or a parallel request) after begin_attempt cannot win a free guess.
        let now = OffsetDateTime::UNIX_EPOCH;
        let counter = (0..3).fold(PinCounter::default(), |c, _| c.begin_attempt(now));
        assert_eq!(
            counter.state(now),
            PinState::Locked {
                until: now + FIRST_LOCK
            }
        );
    }
}
