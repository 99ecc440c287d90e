//! RP API v3 request bodies (docs/spec/rp-api.md §2.3): one permissive body with every field
//! any session start has (all optional, unknown fields ignored), validated per endpoint into a
//! typed [`StartRequest`]. As in v2, a refusal names the field and says what is wrong.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::interactions::{InteractionFlow, Interactions};
use crate::rp_v2::{
    CertificateLevel, CommonBody, RelyingPartyClaim, RequestError, RequestOptions,
    parse_canonical_uuid, required, validate_options, validate_relying_party,
};

/// `signatureProtocol` of an authentication.
pub use super::acsp::ACSP_V2;
/// `signatureProtocol` of a signature.
pub const RAW_DIGEST_SIGNATURE: &str = "RAW_DIGEST_SIGNATURE";
/// The only `vcType` there is.
pub const VC_TYPE_NUMERIC4: &str = "numeric4";
/// Longest `initialCallbackUrl`, in characters.
pub const MAX_CALLBACK_URL_CHARS: usize = 1_800;
/// Bounds of `rpChallenge` and `digest`: the base64 of 32 to 64 bytes.
const MIN_CHALLENGE_BYTES: usize = 32;
const MAX_CHALLENGE_BYTES: usize = 64;

/// The hash of an RSASSA-PSS (or PKCS#1 v1.5) signature, with v3's hyphenated names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HashAlgorithm {
    Sha256,
    Sha384,
    Sha512,
    Sha3_256,
    Sha3_384,
    Sha3_512,
}

impl HashAlgorithm {
    pub const ALL: [HashAlgorithm; 6] = [
        Self::Sha256,
        Self::Sha384,
        Self::Sha512,
        Self::Sha3_256,
        Self::Sha3_384,
        Self::Sha3_512,
    ];

    pub fn api_name(self) -> &'static str {
        match self {
            Self::Sha256 => "SHA-256",
            Self::Sha384 => "SHA-384",
            Self::Sha512 => "SHA-512",
            Self::Sha3_256 => "SHA3-256",
            Self::Sha3_384 => "SHA3-384",
            Self::Sha3_512 => "SHA3-512",
        }
    }

    pub fn from_api_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|hash| hash.api_name() == name)
    }

    /// Digest length in bytes (and the PSS salt's).
    pub fn output_len(self) -> usize {
        match self {
            Self::Sha256 | Self::Sha3_256 => 32,
            Self::Sha384 | Self::Sha3_384 => 48,
            Self::Sha512 | Self::Sha3_512 => 64,
        }
    }
}

/// How the RSA signature is padded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SignatureScheme {
    /// `rsassa-pss`: MGF1 with the same hash, salt as long as the hash, trailer `0xbc`.
    RsassaPss,
    /// `sha256WithRSAEncryption` and its kin: removed in 3.1, restored in 3.2.1 as deprecated.
    Pkcs1v15,
}

/// `signatureAlgorithm` and its parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SignatureAlgorithm {
    pub scheme: SignatureScheme,
    pub hash: HashAlgorithm,
}

/// The deprecated PKCS#1 v1.5 names, each with its hash (no SHA3 names exist).
const PKCS1_NAMES: [(&str, HashAlgorithm); 3] = [
    ("sha256WithRSAEncryption", HashAlgorithm::Sha256),
    ("sha384WithRSAEncryption", HashAlgorithm::Sha384),
    ("sha512WithRSAEncryption", HashAlgorithm::Sha512),
];
const PSS_NAME: &str = "rsassa-pss";

impl SignatureAlgorithm {
    /// `rsassa-pss`, or the PKCS#1 v1.5 name of the hash.
    pub fn api_name(self) -> &'static str {
        match self.scheme {
            SignatureScheme::RsassaPss => PSS_NAME,
            SignatureScheme::Pkcs1v15 => PKCS1_NAMES
                .iter()
                .find(|(_, hash)| *hash == self.hash)
                .map_or(PSS_NAME, |(name, _)| name),
        }
    }

    fn parse(parameters: &ProtocolParametersBody) -> Result<Self, RequestError> {
        const FIELD: &str = "signatureProtocolParameters.signatureAlgorithm";
        const HASH: &str = "signatureProtocolParameters.signatureAlgorithmParameters.hashAlgorithm";
        let name = required(&parameters.signature_algorithm, FIELD)?;
        let hash = parameters
            .signature_algorithm_parameters
            .as_ref()
            .and_then(|p| p.hash_algorithm.as_deref());
        if name == PSS_NAME {
            let hash = hash.ok_or_else(|| RequestError::new(HASH, "is required for rsassa-pss"))?;
            let hash = HashAlgorithm::from_api_name(hash).ok_or_else(|| {
                let names: Vec<&str> = HashAlgorithm::ALL.iter().map(|h| h.api_name()).collect();
                RequestError::new(HASH, format!("must be one of {}", names.join(", ")))
            })?;
            return Ok(SignatureAlgorithm {
                scheme: SignatureScheme::RsassaPss,
                hash,
            });
        }
        let (_, legacy_hash) = PKCS1_NAMES
            .iter()
            .find(|(legacy, _)| *legacy == name)
            .ok_or_else(|| {
                RequestError::new(
                    FIELD,
                    "must be rsassa-pss (or the deprecated sha256WithRSAEncryption, \
                     sha384WithRSAEncryption, sha512WithRSAEncryption)",
                )
            })?;
        if hash.is_some_and(|hash| hash != legacy_hash.api_name()) {
            return Err(RequestError::new(
                HASH,
                format!("contradicts {name} (leave it out)"),
            ));
        }
        Ok(SignatureAlgorithm {
            scheme: SignatureScheme::Pkcs1v15,
            hash: *legacy_hash,
        })
    }
}

/// `signatureProtocolParameters.signatureAlgorithmParameters`, as sent.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AlgorithmParametersBody {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash_algorithm: Option<String>,
}

/// `signatureProtocolParameters`, as sent.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProtocolParametersBody {
    /// ACSP_V2 only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rp_challenge: Option<String>,
    /// RAW_DIGEST_SIGNATURE only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature_algorithm: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature_algorithm_parameters: Option<AlgorithmParametersBody>,
}

/// Every field of any v3 session-starting body, as sent.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestBody {
    #[serde(flatten)]
    pub common: CommonBody,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initial_callback_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature_protocol: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature_protocol_parameters: Option<ProtocolParametersBody>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interactions: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vc_type: Option<String>,
    #[serde(
        rename = "linkedSessionID",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub linked_session_id: Option<String>,
}

/// What a session asks of the phone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Purpose {
    Authentication,
    Signature,
    CertificateChoice,
}

/// How the phone gets the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Delivery {
    /// QR code, Web2App or App2App: the answer carries the link's ingredients.
    DeviceLink,
    /// A push to the person's or the document's phones.
    Notification,
    /// The signature that follows a device-link certificate choice (`linkedSessionID`).
    LinkedNotification,
}

/// Which endpoint a body was sent to: what it may and must carry follows from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Endpoint {
    pub purpose: Purpose,
    pub delivery: Delivery,
}

/// The signature protocol and what it signs, each value also as the text sent (authCode and
/// ACSP_V2 are computed over the text).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Protocol {
    AcspV2 {
        rp_challenge: String,
        rp_challenge_bytes: Vec<u8>,
        algorithm: SignatureAlgorithm,
    },
    RawDigest {
        digest: String,
        digest_bytes: Vec<u8>,
        algorithm: SignatureAlgorithm,
    },
}

impl Protocol {
    /// `ACSP_V2` or `RAW_DIGEST_SIGNATURE`.
    pub fn api_name(&self) -> &'static str {
        match self {
            Self::AcspV2 { .. } => ACSP_V2,
            Self::RawDigest { .. } => RAW_DIGEST_SIGNATURE,
        }
    }

    /// The `rpChallenge` or the `digest`, as sent.
    pub fn challenge_text(&self) -> &str {
        match self {
            Self::AcspV2 { rp_challenge, .. } => rp_challenge,
            Self::RawDigest { digest, .. } => digest,
        }
    }

    pub fn algorithm(&self) -> SignatureAlgorithm {
        match self {
            Self::AcspV2 { algorithm, .. } | Self::RawDigest { algorithm, .. } => *algorithm,
        }
    }
}

/// A validated v3 session start.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StartRequest {
    pub endpoint: Endpoint,
    pub relying_party: RelyingPartyClaim,
    pub options: RequestOptions,
    /// Device links that return to the relying party (Web2App, App2App) only.
    pub initial_callback_url: Option<String>,
    /// Absent for a certificate choice.
    pub protocol: Option<Protocol>,
    /// Absent for a certificate choice.
    pub interactions: Option<Interactions>,
    /// The linked signature's certificate choice.
    pub linked_session: Option<Uuid>,
}

impl RequestBody {
    /// The request, if it is one `endpoint` takes.
    pub fn validate(&self, endpoint: Endpoint) -> Result<StartRequest, RequestError> {
        let relying_party = validate_relying_party(&self.common)?;
        let options = validate_options(&self.common, levels(endpoint.purpose))?;
        if endpoint.purpose == Purpose::Authentication && options.nonce.is_some() {
            return Err(RequestError::new(
                "nonce",
                "is not allowed in an authentication (rpChallenge is already unique)",
            ));
        }
        let protocol = self.protocol(endpoint.purpose)?;
        let interactions = self.interactions(endpoint)?;
        self.check_vc_type(endpoint)?;
        Ok(StartRequest {
            endpoint,
            relying_party,
            options,
            initial_callback_url: self.callback_url(endpoint.delivery)?,
            protocol,
            interactions,
            linked_session: self.linked_session(endpoint.delivery)?,
        })
    }

    fn protocol(&self, purpose: Purpose) -> Result<Option<Protocol>, RequestError> {
        let (expected, challenge_field) = match purpose {
            Purpose::CertificateChoice => {
                forbid(&self.signature_protocol, "signatureProtocol")?;
                forbid(
                    &self.signature_protocol_parameters,
                    "signatureProtocolParameters",
                )?;
                return Ok(None);
            }
            Purpose::Authentication => (ACSP_V2, "rpChallenge"),
            Purpose::Signature => (RAW_DIGEST_SIGNATURE, "digest"),
        };
        if required(&self.signature_protocol, "signatureProtocol")? != expected {
            return Err(RequestError::new(
                "signatureProtocol",
                format!("must be {expected} here"),
            ));
        }
        let parameters = self
            .signature_protocol_parameters
            .as_ref()
            .ok_or_else(|| RequestError::new("signatureProtocolParameters", "is required"))?;
        let algorithm = SignatureAlgorithm::parse(parameters)?;
        let (text, stray, stray_field) = match purpose {
            Purpose::Authentication => (&parameters.rp_challenge, &parameters.digest, "digest"),
            _ => (&parameters.digest, &parameters.rp_challenge, "rpChallenge"),
        };
        let field = format!("signatureProtocolParameters.{challenge_field}");
        if stray.is_some() {
            return Err(RequestError::new(
                format!("signatureProtocolParameters.{stray_field}"),
                format!("does not belong to {expected}"),
            ));
        }
        let text = required(text, &field)?;
        let bytes = decode_challenge(text, &field)?;
        Ok(Some(match purpose {
            Purpose::Authentication => Protocol::AcspV2 {
                rp_challenge: text.to_owned(),
                rp_challenge_bytes: bytes,
                algorithm,
            },
            _ => {
                if bytes.len() != algorithm.hash.output_len() {
                    return Err(RequestError::new(
                        field,
                        format!(
                            "must be the base64 of {} bytes for {} (got {} bytes)",
                            algorithm.hash.output_len(),
                            algorithm.hash.api_name(),
                            bytes.len()
                        ),
                    ));
                }
                Protocol::RawDigest {
                    digest: text.to_owned(),
                    digest_bytes: bytes,
                    algorithm,
                }
            }
        }))
    }

    fn interactions(&self, endpoint: Endpoint) -> Result<Option<Interactions>, RequestError> {
        if endpoint.purpose == Purpose::CertificateChoice {
            forbid(&self.interactions, "interactions")?;
            return Ok(None);
        }
        let flow = match endpoint.delivery {
            Delivery::DeviceLink => InteractionFlow::DeviceLink,
            Delivery::Notification => InteractionFlow::Notification,
            Delivery::LinkedNotification => InteractionFlow::LinkedNotification,
        };
        let text = required(&self.interactions, "interactions")?;
        Interactions::decode(text, flow).map(Some)
    }

    /// `vcType` is required by a notification authentication and means nothing elsewhere.
    fn check_vc_type(&self, endpoint: Endpoint) -> Result<(), RequestError> {
        let needs = endpoint.purpose == Purpose::Authentication
            && endpoint.delivery == Delivery::Notification;
        if !needs {
            return Ok(());
        }
        match required(&self.vc_type, "vcType")? {
            VC_TYPE_NUMERIC4 => Ok(()),
            _ => Err(RequestError::new("vcType", "must be numeric4")),
        }
    }

    fn callback_url(&self, delivery: Delivery) -> Result<Option<String>, RequestError> {
        const FIELD: &str = "initialCallbackUrl";
        match (&self.initial_callback_url, delivery) {
            (None, _) => Ok(None),
            (Some(_), Delivery::Notification | Delivery::LinkedNotification) => Err(
                RequestError::new(FIELD, "is for device links only (a push does not return)"),
            ),
            (Some(url), Delivery::DeviceLink) => validate_callback_url(url).map(Some),
        }
    }

    fn linked_session(&self, delivery: Delivery) -> Result<Option<Uuid>, RequestError> {
        const FIELD: &str = "linkedSessionID";
        if delivery != Delivery::LinkedNotification {
            return match self.linked_session_id {
                None => Ok(None),
                Some(_) => Err(RequestError::new(
                    FIELD,
                    "belongs to /signature/notification/linked only",
                )),
            };
        }
        let text = required(&self.linked_session_id, FIELD)?;
        parse_canonical_uuid(text)
            .map(Some)
            .ok_or_else(|| RequestError::new(FIELD, "must be a session ID (a UUID)"))
    }
}

/// The levels a purpose accepts: a login is never QSCD.
fn levels(purpose: Purpose) -> &'static [CertificateLevel] {
    match purpose {
        Purpose::Authentication => &[CertificateLevel::Advanced, CertificateLevel::Qualified],
        Purpose::Signature | Purpose::CertificateChoice => &[
            CertificateLevel::Advanced,
            CertificateLevel::Qualified,
            CertificateLevel::Qscd,
        ],
    }
}

/// A field a certificate choice has no use for.
fn forbid<T>(value: &Option<T>, field: &str) -> Result<(), RequestError> {
    match value {
        None => Ok(()),
        Some(_) => Err(RequestError::new(
            field,
            "does not belong to a certificate choice",
        )),
    }
}

/// `rpChallenge` or `digest`: standard base64 of 32 to 64 bytes.
fn decode_challenge(text: &str, field: &str) -> Result<Vec<u8>, RequestError> {
    let bytes = BASE64
        .decode(text)
        .map_err(|_| RequestError::new(field, "must be standard base64"))?;
    if !(MIN_CHALLENGE_BYTES..=MAX_CHALLENGE_BYTES).contains(&bytes.len()) {
        return Err(RequestError::new(
            field,
            format!(
                "must be the base64 of {MIN_CHALLENGE_BYTES} to {MAX_CHALLENGE_BYTES} bytes \
                 (got {} bytes)",
                bytes.len()
            ),
        ));
    }
    Ok(bytes)
}

/// `initialCallbackUrl` as the spec allows it: `^https://([^|#]+)$`, at most 1800 characters;
/// also no spaces or control characters, which no URL has unencoded.
pub fn validate_callback_url(url: &str) -> Result<String, RequestError> {
    const FIELD: &str = "initialCallbackUrl";
    let chars = url.chars().count();
    if chars > MAX_CALLBACK_URL_CHARS {
        return Err(RequestError::new(
            FIELD,
            format!("must be at most {MAX_CALLBACK_URL_CHARS} characters (got {chars})"),
        ));
    }
    let rest = url
        .strip_prefix("https://")
        .ok_or_else(|| RequestError::new(FIELD, "must be an https:// address"))?;
    if rest.is_empty() {
        return Err(RequestError::new(FIELD, "has no host"));
    }
    if let Some(bad) = rest
        .chars()
        .find(|c| matches!(c, '|' | '#') || c.is_whitespace() || c.is_control())
    {
        return Err(RequestError::new(
            FIELD,
            format!("must not contain {bad:?} (percent-encode it; no #fragment)"),
        ));
    }
    Ok(url.to_owned())
}
