//! The relying-party REST API v3, compatible with Smart-ID RP API 3.2 (docs/spec/rp-api.md §2):
//! the values both ends compute from a session, byte for byte as SK's test vectors fix them.
//!
//! * [`device_link`]: the links a QR code, a Web2App or an App2App redirect carries, their
//!   `authCode` (HMAC-SHA256 under the session secret over the session and the exact link),
//!   and the callback's `sessionSecretDigest` and `userChallenge`.
//! * [`acsp`]: the ACSP_V2 authentication payload the phone signs.
//! * [`interactions`]: the base64 `interactions` field, decoded and checked per flow.
//!
//! Every value that arrives as base64 text (the challenge, the digest, the interactions) is
//! used as the text the relying party sent, never decoded and re-encoded: re-encoding could
//! change the bytes the codes are computed over.

use std::fmt;

pub mod acsp;
pub mod device_link;
pub mod interactions;

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

/// `BASE64(UTF-8(text))`: how the relying party's (and a broker's) name enter the authCode
/// and ACSP_V2 payloads.
fn base64_of_text(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(text.as_bytes())
}
