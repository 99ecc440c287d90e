//! The SplitID device core: what a phone app does, as a library, for any platform: the
//! `splitid app` command runs it natively, the installable web app in WebAssembly.
//!
//! * [`vault`]: the device's store (one file, written atomically): per account the sealed key
//!   shares, the channel keys and the certificates. Never a PIN, never the server's share.
//! * [`channel`]: the authenticated, ratcheted HTTP channel to the server.
//! * [`flows`]: registration, checking for transactions, confirming, refusing, deleting.
//! * [`oidc`]: signing in at the server's OpenID Connect provider by redirect (proofing).
//! * [`ports`]: what the core needs from its device (storage, transport, clock, randomness),
//!   with in-memory implementations for tests; the desktop's are in `desktop` (feature
//!   `desktop`, the default), the browser's in `crates/web-app`.

pub mod certificate;
pub mod channel;
#[cfg(feature = "desktop")]
pub mod desktop;
pub mod error;
pub mod flows;
pub mod oidc;
pub mod ports;
pub mod qr;
pub mod vault;

pub use error::AppError;
pub use flows::App;
