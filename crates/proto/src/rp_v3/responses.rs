//! RP API v3 answers (docs/spec/rp-api.md §2.2, §2.5, §2.7): session starts, the session
//! status with its signature protocol's fields, the synchronous certificate lookup, and
//! refusals as RFC 9457 problem details with `errors[]`.

use serde::{Deserialize, Serialize};

use super::FlowType;
use super::requests::{HashAlgorithm, SignatureAlgorithm, SignatureScheme};
use crate::problem::ErrorBody;
pub use crate::rp_v2::{SessionCertificate, SessionState};

/// The answer to a device-link start: what the relying party builds its links from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceLinkSessionCreated {
    #[serde(rename = "sessionID")]
    pub session_id: String,
    /// Goes into every link as it is.
    pub session_token: String,
    /// Base64; the authCode's key. The relying party keeps it in its backend.
    pub session_secret: String,
    /// This service's link address, e.g. `https://id.example.com/device-link`.
    pub device_link_base: String,
}

/// `vc` of a notification signature's answer: the code the relying party shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerificationCodeBody {
    /// Always `numeric4`.
    #[serde(rename = "type")]
    pub kind: String,
    pub value: String,
}

/// The answer to a notification start; `vc` for a signature only (an authentication's code is
/// the relying party's own, from its `rpChallenge`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationSessionCreated {
    #[serde(rename = "sessionID")]
    pub session_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vc: Option<VerificationCodeBody>,
}

/// How a v3 session ended (§2.7): v2's four refusals per interaction are one here, with the
/// interaction in `details`.
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
    UserRefusedInteraction,
    ProtocolFailure,
    ExpectedLinkedSession,
    ServerError,
    AccountUnusable,
}

/// `result.details`: which interaction was refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResultDetails {
    pub interaction: String,
}

/// `result` of a completed session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionResult {
    pub end_result: EndResult,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document_number: Option<String>,
    /// With `USER_REFUSED_INTERACTION` only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<ResultDetails>,
}

/// `maskGenAlgorithm.parameters`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MaskGenParameters {
    pub hash_algorithm: String,
}

/// `maskGenAlgorithm`: always MGF1 with the signature's hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MaskGenAlgorithm {
    pub algorithm: String,
    pub parameters: MaskGenParameters,
}

/// `signatureAlgorithmParameters` of an answer: all of RSASSA-PSS's parameters spelled out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PssParameters {
    pub hash_algorithm: String,
    pub mask_gen_algorithm: MaskGenAlgorithm,
    pub salt_length: usize,
    pub trailer_field: String,
}

impl PssParameters {
    /// The only parameters the service signs with: MGF1 of the same hash, salt as long as the
    /// hash, trailer `0xbc`.
    pub fn for_hash(hash: HashAlgorithm) -> Self {
        PssParameters {
            hash_algorithm: hash.api_name().to_owned(),
            mask_gen_algorithm: MaskGenAlgorithm {
                algorithm: "id-mgf1".to_owned(),
                parameters: MaskGenParameters {
                    hash_algorithm: hash.api_name().to_owned(),
                },
            },
            salt_length: hash.output_len(),
            trailer_field: "0xbc".to_owned(),
        }
    }
}

/// `signature` of a completed session. A certificate choice's carries only `flowType`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionSignature {
    /// Base64 of the raw RSA signature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// ACSP_V2 only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_random: Option<String>,
    /// ACSP_V2 only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_challenge: Option<String>,
    /// `QR`, `Web2App`, `App2App` or `Notification`.
    pub flow_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature_algorithm: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature_algorithm_parameters: Option<PssParameters>,
}

impl SessionSignature {
    /// A certificate choice's: how the phone got the session, nothing signed.
    pub fn flow_only(flow_type: FlowType) -> Self {
        SessionSignature {
            value: None,
            server_random: None,
            user_challenge: None,
            flow_type: flow_type.as_str().to_owned(),
            signature_algorithm: None,
            signature_algorithm_parameters: None,
        }
    }

    /// A signature `value` (base64) made with `algorithm`; the caller adds ACSP_V2's values.
    pub fn signed(value: String, algorithm: SignatureAlgorithm, flow_type: FlowType) -> Self {
        SessionSignature {
            value: Some(value),
            signature_algorithm: Some(algorithm.api_name().to_owned()),
            signature_algorithm_parameters: (algorithm.scheme == SignatureScheme::RsassaPss)
                .then(|| PssParameters::for_hash(algorithm.hash)),
            ..Self::flow_only(flow_type)
        }
    }
}

/// The answer to `GET /v3/session/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionStatus {
    pub state: SessionState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<SessionResult>,
    /// `ACSP_V2` or `RAW_DIGEST_SIGNATURE`; absent for a certificate choice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature_protocol: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<SessionSignature>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert: Option<SessionCertificate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interaction_type_used: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_ip_address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignored_properties: Option<Vec<String>>,
}

impl SessionStatus {
    /// `{"state":"RUNNING"}`.
    pub fn running() -> Self {
        SessionStatus {
            state: SessionState::Running,
            result: None,
            signature_protocol: None,
            signature: None,
            cert: None,
            interaction_type_used: None,
            device_ip_address: None,
            ignored_properties: None,
        }
    }
}

/// `state` of the synchronous certificate lookup.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CertificateState {
    Ok,
    DocumentUnusable,
}

/// The answer to `POST /v3/signature/certificate/{document-number}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateResponse {
    pub state: CertificateState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert: Option<SessionCertificate>,
}

/// One entry of a problem's `errors`: a machine-readable code, and where in the request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProblemError {
    pub code: String,
    pub detail: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub param_name: Option<String>,
    /// JSON Pointer (RFC 6901) into the request body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pointer: Option<String>,
}

/// An RFC 9457 problem, as every v3 refusal but 401 carries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    #[serde(flatten)]
    pub body: ErrorBody,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ProblemError>,
}

/// `NO_SUITABLE_ACCOUNT_FOUND`: the person has accounts, none of the kind asked for (404 from
/// 3.2.0 on, where v2 answered 471).
pub const NO_SUITABLE_ACCOUNT_FOUND: &str = "NO_SUITABLE_ACCOUNT_FOUND";

/// The JSON Pointer of a field as a [`RequestError`](crate::rp_v2::RequestError) names it
/// (`a.b[2].c` becomes `/a/b/2/c`), escaped as RFC 6901 says.
pub fn json_pointer(field: &str) -> String {
    field
        .split('.')
        .flat_map(|part| part.split(['[', ']']).filter(|piece| !piece.is_empty()))
        .map(|piece| format!("/{}", piece.replace('~', "~0").replace('/', "~1")))
        .collect()
}
