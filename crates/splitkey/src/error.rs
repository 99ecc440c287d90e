//! The crate's one error type. Every variant says which party is at fault, so callers can map
//! it to the right answer: a wrong PIN is counted, malformed input is refused, and an
//! inconsistent key is an operator's alarm.

use thiserror::Error;

/// Why a modulus received from a device was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum ModulusRejection {
    #[error("modulus has {actual} bits, expected exactly {expected}")]
    WrongSize { expected: usize, actual: usize },
    #[error("modulus is below √2·2^(bits−1), so no composite key of full size can be formed")]
    TooSmallForComposite,
    #[error("modulus is even")]
    Even,
    #[error("modulus is a perfect power")]
    PerfectPower,
    #[error("modulus has a prime factor below 2^20 ({0})")]
    SmallFactor(u32),
    #[error("modulus is (probably) prime, not a product of two primes")]
    NotComposite,
}

/// Errors of the split-key protocol.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Error {
    /// The device's partial signature does not complete to a valid signature: the PIN that
    /// opened the device share was wrong (or the device share does not belong to this key).
    /// Only the server can reach this verdict.
    #[error("wrong PIN")]
    WrongPin,
    /// A PIN that is not 4 to 12 decimal digits, or shorter than the key requires.
    #[error("invalid PIN: {0}")]
    InvalidPin(&'static str),
    /// Input from a peer that is malformed: wrong length, out of range, bad encoding.
    #[error("invalid input: {0}")]
    InvalidInput(&'static str),
    /// A modulus sent for registration failed the server's screening.
    #[error("modulus rejected: {0}")]
    InvalidModulus(#[from] ModulusRejection),
    /// Key material that should fit together does not (a failed self-test or final check).
    /// This is never the peer's fault alone: raise an alarm.
    #[error("inconsistent key: {0}")]
    InconsistentKey(&'static str),
    /// The cryptographic backend failed (out of memory, OS RNG unavailable).
    #[error("crypto backend failure: {0}")]
    Backend(&'static str),
}
