//! Device links (docs/spec/rp-api.md §2.5, §2.9): what a QR code or a same-device redirect
//! carries, the `authCode` that proves the link came from the relying party holding the
//! session secret, and the values a Web2App/App2App callback is checked with.
//!
//! The relying party builds a link (every second anew for a QR code, with the seconds
//! elapsed since the session started); the phone hands it to the service, which parses it
//! strictly ([`DeviceLink::parse`]) and recomputes the code ([`AuthCode::verify`]) over the
//! session it started and the exact link it was given.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as BASE64URL;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use thiserror::Error;

use super::SessionTexts;

/// The only link version there is.
pub const LINK_VERSION: &str = "1.0";
/// Longest link the service reads: the spec's parts are short (a base, a token, a code);
/// anything longer is not a device link.
pub const MAX_LINK_LEN: usize = 1_024;

/// How the link reaches the phone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeviceLinkType {
    /// Shown as a QR code on another screen; carries `elapsedSeconds`.
    Qr,
    /// Opened from a web page in the phone's browser.
    Web2App,
    /// Opened by another app on the phone.
    App2App,
}

impl DeviceLinkType {
    pub fn as_str(self) -> &'static str {
        match self {
            DeviceLinkType::Qr => "QR",
            DeviceLinkType::Web2App => "Web2App",
            DeviceLinkType::App2App => "App2App",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        [Self::Qr, Self::Web2App, Self::App2App]
            .into_iter()
            .find(|kind| kind.as_str() == text)
    }
}

/// What the session asks of the phone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SessionType {
    Authentication,
    Signature,
    CertificateChoice,
}

impl SessionType {
    pub fn as_str(self) -> &'static str {
        match self {
            SessionType::Authentication => "auth",
            SessionType::Signature => "sign",
            SessionType::CertificateChoice => "cert",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        [
            Self::Authentication,
            Self::Signature,
            Self::CertificateChoice,
        ]
        .into_iter()
        .find(|kind| kind.as_str() == text)
    }
}

/// A device link without its `authCode` (the spec's "unprotected device link").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceLink {
    /// The service's `deviceLinkBase`, e.g. `https://id.example.com/device-link`.
    pub base: String,
    pub link_type: DeviceLinkType,
    /// Whole seconds since the relying party got the session's answer: QR codes only.
    pub elapsed_seconds: Option<u64>,
    pub session_token: String,
    pub session_type: SessionType,
    /// ISO 639-2 code of the fallback page's language, e.g. `eng`.
    pub lang: String,
}

impl fmt::Display for DeviceLink {
    /// The unprotected link: parameters in the fixed order, none URL-encoded.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}?deviceLinkType={}",
            self.base,
            self.link_type.as_str()
        )?;
        if let Some(seconds) = self.elapsed_seconds {
            write!(f, "&elapsedSeconds={seconds}")?;
        }
        write!(
            f,
            "&sessionToken={}&sessionType={}&version={LINK_VERSION}&lang={}",
            self.session_token,
            self.session_type.as_str(),
            self.lang
        )
    }
}

/// Why a presented link is not a device link.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("not a device link: {0}")]
pub struct LinkError(&'static str);

impl DeviceLink {
    /// The link with its `authCode`, as the relying party shows or redirects to it.
    pub fn protect(&self, code: &AuthCode) -> String {
        format!("{self}&authCode={}", code.as_str())
    }

    /// Reads a protected link strictly: the parameters in the spec's order, each exactly
    /// once, `elapsedSeconds` with QR codes and only there, nothing else; then the link
    /// without its code and the code it carries. The caller checks the base is its own.
    pub fn parse(link: &str) -> Result<(DeviceLink, String), LinkError> {
        if link.len() > MAX_LINK_LEN {
            return Err(LinkError("longer than any device link"));
        }
        let (base, query) = link
            .split_once('?')
            .ok_or(LinkError("no query (`?deviceLinkType=…`)"))?;
        // The spec's bases are https; a demo on loopback serves http. The caller compares
        // the base with its own, which is the check that matters.
        if !(base.starts_with("https://") || base.starts_with("http://")) || base.contains('#') {
            return Err(LinkError("the base is not an http(s) address"));
        }
        let mut parameters = query.split('&').map(|pair| pair.split_once('='));
        let mut next = |name: &'static str| match parameters.next() {
            Some(Some((key, value))) if key == name => Ok(value),
            _ => Err(LinkError(name)),
        };
        let link_type =
            DeviceLinkType::parse(next("deviceLinkType")?).ok_or(LinkError("deviceLinkType"))?;
        let elapsed_seconds = match link_type {
            DeviceLinkType::Qr => Some(parse_seconds(next("elapsedSeconds")?)?),
            DeviceLinkType::Web2App | DeviceLinkType::App2App => None,
        };
        let session_token = token(next("sessionToken")?)?;
        let session_type =
            SessionType::parse(next("sessionType")?).ok_or(LinkError("sessionType"))?;
        if next("version")? != LINK_VERSION {
            return Err(LinkError("version (must be 1.0)"));
        }
        let lang = next("lang")?;
        if lang.len() != 3 || !lang.bytes().all(|b| b.is_ascii_lowercase()) {
            return Err(LinkError("lang (three lowercase letters)"));
        }
        let code = next("authCode")?;
        if code.len() != AuthCode::LEN || !code.bytes().all(is_base64url) {
            return Err(LinkError("authCode"));
        }
        if parameters.next().is_some() {
            return Err(LinkError("parameters after authCode"));
        }
        let unprotected = DeviceLink {
            base: base.to_owned(),
            link_type,
            elapsed_seconds,
            session_token: session_token.to_owned(),
            session_type,
            lang: lang.to_owned(),
        };
        Ok((unprotected, code.to_owned()))
    }
}

fn parse_seconds(text: &str) -> Result<u64, LinkError> {
    const PROBLEM: LinkError = LinkError("elapsedSeconds (a whole number of seconds)");
    // Decimal digits only, no sign, no leading zeros (the relying party writes the number).
    let canonical = !text.is_empty()
        && text.len() <= 10
        && text.bytes().all(|b| b.is_ascii_digit())
        && (text == "0" || !text.starts_with('0'));
    if !canonical {
        return Err(PROBLEM);
    }
    text.parse().map_err(|_| PROBLEM)
}

fn token(text: &str) -> Result<&str, LinkError> {
    let fits = (24..=128).contains(&text.len()) && text.bytes().all(is_base64url);
    fits.then_some(text).ok_or(LinkError("sessionToken"))
}

fn is_base64url(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_'
}

/// What a link's `authCode` binds besides the link itself.
#[derive(Debug, Clone, Copy)]
pub struct LinkContext<'a> {
    pub session: SessionTexts<'a>,
    /// `ACSP_V2`, `RAW_DIGEST_SIGNATURE`, or empty for a certificate choice.
    pub signature_protocol: &'a str,
    /// The `rpChallenge` (authentication) or `digest` (signature); empty for a certificate
    /// choice.
    pub challenge: &'a str,
}

impl LinkContext<'_> {
    fn payload(&self, unprotected_link: &str) -> String {
        let [relying_party, broker] = self.session.encoded_names();
        [
            self.session.scheme_name,
            self.signature_protocol,
            self.challenge,
            &relying_party,
            &broker,
            self.session.interactions,
            self.session.initial_callback_url,
            unprotected_link,
        ]
        .join("|")
    }
}

/// `BASE64URL(HMAC-SHA256(sessionSecret, payload))` without padding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthCode(String);

impl AuthCode {
    /// Characters in a code: 32 bytes in unpadded base64url.
    pub const LEN: usize = 43;

    pub fn compute(session_secret: &[u8], context: &LinkContext, link: &DeviceLink) -> Self {
        let mac = Self::mac(session_secret, context, link);
        AuthCode(BASE64URL.encode(mac.finalize().into_bytes()))
    }

    /// Whether `presented` is the code of `link` in this session, compared in constant time
    /// (a guess tells nothing about how close it was).
    pub fn verify(
        session_secret: &[u8],
        context: &LinkContext,
        link: &DeviceLink,
        presented: &str,
    ) -> bool {
        let Ok(bytes) = BASE64URL.decode(presented) else {
            return false;
        };
        Self::mac(session_secret, context, link)
            .verify_slice(&bytes)
            .is_ok()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn mac(session_secret: &[u8], context: &LinkContext, link: &DeviceLink) -> Hmac<Sha256> {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(session_secret).expect("HMAC takes a key of any length");
        mac.update(context.payload(&link.to_string()).as_bytes());
        mac
    }
}

/// `sessionSecretDigest` of a callback: `BASE64URL(SHA-256(sessionSecret))`, unpadded. The
/// relying party compares it with its own secret's, so the callback cannot come from a
/// session it did not start.
pub fn session_secret_digest(session_secret: &[u8]) -> String {
    BASE64URL.encode(Sha256::digest(session_secret))
}

/// The `userChallenge` that a callback's `userChallengeVerifier` commits to:
/// `BASE64URL(SHA-256(UTF-8(verifier)))`, unpadded, the verifier taken as text.
pub fn user_challenge(verifier: &str) -> String {
    BASE64URL.encode(Sha256::digest(verifier.as_bytes()))
}
