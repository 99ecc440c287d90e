//! The SplitID device core: what a phone app does, as a library. The `splitid app` command
//! uses it today; a mobile or web front end can tomorrow.
//!
//! * [`vault`]: the device's store (one file, written atomically): per account the sealed key
//!   shares, the channel keys and the certificates. Never a PIN, never the server's share.
//! * [`channel`]: the authenticated, ratcheted HTTP channel to the server.
//! * [`flows`]: registration, checking for transactions, confirming, refusing, deleting.
//! * [`ports`]: what the core needs from its device (storage, transport, clock, randomness),
//!   with the desktop's implementations and in-memory ones for tests.

pub mod certificate;
pub mod channel;
pub mod error;
pub mod flows;
pub mod ports;
pub mod vault;

pub use error::AppError;
pub use flows::App;
