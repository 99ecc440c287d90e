//! A session in the domain's own words: whom it is for, what it asks, how the signature is
//! made, and how it ended. Each API translates its requests into these and renders these
//! back in its own shape; the store keeps them as they are here (JSON of these types, never
//! of an API's).

use base64::engine::general_purpose::STANDARD as BASE64;
use serde::{Deserialize, Serialize};

pub use crate::store::{Level, SessionKind};

/// Whom a session is for.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Target {
    /// Every suitable account of a person (ETSI semantics identifier).
    Person(String),
    /// One account (document number).
    Document(String),
    /// Nobody yet: the phone that claims the session (from a link or a QR code) names the
    /// account (RP API v3's anonymous device links).
    Anonymous,
}

/// The digest algorithms of the digests relying parties send, and of the payloads phones sign.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum DigestAlgorithm {
    #[serde(rename = "SHA-256")]
    Sha256,
    #[serde(rename = "SHA-384")]
    Sha384,
    #[serde(rename = "SHA-512")]
    Sha512,
    #[serde(rename = "SHA3-256")]
    Sha3_256,
    #[serde(rename = "SHA3-384")]
    Sha3_384,
    #[serde(rename = "SHA3-512")]
    Sha3_512,
}

impl DigestAlgorithm {
    pub fn output_len(self) -> usize {
        match self {
            Self::Sha256 | Self::Sha3_256 => 32,
            Self::Sha384 | Self::Sha3_384 => 48,
            Self::Sha512 | Self::Sha3_512 => 64,
        }
    }
}

/// How an RSA signature pads what it signs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Padding {
    /// RSASSA-PKCS1-v1_5 (RP API v2; v3's deprecated algorithm names).
    #[serde(rename = "pkcs1v15")]
    Pkcs1V15,
    /// RSASSA-PSS, MGF1 of the same hash, salt as long as the hash (RP API v3). The phone
    /// draws the salt; the service checks its encoding before it completes the signature.
    #[serde(rename = "pss")]
    Pss,
}

/// How the phone's signature is made, and over what.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "scheme")]
pub enum SignatureProtocol {
    /// RSASSA-PKCS1-v1_5 over a digest the relying party computed (RP API v2; v3's
    /// RAW_DIGEST_SIGNATURE with a deprecated algorithm name).
    #[serde(rename = "pkcs1v15-digest")]
    Pkcs1V15Digest {
        digest_algorithm: DigestAlgorithm,
        #[serde(with = "base64_bytes")]
        digest: Vec<u8>,
    },
    /// RSASSA-PSS over a digest the relying party computed (v3's RAW_DIGEST_SIGNATURE).
    #[serde(rename = "pss-digest")]
    PssDigest {
        digest_algorithm: DigestAlgorithm,
        #[serde(with = "base64_bytes")]
        digest: Vec<u8>,
    },
    /// ACSP_V2 (v3's authentication): the phone signs a payload that binds the relying
    /// party's challenge, the service's random value, the phone's own challenge, who asked,
    /// what was shown and how the phone got the session (docs/spec/rp-api.md §2.6).
    #[serde(rename = "acsp-v2")]
    AcspV2 {
        digest_algorithm: DigestAlgorithm,
        padding: Padding,
        /// The base64 text the relying party sent (the payload carries it as text).
        rp_challenge: String,
    },
}

impl SignatureProtocol {
    /// The signature such a session ends with.
    pub fn algorithm(&self) -> SignatureAlgorithm {
        match self {
            Self::Pkcs1V15Digest {
                digest_algorithm, ..
            } => SignatureAlgorithm::RsaPkcs1V15(*digest_algorithm),
            Self::PssDigest {
                digest_algorithm, ..
            } => SignatureAlgorithm::RsaPss(*digest_algorithm),
            Self::AcspV2 {
                digest_algorithm,
                padding: Padding::Pkcs1V15,
                ..
            } => SignatureAlgorithm::RsaPkcs1V15(*digest_algorithm),
            Self::AcspV2 {
                digest_algorithm,
                padding: Padding::Pss,
                ..
            } => SignatureAlgorithm::RsaPss(*digest_algorithm),
        }
    }

    /// The relying party's digest, signed as it is; none for ACSP_V2 (the phone's payload).
    pub fn digest(&self) -> Option<&[u8]> {
        match self {
            Self::Pkcs1V15Digest { digest, .. } | Self::PssDigest { digest, .. } => Some(digest),
            Self::AcspV2 { .. } => None,
        }
    }
}

/// A finished signature's algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "scheme", content = "digest")]
pub enum SignatureAlgorithm {
    #[serde(rename = "pkcs1v15")]
    RsaPkcs1V15(DigestAlgorithm),
    #[serde(rename = "pss")]
    RsaPss(DigestAlgorithm),
}

/// Where the verification code the person compares comes from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CodeRule {
    /// Computed from these bytes, by the relying party and the phone alike (RP API v2: the
    /// digest; v3's notification authentication: the rpChallenge).
    DerivedFrom(Vec<u8>),
    /// Drawn by the service and given to the relying party to show (v3's notification
    /// signatures).
    Drawn,
    /// None: the person started at the e-service's own screen (v3's device links).
    Omitted,
}

/// How the phone got a session, as RP API v3 reports it and ACSP_V2 signs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Flow {
    #[serde(rename = "QR")]
    Qr,
    Web2App,
    App2App,
    Notification,
}

/// What RP API v3 binds into a session's signatures and links besides the relying party's
/// name: the texts exactly as the relying party sent them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BoundTexts {
    /// The interactions' text as sent (base64 of JSON; hashed into ACSP_V2 as it is).
    pub interactions: String,
    /// Where a device link's phone returns to (Web2App, App2App).
    #[serde(default)]
    pub initial_callback_url: Option<String>,
}

/// An enum whose variants have stored names: the names serde writes, `name`, `from_name` and
/// `ALL`, from one list.
macro_rules! named_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$(Self::$variant),+];

            /// Its stored name.
            pub fn name(self) -> &'static str {
                match self { $(Self::$variant => $text),+ }
            }

            pub fn from_name(name: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|known| known.name() == name)
            }
        }
    };
}

named_enum!(
    /// What the phone shows and asks, without its text. The names are the ones apps declare
    /// they can run (and that account records keep).
    InteractionKind {
        /// Text and PIN on one screen (every app supports it).
        DisplayTextAndPin => "displayTextAndPIN",
        /// Choose the right verification code among three, then text and PIN.
        VerificationCodeChoice => "verificationCodeChoice",
        /// Longer text with Confirm/Cancel, then the PIN.
        ConfirmationMessage => "confirmationMessage",
        /// Longer text and verification-code choice, then the PIN.
        ConfirmationMessageAndVerificationCodeChoice => "confirmationMessageAndVerificationCodeChoice",
    }
);

impl InteractionKind {
    /// Whether the person must pick the verification code among several.
    pub fn has_code_choice(self) -> bool {
        matches!(
            self,
            Self::VerificationCodeChoice | Self::ConfirmationMessageAndVerificationCodeChoice
        )
    }

    /// How a session ends when the person presses Cancel on this interaction's screen.
    pub fn refusal(self) -> EndResult {
        match self {
            Self::DisplayTextAndPin => EndResult::UserRefusedDisplaytextandpin,
            Self::VerificationCodeChoice => EndResult::UserRefusedVcChoice,
            Self::ConfirmationMessage => EndResult::UserRefusedConfirmationmessage,
            Self::ConfirmationMessageAndVerificationCodeChoice => {
                EndResult::UserRefusedConfirmationmessageWithVcChoice
            }
        }
    }
}

/// One interaction a relying party allows, with its text.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Interaction {
    pub kind: InteractionKind,
    pub text: String,
}

/// An authentication or a signature, as a relying party asks for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningRequest {
    /// Authentication or signature (never certificate choice).
    pub kind: SessionKind,
    pub relying_party_name: String,
    pub level: Level,
    pub protocol: SignatureProtocol,
    /// In the relying party's order of preference.
    pub interactions: Vec<Interaction>,
    /// A new nonce makes an otherwise identical request a new session.
    pub nonce: Option<String>,
    /// Request properties this service does not act on (reported back with the result).
    pub ignored_properties: Vec<String>,
    pub verification_code: CodeRule,
    /// RP API v3's texts (none for v2 and the service's own logins).
    pub bound: Option<BoundTexts>,
    /// How the phone gets it; `None` before RP API v3 (which reports it).
    pub flow: Option<Flow>,
    /// Report the address of the phone that answers (asked, and the relying party may).
    pub share_device_ip: bool,
}

impl SigningRequest {
    /// A login the service asks for itself (the portal's, an account's vouching for a new
    /// device): any level, text and PIN1, over a SHA-512 digest.
    pub fn own_login(
        relying_party_name: &str,
        digest: Vec<u8>,
        text: &str,
        nonce: Option<String>,
    ) -> Self {
        SigningRequest {
            kind: SessionKind::Authentication,
            relying_party_name: relying_party_name.to_owned(),
            level: Level::Advanced,
            verification_code: CodeRule::DerivedFrom(digest.clone()),
            protocol: SignatureProtocol::Pkcs1V15Digest {
                digest_algorithm: DigestAlgorithm::Sha512,
                digest,
            },
            interactions: vec![Interaction {
                kind: InteractionKind::DisplayTextAndPin,
                text: text.to_owned(),
            }],
            nonce,
            ignored_properties: Vec::new(),
            bound: None,
            flow: None,
            share_device_ip: false,
        }
    }
}

/// A certificate choice, as a relying party asks for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateChoiceRequest {
    pub relying_party_name: String,
    pub level: Level,
    pub nonce: Option<String>,
    pub ignored_properties: Vec<String>,
    /// How the phone gets it; `None` before RP API v3.
    pub flow: Option<Flow>,
    /// Where a device link's phone returns to (RP API v3's Web2App, App2App).
    pub initial_callback_url: Option<String>,
    /// Report the address of the phone that answers.
    pub share_device_ip: bool,
}

named_enum!(
    /// How a session ended. The names are the ones usage records and the audit log keep (and,
    /// as it happens, Smart-ID's).
    EndResult {
        Ok => "OK",
        UserRefused => "USER_REFUSED",
        Timeout => "TIMEOUT",
        DocumentUnusable => "DOCUMENT_UNUSABLE",
        WrongVc => "WRONG_VC",
        RequiredInteractionNotSupportedByApp => "REQUIRED_INTERACTION_NOT_SUPPORTED_BY_APP",
        UserRefusedCertChoice => "USER_REFUSED_CERT_CHOICE",
        UserRefusedDisplaytextandpin => "USER_REFUSED_DISPLAYTEXTANDPIN",
        UserRefusedVcChoice => "USER_REFUSED_VC_CHOICE",
        UserRefusedConfirmationmessage => "USER_REFUSED_CONFIRMATIONMESSAGE",
        UserRefusedConfirmationmessageWithVcChoice => "USER_REFUSED_CONFIRMATIONMESSAGE_WITH_VC_CHOICE",
        /// The app waited for the signature linked to a certificate choice and got this
        /// session instead (RP API v3; v2 reports USER_REFUSED).
        ExpectedLinkedSession => "EXPECTED_LINKED_SESSION",
        /// The app found the transaction inconsistent (its code, its texts or its interaction
        /// not what is signed) and would not sign it (RP API v3; v2 reports USER_REFUSED).
        ProtocolFailure => "PROTOCOL_FAILURE",
    }
);

impl std::fmt::Display for EndResult {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A finished signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signature {
    #[serde(with = "base64_bytes")]
    pub value: Vec<u8>,
    pub algorithm: SignatureAlgorithm,
    /// ACSP_V2's: the service's random value and the phone's challenge, both in the payload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_random: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_challenge: Option<String>,
}

/// The certificate of the key that answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Certificate {
    #[serde(with = "base64_bytes")]
    pub der: Vec<u8>,
    pub level: Level,
}

/// How a session ended, as the service records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Outcome {
    pub end_result: EndResult,
    /// The answering account's, on success.
    #[serde(default)]
    pub document_number: Option<String>,
    #[serde(default)]
    pub signature: Option<Signature>,
    #[serde(default)]
    pub certificate: Option<Certificate>,
    /// The interaction the phone ran, on a successful authentication or signature.
    #[serde(default)]
    pub interaction_used: Option<InteractionKind>,
    /// The request's properties this service ignored.
    #[serde(default)]
    pub ignored_properties: Vec<String>,
    /// How the phone got the session (RP API v3's sessions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flow: Option<Flow>,
    /// The address the answering phone's confirmation came from, for a relying party with the
    /// privilege that asked for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_ip_address: Option<String>,
}

impl Outcome {
    /// An ending with nothing else to report (refusals, timeouts, unusable documents).
    pub fn ended(end_result: EndResult) -> Self {
        Outcome {
            end_result,
            document_number: None,
            signature: None,
            certificate: None,
            interaction_used: None,
            ignored_properties: Vec::new(),
            flow: None,
            device_ip_address: None,
        }
    }
}

/// A session's state as its relying party sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    Running,
    Complete(Outcome),
}

/// Bytes as standard base64 in the stored JSON.
mod base64_bytes {
    use super::BASE64;
    use base64::Engine as _;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&BASE64.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(deserializer)?;
        BASE64.decode(text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_their_stored_form() {
        for &kind in InteractionKind::ALL {
            let json = serde_json::to_value(kind).unwrap();
            assert_eq!(json, kind.name());
            assert_eq!(InteractionKind::from_name(kind.name()), Some(kind));
        }
        for &end in EndResult::ALL {
            assert_eq!(serde_json::to_value(end).unwrap(), end.name());
        }
        for level in Level::ALL {
            assert_eq!(serde_json::to_value(level).unwrap(), level.name());
        }
    }

    #[test]
    fn an_outcome_is_stored_in_the_domains_own_form() {
        let outcome = Outcome {
            end_result: EndResult::Ok,
            document_number: Some("PNOEE-1-ABCD-Q".into()),
            signature: Some(Signature {
                value: vec![1, 2, 3],
                algorithm: SignatureAlgorithm::RsaPkcs1V15(DigestAlgorithm::Sha512),
                server_random: None,
                user_challenge: None,
            }),
            certificate: Some(Certificate {
                der: vec![4, 5],
                level: Level::Qualified,
            }),
            interaction_used: Some(InteractionKind::DisplayTextAndPin),
            ignored_properties: vec!["x".into()],
            flow: None,
            device_ip_address: None,
        };
        let json = serde_json::to_value(&outcome).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "endResult": "OK",
                "documentNumber": "PNOEE-1-ABCD-Q",
                "signature": {"value": "AQID", "algorithm": {"scheme": "pkcs1v15", "digest": "SHA-512"}},
                "certificate": {"der": "BAU=", "level": "QUALIFIED"},
                "interactionUsed": "displayTextAndPIN",
                "ignoredProperties": ["x"],
            })
        );
        assert_eq!(serde_json::from_value::<Outcome>(json).unwrap(), outcome);
    }
}
