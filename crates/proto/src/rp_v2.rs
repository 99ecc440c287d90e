//! The relying-party REST API v2, compatible with Smart-ID RP API v2 (docs/spec/rp-api.md §1).
//!
//! Request bodies are deserialised into permissive `…Body` types (every field optional, unknown
//! fields ignored as Smart-ID does), then [`validate`](SigningBody::validate)d into typed
//! requests. Validation names the offending field and says what is wrong, so a relying party's
//! developer can fix the request from the 400 answer alone.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use thiserror::Error;
use uuid::Uuid;

/// Longest `relyingPartyName`, in UTF-8 bytes.
pub const MAX_RELYING_PARTY_NAME_BYTES: usize = 32;
/// Longest `nonce`, in characters.
pub const MAX_NONCE_CHARS: usize = 30;
/// Text limit of `displayTextAndPIN` and `verificationCodeChoice`.
pub const DISPLAY_TEXT_60: usize = 60;
/// Text limit of `confirmationMessage` and `confirmationMessageAndVerificationCodeChoice`.
pub const DISPLAY_TEXT_200: usize = 200;
/// Bounds of the session-status long poll, in milliseconds.
pub const MIN_TIMEOUT_MS: u64 = 1_000;
pub const MAX_TIMEOUT_MS: u64 = 120_000;

/// A request the relying party got wrong: which field, and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{field}: {problem}")]
pub struct RequestError {
    pub field: String,
    pub problem: String,
}

impl RequestError {
    pub fn new(field: impl Into<String>, problem: impl Into<String>) -> Self {
        RequestError {
            field: field.into(),
            problem: problem.into(),
        }
    }
}

/// Certificate level a relying party asks for (or an account has).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CertificateLevel {
    Advanced,
    Qualified,
    /// Qualified, and the key is in a qualified signature creation device. Signing and
    /// certificate choice only.
    Qscd,
}

impl CertificateLevel {
    fn parse(text: &str, allowed: &[CertificateLevel]) -> Result<Self, RequestError> {
        let level = match text {
            "ADVANCED" => Some(Self::Advanced),
            "QUALIFIED" => Some(Self::Qualified),
            "QSCD" => Some(Self::Qscd),
            _ => None,
        };
        let names: Vec<&str> = allowed.iter().map(|l| l.api_name()).collect();
        level.filter(|l| allowed.contains(l)).ok_or_else(|| {
            RequestError::new(
                "certificateLevel",
                format!("must be one of {}", names.join(", ")),
            )
        })
    }

    pub fn api_name(self) -> &'static str {
        match self {
            Self::Advanced => "ADVANCED",
            Self::Qualified => "QUALIFIED",
            Self::Qscd => "QSCD",
        }
    }
}

/// Hash algorithms of the v2 API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum HashType {
    #[serde(rename = "SHA256")]
    Sha256,
    #[serde(rename = "SHA384")]
    Sha384,
    #[serde(rename = "SHA512")]
    Sha512,
}

impl HashType {
    pub fn output_len(self) -> usize {
        match self {
            Self::Sha256 => 32,
            Self::Sha384 => 48,
            Self::Sha512 => 64,
        }
    }

    pub fn api_name(self) -> &'static str {
        match self {
            Self::Sha256 => "SHA256",
            Self::Sha384 => "SHA384",
            Self::Sha512 => "SHA512",
        }
    }

    /// The `signature.algorithm` of a PKCS#1 v1.5 signature over this hash.
    pub fn signature_algorithm(self) -> &'static str {
        match self {
            Self::Sha256 => "sha256WithRSAEncryption",
            Self::Sha384 => "sha384WithRSAEncryption",
            Self::Sha512 => "sha512WithRSAEncryption",
        }
    }

    fn parse(text: &str) -> Result<Self, RequestError> {
        match text {
            "SHA256" => Ok(Self::Sha256),
            "SHA384" => Ok(Self::Sha384),
            "SHA512" => Ok(Self::Sha512),
            _ => Err(RequestError::new(
                "hashType",
                "must be SHA256, SHA384 or SHA512",
            )),
        }
    }
}

/// What the person is shown and asked, in the relying party's order of preference.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Interaction {
    /// Text and PIN on one screen (every app supports it).
    DisplayTextAndPin { text: String },
    /// Choose the right verification code among three, then text and PIN.
    VerificationCodeChoice { text: String },
    /// Longer text with Confirm/Cancel, then the PIN.
    ConfirmationMessage { text: String },
    /// Longer text and verification-code choice, then the PIN.
    ConfirmationMessageAndVerificationCodeChoice { text: String },
}

impl Interaction {
    /// The `type` name in the API (and in `interactionFlowUsed`).
    pub fn api_name(&self) -> &'static str {
        InteractionType::of(self).api_name()
    }

    pub fn text(&self) -> &str {
        match self {
            Self::DisplayTextAndPin { text }
            | Self::VerificationCodeChoice { text }
            | Self::ConfirmationMessage { text }
            | Self::ConfirmationMessageAndVerificationCodeChoice { text } => text,
        }
    }

    /// Whether the person must pick the verification code among several.
    pub fn has_code_choice(&self) -> bool {
        matches!(
            self,
            Self::VerificationCodeChoice { .. }
                | Self::ConfirmationMessageAndVerificationCodeChoice { .. }
        )
    }
}

/// The four interaction types, without their text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InteractionType {
    DisplayTextAndPin,
    VerificationCodeChoice,
    ConfirmationMessage,
    ConfirmationMessageAndVerificationCodeChoice,
}

impl InteractionType {
    pub const ALL: [InteractionType; 4] = [
        Self::DisplayTextAndPin,
        Self::VerificationCodeChoice,
        Self::ConfirmationMessage,
        Self::ConfirmationMessageAndVerificationCodeChoice,
    ];

    pub fn of(interaction: &Interaction) -> Self {
        match interaction {
            Interaction::DisplayTextAndPin { .. } => Self::DisplayTextAndPin,
            Interaction::VerificationCodeChoice { .. } => Self::VerificationCodeChoice,
            Interaction::ConfirmationMessage { .. } => Self::ConfirmationMessage,
            Interaction::ConfirmationMessageAndVerificationCodeChoice { .. } => {
                Self::ConfirmationMessageAndVerificationCodeChoice
            }
        }
    }

    pub fn api_name(self) -> &'static str {
        match self {
            Self::DisplayTextAndPin => "displayTextAndPIN",
            Self::VerificationCodeChoice => "verificationCodeChoice",
            Self::ConfirmationMessage => "confirmationMessage",
            Self::ConfirmationMessageAndVerificationCodeChoice => {
                "confirmationMessageAndVerificationCodeChoice"
            }
        }
    }

    pub fn from_api_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.api_name() == name)
    }

    /// The end result when the person presses Cancel on this interaction's screen.
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

    /// Which text field it carries, and the field's limit.
    fn text_field(self) -> (&'static str, usize) {
        match self {
            Self::DisplayTextAndPin | Self::VerificationCodeChoice => {
                ("displayText60", DISPLAY_TEXT_60)
            }
            Self::ConfirmationMessage | Self::ConfirmationMessageAndVerificationCodeChoice => {
                ("displayText200", DISPLAY_TEXT_200)
            }
        }
    }

    fn with_text(self, text: String) -> Interaction {
        match self {
            Self::DisplayTextAndPin => Interaction::DisplayTextAndPin { text },
            Self::VerificationCodeChoice => Interaction::VerificationCodeChoice { text },
            Self::ConfirmationMessage => Interaction::ConfirmationMessage { text },
            Self::ConfirmationMessageAndVerificationCodeChoice => {
                Interaction::ConfirmationMessageAndVerificationCodeChoice { text }
            }
        }
    }
}

/// One element of `allowedInteractionsOrder` as sent.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InteractionBody {
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(
        rename = "displayText60",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub display_text_60: Option<String>,
    #[serde(
        rename = "displayText200",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub display_text_200: Option<String>,
}

impl From<&Interaction> for InteractionBody {
    fn from(interaction: &Interaction) -> Self {
        let kind = InteractionType::of(interaction);
        let (field, _) = kind.text_field();
        let text = Some(interaction.text().to_owned());
        let (display_text_60, display_text_200) = if field == "displayText60" {
            (text, None)
        } else {
            (None, text)
        };
        InteractionBody {
            kind: Some(kind.api_name().to_owned()),
            display_text_60,
            display_text_200,
        }
    }
}

/// The fields every request body has, as sent.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CommonBody {
    #[serde(
        rename = "relyingPartyUUID",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub relying_party_uuid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relying_party_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_level: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capabilities: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_properties: Option<Map<String, Value>>,
}

/// The body of a certificate-choice request, as sent.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CertificateChoiceBody {
    #[serde(flatten)]
    pub common: CommonBody,
}

/// The body of an authentication or signature request, as sent.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SigningBody {
    #[serde(flatten)]
    pub common: CommonBody,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_interactions_order: Option<Vec<InteractionBody>>,
}

/// Who is asking: the relying party's UUID and the name it wants shown.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RelyingPartyClaim {
    pub uuid: Uuid,
    pub name: String,
}

/// Options common to every request.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RequestOptions {
    pub certificate_level: CertificateLevel,
    pub nonce: Option<String>,
    pub capabilities: Vec<String>,
    /// `requestProperties.shareMdClientIpAddress`.
    pub share_device_ip_address: bool,
    /// Unknown `requestProperties`, echoed in `ignoredProperties`.
    pub ignored_properties: Vec<String>,
}

/// A validated certificate-choice request.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CertificateChoiceRequest {
    pub relying_party: RelyingPartyClaim,
    pub options: RequestOptions,
}

/// Whether a signing-shaped request is a login or a signature (they differ in the levels
/// they accept).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SigningPurpose {
    Authentication,
    Signature,
}

/// A validated authentication or signature request.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SigningRequest {
    pub purpose: SigningPurpose,
    pub relying_party: RelyingPartyClaim,
    pub options: RequestOptions,
    pub hash: Vec<u8>,
    pub hash_type: HashType,
    pub interactions: Vec<Interaction>,
}

impl CertificateChoiceBody {
    pub fn validate(&self) -> Result<CertificateChoiceRequest, RequestError> {
        Ok(CertificateChoiceRequest {
            relying_party: validate_relying_party(&self.common)?,
            options: validate_options(
                &self.common,
                &[
                    CertificateLevel::Advanced,
                    CertificateLevel::Qualified,
                    CertificateLevel::Qscd,
                ],
            )?,
        })
    }
}

impl SigningBody {
    pub fn validate(&self, purpose: SigningPurpose) -> Result<SigningRequest, RequestError> {
        let levels: &[CertificateLevel] = match purpose {
            SigningPurpose::Authentication => {
                &[CertificateLevel::Advanced, CertificateLevel::Qualified]
            }
            SigningPurpose::Signature => &[
                CertificateLevel::Advanced,
                CertificateLevel::Qualified,
                CertificateLevel::Qscd,
            ],
        };
        let relying_party = validate_relying_party(&self.common)?;
        let hash_type = HashType::parse(required(&self.hash_type, "hashType")?)?;
        let hash = validate_hash(required(&self.hash, "hash")?, hash_type)?;
        let interactions = validate_interactions(self.allowed_interactions_order.as_deref())?;
        let options = validate_options(&self.common, levels)?;
        Ok(SigningRequest {
            purpose,
            relying_party,
            options,
            hash,
            hash_type,
            interactions,
        })
    }
}

pub(crate) fn required<'a>(
    value: &'a Option<String>,
    field: &str,
) -> Result<&'a str, RequestError> {
    value
        .as_deref()
        .ok_or_else(|| RequestError::new(field, "is required"))
}

pub(crate) fn validate_relying_party(
    common: &CommonBody,
) -> Result<RelyingPartyClaim, RequestError> {
    let uuid_text = required(&common.relying_party_uuid, "relyingPartyUUID")?;
    let uuid = parse_canonical_uuid(uuid_text).ok_or_else(|| {
        RequestError::new("relyingPartyUUID", "must be a UUID (8-4-4-4-12 hex digits)")
    })?;
    let name = required(&common.relying_party_name, "relyingPartyName")?;
    if name.trim().is_empty() {
        return Err(RequestError::new("relyingPartyName", "must not be empty"));
    }
    if name.len() > MAX_RELYING_PARTY_NAME_BYTES {
        return Err(RequestError::new(
            "relyingPartyName",
            format!("must be at most {MAX_RELYING_PARTY_NAME_BYTES} bytes of UTF-8"),
        ));
    }
    Ok(RelyingPartyClaim {
        uuid,
        name: name.to_owned(),
    })
}

/// Accepts only the hyphenated 36-character form (either case), as the API documents it.
pub fn parse_canonical_uuid(text: &str) -> Option<Uuid> {
    (text.len() == 36)
        .then(|| Uuid::try_parse(text).ok())
        .flatten()
}

fn validate_hash(text: &str, hash_type: HashType) -> Result<Vec<u8>, RequestError> {
    let hash = BASE64
        .decode(text)
        .map_err(|_| RequestError::new("hash", "must be standard base64"))?;
    if hash.len() != hash_type.output_len() {
        return Err(RequestError::new(
            "hash",
            format!(
                "must be the base64 of {} bytes for {} (got {} bytes)",
                hash_type.output_len(),
                hash_type.api_name(),
                hash.len()
            ),
        ));
    }
    Ok(hash)
}

fn validate_interactions(
    list: Option<&[InteractionBody]>,
) -> Result<Vec<Interaction>, RequestError> {
    const FIELD: &str = "allowedInteractionsOrder";
    let list = list.ok_or_else(|| RequestError::new(FIELD, "is required"))?;
    validate_interaction_list(list, FIELD, &InteractionType::ALL)
}

/// A non-empty list of interactions named `field`, each valid, of a type in `allowed`, and
/// no type twice (RP API v2's `allowedInteractionsOrder`, v3's decoded `interactions`).
pub(crate) fn validate_interaction_list(
    list: &[InteractionBody],
    field: &str,
    allowed: &[InteractionType],
) -> Result<Vec<Interaction>, RequestError> {
    if list.is_empty() {
        return Err(RequestError::new(
            field,
            "must list at least one interaction",
        ));
    }
    let mut seen = Vec::new();
    list.iter()
        .enumerate()
        .map(|(i, body)| {
            let interaction = validate_interaction(body, &format!("{field}[{i}]"))?;
            let kind = InteractionType::of(&interaction);
            if !allowed.contains(&kind) {
                let names: Vec<&str> = allowed.iter().map(|t| t.api_name()).collect();
                return Err(RequestError::new(
                    format!("{field}[{i}].type"),
                    format!(
                        "{} is not allowed here (use {})",
                        kind.api_name(),
                        names.join(", ")
                    ),
                ));
            }
            if seen.contains(&kind) {
                return Err(RequestError::new(
                    format!("{field}[{i}].type"),
                    format!("{} is listed twice", kind.api_name()),
                ));
            }
            seen.push(kind);
            Ok(interaction)
        })
        .collect()
}

fn validate_interaction(body: &InteractionBody, field: &str) -> Result<Interaction, RequestError> {
    let name = body
        .kind
        .as_deref()
        .ok_or_else(|| RequestError::new(format!("{field}.type"), "is required"))?;
    let kind = InteractionType::from_api_name(name).ok_or_else(|| {
        let names: Vec<&str> = InteractionType::ALL.iter().map(|t| t.api_name()).collect();
        RequestError::new(
            format!("{field}.type"),
            format!("must be one of {}", names.join(", ")),
        )
    })?;
    let (text_field, limit) = kind.text_field();
    let (text, other) = if text_field == "displayText60" {
        (
            &body.display_text_60,
            (&body.display_text_200, "displayText200"),
        )
    } else {
        (
            &body.display_text_200,
            (&body.display_text_60, "displayText60"),
        )
    };
    if other.0.is_some() {
        return Err(RequestError::new(
            format!("{field}.{}", other.1),
            format!("does not belong to {} (use {text_field})", kind.api_name()),
        ));
    }
    let text = text.as_deref().ok_or_else(|| {
        RequestError::new(
            format!("{field}.{text_field}"),
            format!("is required for {}", kind.api_name()),
        )
    })?;
    let chars = text.chars().count();
    if chars == 0 || chars > limit {
        return Err(RequestError::new(
            format!("{field}.{text_field}"),
            format!("must be 1 to {limit} characters (got {chars})"),
        ));
    }
    Ok(kind.with_text(text.to_owned()))
}

pub(crate) fn validate_options(
    common: &CommonBody,
    allowed_levels: &[CertificateLevel],
) -> Result<RequestOptions, RequestError> {
    let certificate_level = match common.certificate_level.as_deref() {
        None => CertificateLevel::Qualified,
        Some(text) => CertificateLevel::parse(text, allowed_levels)?,
    };
    if let Some(nonce) = &common.nonce {
        let chars = nonce.chars().count();
        if chars == 0 || chars > MAX_NONCE_CHARS {
            return Err(RequestError::new(
                "nonce",
                format!("must be 1 to {MAX_NONCE_CHARS} characters (got {chars})"),
            ));
        }
    }
    let (share_device_ip_address, ignored_properties) =
        validate_properties(&common.request_properties)?;
    Ok(RequestOptions {
        certificate_level,
        nonce: common.nonce.clone(),
        capabilities: common.capabilities.clone().unwrap_or_default(),
        share_device_ip_address,
        ignored_properties,
    })
}

fn validate_properties(
    properties: &Option<Map<String, Value>>,
) -> Result<(bool, Vec<String>), RequestError> {
    const SHARE_IP: &str = "shareMdClientIpAddress";
    let Some(properties) = properties else {
        return Ok((false, Vec::new()));
    };
    let share = match properties.get(SHARE_IP) {
        None => false,
        Some(Value::Bool(share)) => *share,
        Some(_) => {
            return Err(RequestError::new(
                format!("requestProperties.{SHARE_IP}"),
                "must be true or false",
            ));
        }
    };
    let ignored = properties
        .keys()
        .filter(|k| *k != SHARE_IP)
        .cloned()
        .collect();
    Ok((share, ignored))
}

/// `{"sessionID": "…"}`, the answer to every session-starting POST.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionCreated {
    #[serde(rename = "sessionID")]
    pub session_id: String,
}

/// `RUNNING` or `COMPLETE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SessionState {
    Running,
    Complete,
}

/// How a session ended (docs/spec/rp-api.md §1.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum EndResult {
    Ok,
    UserRefused,
    Timeout,
    DocumentUnusable,
    WrongVc,
    RequiredInteractionNotSupportedByApp,
    UserRefusedCertChoice,
    UserRefusedDisplaytextandpin,
    UserRefusedVcChoice,
    UserRefusedConfirmationmessage,
    UserRefusedConfirmationmessageWithVcChoice,
}

impl EndResult {
    /// Every end result, for exhaustive tests and documentation.
    pub const ALL: [EndResult; 11] = [
        Self::Ok,
        Self::UserRefused,
        Self::Timeout,
        Self::DocumentUnusable,
        Self::WrongVc,
        Self::RequiredInteractionNotSupportedByApp,
        Self::UserRefusedCertChoice,
        Self::UserRefusedDisplaytextandpin,
        Self::UserRefusedVcChoice,
        Self::UserRefusedConfirmationmessage,
        Self::UserRefusedConfirmationmessageWithVcChoice,
    ];
}

impl fmt::Display for EndResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let json = serde_json::to_value(self).map_err(|_| fmt::Error)?;
        f.write_str(json.as_str().unwrap_or_default())
    }
}

/// `result` of a completed session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionResult {
    pub end_result: EndResult,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document_number: Option<String>,
}

/// `signature` of a completed authentication or signature session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionSignature {
    /// Base64 of the raw RSA signature.
    pub value: String,
    /// e.g. `sha512WithRSAEncryption`.
    pub algorithm: String,
}

/// `cert` of a completed session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionCertificate {
    /// Base64 of the DER certificate.
    pub value: String,
    /// `ADVANCED` or `QUALIFIED`.
    pub certificate_level: CertificateLevel,
}

/// The answer to `GET /session/:id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionStatus {
    pub state: SessionState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<SessionResult>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<SessionSignature>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert: Option<SessionCertificate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interaction_flow_used: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignored_properties: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_ip_address: Option<String>,
}

impl SessionStatus {
    /// `{"state":"RUNNING"}`.
    pub fn running() -> Self {
        SessionStatus {
            state: SessionState::Running,
            result: None,
            signature: None,
            cert: None,
            interaction_flow_used: None,
            ignored_properties: None,
            device_ip_address: None,
        }
    }
}

/// The body of every error answer (v2 clients look only at the status code).
pub use crate::problem::ErrorBody;

#[cfg(test)]
mod tests;
