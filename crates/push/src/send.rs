//! Posting one message to one subscription's push service (RFC 8030 §5).

use std::time::Duration;

use reqwest::StatusCode;
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
}

/// Sends Web Push messages as this service (its VAPID key and contact address).
pub struct PushSender {
    client: reqwest::Client,
    vapid: VapidKey,
    contact: Option<String>,
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
        })
    }

    /// The `applicationServerKey` subscriptions must be made with.
    pub fn public_key(&self) -> String {
        self.vapid.public_key()
    }

    /// Encrypts `message` (JSON) for the subscription and posts it, to be kept by the push
    /// service for at most `ttl` (the transaction's time left) and delivered at once
    /// (`Urgency: high`: someone is waiting at an e-service). `now` is Unix seconds.
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
        let sent = self
            .client
            .post(subscription.endpoint())
            .header("TTL", ttl.as_secs().to_string())
            .header("Urgency", "high")
            .header("Content-Encoding", "aes128gcm")
            .header("Content-Type", "application/octet-stream")
            .header("Authorization", authorization)
            .body(body)
            .send()
            .await;
        match sent {
            Ok(answer) if answer.status().is_success() => Delivery::Accepted,
            Ok(answer) if matches!(answer.status(), StatusCode::NOT_FOUND | StatusCode::GONE) => {
                Delivery::Gone
            }
            Ok(answer) => Delivery::Refused(answer.status().as_u16()),
            Err(error) => Delivery::Unreachable(error.without_url().to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
