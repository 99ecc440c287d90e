//! Posting one message to one subscription's push service (RFC 8030 §5).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use reqwest::header::RETRY_AFTER;
use reqwest::redirect::Policy;

use crate::{Subscription, VapidKey};

/// Messages are padded to a multiple of this, so that the push service cannot tell one
/// e-service's name from another's by the length.
const PAD_TO: usize = 256;
/// Longest message (push services take 4096 bytes of encrypted body; headers and padding
/// need some of them).
const MAX_MESSAGE: usize = 3072;
/// How long one push service may take to answer: the session never waits for it, but a
/// sending task should not linger.
const TIMEOUT: Duration = Duration::from_secs(10);
/// Longest `Retry-After` waited out before the message that met a 429 is sent again (once); a
/// longer one drops it: the app finds the transaction when it is opened.
const MAX_RETRY_WAIT: Duration = Duration::from_secs(30);
/// The back-off after a 429 without a `Retry-After` in seconds.
const DEFAULT_BACKOFF: Duration = Duration::from_secs(10);
/// Longest back-off honoured: a push service cannot silence the service for days.
const MAX_BACKOFF: Duration = Duration::from_secs(3600);

/// What became of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// The push service took it (2xx).
    Accepted,
    /// The subscription is gone for good (404 or 410): forget it.
    Gone,
    /// The push service refused it for another reason (its status code).
    Refused(u16),
    /// No answer (connection, timeout): the message is lost, the subscription may be fine.
    Unreachable(String),
    /// Not sent: the message could not be made (too long, a signing failure).
    NotSent(String),
    /// The push service asked to slow down (429): the message was refused again after the
    /// wait, or not sent at all, because the wait was too long or another message's 429 had
    /// the service back off from that push service.
    Throttled,
}

/// What one POST came to.
enum Posted {
    Done(Delivery),
    /// 429, with the wait the push service asked for.
    TooMany(Duration),
}

/// Sends Web Push messages as this service (its VAPID key and contact address).
pub struct PushSender {
    client: reqwest::Client,
    vapid: VapidKey,
    contact: Option<String>,
    /// Per push-service origin, when a 429's back-off ends: nothing is posted there before.
    backing_off: Mutex<HashMap<String, Instant>>,
}

/// A 429's `Retry-After` in seconds (RFC 9110 §10.2.3; an HTTP date counts as none), capped.
fn retry_after(headers: &reqwest::header::HeaderMap) -> Duration {
    headers
        .get(RETRY_AFTER)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse::<u64>().ok())
        .map_or(DEFAULT_BACKOFF, Duration::from_secs)
        .min(MAX_BACKOFF)
}

/// `message` padded with JSON whitespace (which every JSON reader skips) to a multiple of
/// [`PAD_TO`] bytes.
fn padded(message: &[u8]) -> Vec<u8> {
    let mut padded = message.to_vec();
    padded.resize(message.len().div_ceil(PAD_TO).max(1) * PAD_TO, b' ');
    padded
}

impl PushSender {
    /// `contact` is the `mailto:` or `https:` address a push service's operator can reach the
    /// service's operator at (RFC 8292 §2.1), if there is one.
    pub fn new(vapid: VapidKey, contact: Option<String>) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            .redirect(Policy::none())
            .timeout(TIMEOUT)
            .connect_timeout(Duration::from_secs(5))
            .build()?;
        Ok(PushSender {
            client,
            vapid,
            contact,
            backing_off: Mutex::default(),
        })
    }

    fn backing_off_from(&self, origin: &str) -> bool {
        let mut backing_off = self.backing_off.lock().unwrap_or_else(|e| e.into_inner());
        backing_off.retain(|_, until| *until > Instant::now());
        backing_off.contains_key(origin)
    }

    fn back_off_from(&self, origin: &str, wait: Duration) {
        let until = Instant::now() + wait;
        let mut backing_off = self.backing_off.lock().unwrap_or_else(|e| e.into_inner());
        let entry = backing_off.entry(origin.to_owned()).or_insert(until);
        *entry = (*entry).max(until);
    }

    /// The `applicationServerKey` subscriptions must be made with.
    pub fn public_key(&self) -> String {
        self.vapid.public_key()
    }

    /// Encrypts `message` (JSON) for the subscription and posts it, to be kept by the push
    /// service for at most `ttl` (the transaction's time left) and delivered at once
    /// (`Urgency: high`: someone is waiting at an e-service). `now` is Unix seconds.
    ///
    /// A push service that answers 429 gets nothing more until its `Retry-After` (default
    /// 10 s, at most an hour) has passed; the message that met the 429 is sent once more after
    /// the wait if the wait is short (≤ 30 s) and the message still worth sending then.
    pub async fn send(
        &self,
        subscription: &Subscription,
        message: &[u8],
        ttl: Duration,
        now: i64,
    ) -> Delivery {
        if message.len() > MAX_MESSAGE {
            return Delivery::NotSent(format!("message longer than {MAX_MESSAGE} bytes"));
        }
        let auth = subscription.auth_secret().into();
        let body =
            match web_push_native::encrypt(padded(message), &subscription.public_key(), &auth) {
                Ok(body) => body,
                Err(error) => return Delivery::NotSent(format!("encryption: {error}")),
            };
        let authorization =
            match self
                .vapid
                .authorization(&subscription.origin(), self.contact.as_deref(), now)
            {
                Ok(header) => header,
                Err(error) => return Delivery::NotSent(error.to_string()),
            };
        let origin = subscription.origin();
        if self.backing_off_from(&origin) {
            return Delivery::Throttled;
        }
        let wait = match self.post(subscription, &body, &authorization, ttl).await {
            Posted::Done(delivery) => return delivery,
            Posted::TooMany(wait) => wait,
        };
        self.back_off_from(&origin, wait);
        let Some(ttl_then) = ttl.checked_sub(wait).filter(|left| !left.is_zero()) else {
            return Delivery::Throttled;
        };
        if wait > MAX_RETRY_WAIT {
            return Delivery::Throttled;
        }
        tokio::time::sleep(wait).await;
        match self
            .post(subscription, &body, &authorization, ttl_then)
            .await
        {
            Posted::Done(delivery) => delivery,
            Posted::TooMany(wait) => {
                self.back_off_from(&origin, wait);
                Delivery::Throttled
            }
        }
    }

    async fn post(
        &self,
        subscription: &Subscription,
        body: &[u8],
        authorization: &str,
        ttl: Duration,
    ) -> Posted {
        let sent = self
            .client
            .post(subscription.endpoint())
            .header("TTL", ttl.as_secs().to_string())
            .header("Urgency", "high")
            .header("Content-Encoding", "aes128gcm")
            .header("Content-Type", "application/octet-stream")
            .header("Authorization", authorization)
            .body(body.to_vec())
            .send()
            .await;
        Posted::Done(match sent {
            Ok(answer) if answer.status().is_success() => Delivery::Accepted,
            Ok(answer) if matches!(answer.status(), StatusCode::NOT_FOUND | StatusCode::GONE) => {
                Delivery::Gone
            }
            Ok(answer) if answer.status() == StatusCode::TOO_MANY_REQUESTS => {
                return Posted::TooMany(retry_after(answer.headers()));
            }
            Ok(answer) => Delivery::Refused(answer.status().as_u16()),
            Err(error) => Delivery::Unreachable(error.without_url().to_string()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_is_read_in_seconds_with_a_default_and_a_cap() {
        let with = |value: &str| {
            let mut headers = reqwest::header::HeaderMap::new();
            headers.insert(RETRY_AFTER, value.parse().unwrap());
            retry_after(&headers)
        };
        assert_eq!(with("5"), Duration::from_secs(5));
        assert_eq!(with(" 120 "), Duration::from_secs(120));
        assert_eq!(with("Wed, 21 Oct 2026 07:28:00 GMT"), DEFAULT_BACKOFF);
        assert_eq!(with("-3"), DEFAULT_BACKOFF);
        assert_eq!(with("99999999"), MAX_BACKOFF);
        assert_eq!(
            retry_after(&reqwest::header::HeaderMap::new()),
            DEFAULT_BACKOFF
        );
    }

    #[test]
    fn messages_are_padded_to_whole_blocks_of_json_whitespace() {
        assert_eq!(padded(b"{}").len(), PAD_TO);
        assert_eq!(padded(&[b'x'; PAD_TO]).len(), PAD_TO);
        assert_eq!(padded(&[b'x'; PAD_TO + 1]).len(), 2 * PAD_TO);
        let message = br#"{"kind":"authentication","relyingPartyName":"Demo Bank"}"#;
        let value: serde_json::Value = serde_json::from_slice(&padded(message)).unwrap();
        assert_eq!(value["relyingPartyName"], "Demo Bank");
    }
}
