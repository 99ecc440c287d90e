//! The relying-party REST API v3, compatible with Smart-ID RP API 3.2 (docs/spec/rp-api.md §2):
//! its bodies, and the values both ends compute from a session, byte for byte as SK's test
//! vectors fix them.
//!
//! * [`device_link`]: the links a QR code, a Web2App or an App2App redirect carries, their
//!   `authCode` (HMAC-SHA256 under the session secret over the session and the exact link),
//!   and the callback's `sessionSecretDigest` and `userChallenge`.
//! * [`acsp`]: the ACSP_V2 authentication payload the phone signs.
//! * [`interactions`]: the base64 `interactions` field, decoded and checked per flow.
//! * [`requests`]: the session-starting bodies, validated per endpoint.
//! * [`responses`]: session starts' answers, the session status, problem details.
//!
//! Every value that arrives as base64 text (the challenge, the digest, the interactions) is
//! used as the text the relying party sent, never decoded and re-encoded: re-encoding could
//! change the bytes the codes are computed over.

use std::fmt;

pub mod acsp;
pub mod device_link;
pub mod interactions;
pub mod requests;
pub mod responses;

#[cfg(test)]
mod tests;

/// How the phone got the session, as the session status and the ACSP_V2 payload name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FlowType {
    /// A QR code scanned from another screen.
    Qr,
    /// A link opened in the phone's browser.
    Web2App,
    /// A link opened by another app on the phone.
    App2App,
    /// A push notification to a known account.
    Notification,
}

impl FlowType {
    pub const ALL: [FlowType; 4] = [Self::Qr, Self::Web2App, Self::App2App, Self::Notification];

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|flow| flow.as_str() == text)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            FlowType::Qr => "QR",
            FlowType::Web2App => "Web2App",
            FlowType::App2App => "App2App",
            FlowType::Notification => "Notification",
        }
    }
}

impl fmt::Display for FlowType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What both a link's authCode and the ACSP_V2 payload bind of the session as the relying
/// party started it, each value as the text it sent (empty where the session has none).
#[derive(Debug, Clone, Copy)]
pub struct SessionTexts<'a> {
    /// `smart-id` in production, `smart-id-demo` in SK's demo (a setting of the service).
    pub scheme_name: &'a str,
    pub relying_party_name: &'a str,
    /// Empty unless the relying party is a broker.
    pub brokered_rp_name: &'a str,
    /// The base64 `interactions` exactly as sent; empty for a certificate choice.
    pub interactions: &'a str,
    /// Empty for QR codes and notifications.
    pub initial_callback_url: &'a str,
}

impl SessionTexts<'_> {
    /// `BASE64(UTF-8(name))` of the relying party's and the broker's names, as both payloads
    /// carry them.
    fn encoded_names(&self) -> [String; 2] {
        use base64::Engine;
        let base64 = base64::engine::general_purpose::STANDARD;
        [
            base64.encode(self.relying_party_name.as_bytes()),
            base64.encode(self.brokered_rp_name.as_bytes()),
        ]
    }
}
