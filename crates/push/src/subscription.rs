//! A browser's push subscription, as the app hands it over (`PushSubscription.toJSON()`).

use reqwest::Url;
use web_push_native::p256::PublicKey;

use crate::{PushOrigins, from_base64url};

/// Longest endpoint accepted (real ones are a few hundred characters).
const MAX_ENDPOINT_LENGTH: usize = 2048;

/// Why a subscription was refused: said to the device as it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubscriptionError {
    #[error("the push endpoint is not a URL")]
    NotAUrl,
    #[error("the push endpoint is longer than {MAX_ENDPOINT_LENGTH} characters")]
    TooLong,
    #[error("this service does not send to that push service (its origin is not allowed)")]
    OriginNotAllowed,
    #[error("keys.p256dh is not a base64url P-256 public key")]
    BadPublicKey,
    #[error("keys.auth is not a base64url 16-byte secret")]
    BadAuthSecret,
}

/// A checked subscription: where to post, and what to encrypt to.
#[derive(Clone, PartialEq, Eq)]
pub struct Subscription {
    endpoint: Url,
    /// The browser's P-256 public key, uncompressed (65 bytes).
    p256dh: Vec<u8>,
    auth: [u8; 16],
}

/// The endpoint is a capability (whoever knows it and the VAPID key can notify the phone):
/// it stays out of logs.
impl std::fmt::Debug for Subscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscription")
            .field("push_service", &self.endpoint.host_str())
            .finish_non_exhaustive()
    }
}

impl Subscription {
    /// Checks what a browser gave: an endpoint at an allowed origin, a valid P-256 point and a
    /// 16-byte auth secret (both base64url).
    pub fn parse(
        endpoint: &str,
        p256dh: &str,
        auth: &str,
        origins: &PushOrigins,
    ) -> Result<Self, SubscriptionError> {
        if endpoint.len() > MAX_ENDPOINT_LENGTH {
            return Err(SubscriptionError::TooLong);
        }
        let endpoint = Url::parse(endpoint).map_err(|_| SubscriptionError::NotAUrl)?;
        if !endpoint.username().is_empty() || endpoint.password().is_some() {
            return Err(SubscriptionError::NotAUrl);
        }
        if !origins.allow(&endpoint) {
            return Err(SubscriptionError::OriginNotAllowed);
        }
        let p256dh = from_base64url(p256dh)
            .filter(|key| key.len() == 65 && PublicKey::from_sec1_bytes(key).is_ok())
            .ok_or(SubscriptionError::BadPublicKey)?;
        let auth = from_base64url(auth)
            .and_then(|auth| <[u8; 16]>::try_from(auth).ok())
            .ok_or(SubscriptionError::BadAuthSecret)?;
        Ok(Subscription {
            endpoint,
            p256dh,
            auth,
        })
    }

    pub fn endpoint(&self) -> &str {
        self.endpoint.as_str()
    }

    /// The endpoint's origin: the VAPID token's audience.
    pub fn origin(&self) -> String {
        self.endpoint.origin().ascii_serialization()
    }

    /// The public key, base64url (for storing).
    pub fn p256dh(&self) -> String {
        crate::base64url(&self.p256dh)
    }

    /// The auth secret, base64url (for storing).
    pub fn auth(&self) -> String {
        crate::base64url(&self.auth)
    }

    pub(crate) fn public_key(&self) -> PublicKey {
        PublicKey::from_sec1_bytes(&self.p256dh).expect("checked when parsed")
    }

    pub(crate) fn auth_secret(&self) -> [u8; 16] {
        self.auth
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // A browser's subscription keys (RFC 8291 §5's example).
    const P256DH: &str =
        "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4";
    const AUTH: &str = "BTBZMqHH6r4Tts7J_aSIgg";
    const ENDPOINT: &str = "https://fcm.googleapis.com/fcm/send/abc";

    #[test]
    fn a_browsers_subscription_is_read_and_written_back_the_same() {
        let subscription =
            Subscription::parse(ENDPOINT, P256DH, AUTH, &PushOrigins::default()).unwrap();
        assert_eq!(subscription.p256dh(), P256DH);
        assert_eq!(subscription.auth(), AUTH);
        assert_eq!(subscription.endpoint(), ENDPOINT);
        assert_eq!(subscription.origin(), "https://fcm.googleapis.com");
        let padded = Subscription::parse(
            ENDPOINT,
            &format!("{P256DH}="),
            &format!("{AUTH}=="),
            &PushOrigins::default(),
        )
        .unwrap();
        assert_eq!(padded, subscription);
        assert!(!format!("{subscription:?}").contains("/fcm/send/abc"));
    }

    #[test]
    fn each_bad_part_is_named() {
        let origins = PushOrigins::default();
        let parse = |endpoint: &str, p256dh: &str, auth: &str| {
            Subscription::parse(endpoint, p256dh, auth, &origins).unwrap_err()
        };
        assert_eq!(parse("not a url", P256DH, AUTH), SubscriptionError::NotAUrl);
        assert_eq!(
            parse("https://user:pw@fcm.googleapis.com/x", P256DH, AUTH),
            SubscriptionError::NotAUrl
        );
        let long = format!("{ENDPOINT}/{}", "a".repeat(MAX_ENDPOINT_LENGTH));
        assert_eq!(parse(&long, P256DH, AUTH), SubscriptionError::TooLong);
        assert_eq!(
            parse("http://10.0.0.1/admin", P256DH, AUTH),
            SubscriptionError::OriginNotAllowed
        );
        assert_eq!(parse(ENDPOINT, AUTH, AUTH), SubscriptionError::BadPublicKey);
        // 65 bytes, but not a point on the curve.
        let off_curve = crate::base64url(&[&[4u8][..], &[7u8; 64]].concat());
        assert_eq!(
            parse(ENDPOINT, &off_curve, AUTH),
            SubscriptionError::BadPublicKey
        );
        assert_eq!(
            parse(ENDPOINT, P256DH, "c2hvcnQ"),
            SubscriptionError::BadAuthSecret
        );
        assert_eq!(
            parse(ENDPOINT, P256DH, "!!"),
            SubscriptionError::BadAuthSecret
        );
    }
}
