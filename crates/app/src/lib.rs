//! The SplitID device core: what a phone app does, as a library. The `splitid app` command
//! uses it today; a mobile or web front end can tomorrow.
//!
//! * [`vault`]: the device's store (one file, written atomically): per account the sealed key
//!   shares, the channel keys and the certificates. Never a PIN, never the server's share.
//! * [`channel`]: the authenticated, ratcheted HTTP channel to the server.
//! * [`flows`]: registration, checking for transactions, confirming, refusing, deleting.

pub mod channel;
pub mod flows;
pub mod vault;

pub use flows::{App, AppError};
