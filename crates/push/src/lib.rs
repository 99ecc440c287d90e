//! Web Push for SplitID: telling a phone's browser that a transaction waits, through the push
//! service of the browser's maker (RFC 8030).
//!
//! - [`Subscription`]: what the browser's `PushManager` gave the app (endpoint, P-256 key,
//!   auth secret), checked before the service stores it; only endpoints at the
//!   [`PushOrigins`] the operator allows are accepted, so a device cannot make the service
//!   send requests anywhere else.
//! - [`VapidKey`]: the service's VAPID identity (RFC 8292), an ECDSA P-256 key; the domain
//!   keeps it sealed under the key store's key-encryption key.
//! - [`PushSender`]: encrypts a message for one subscription (RFC 8291, aes128gcm, with
//!   `web-push-native`), signs the VAPID token and posts it; [`Delivery`] says what became of it
//!   (a push service answering 404 or 410 means the subscription is gone for good).
//!
//! The push service sees only the encrypted message, its (padded) length and the VAPID token;
//! what the message says is the domain's business.

mod origins;
mod send;
mod subscription;
mod vapid;

pub use origins::{DEFAULT_PUSH_ORIGINS, OriginError, PushOrigins};
pub use send::{Delivery, PushSender};
pub use subscription::{Subscription, SubscriptionError};
pub use vapid::{VapidError, VapidKey};

/// Base64url without padding, as Web Push and JWTs write keys and tokens.
pub(crate) fn base64url(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Base64url with or without padding (browsers' `toJSON()` leaves it out; some libraries add it).
pub(crate) fn from_base64url(text: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text.trim_end_matches('='))
        .ok()
}
