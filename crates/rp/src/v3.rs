//! RP API v3's notification flows (docs/spec/rp-api.md §2): a login signs an ACSP_V2 payload,
//! a signature the relying party's digest, both with RSASSA-PSS; answers are checked as §2.10
//! lists (protocol, flow, algorithm and its parameters, certificate, signature over the payload
//! rebuilt here). The SDK asks for SHA-2 hashes only: those are what it can verify with
//! aws-lc-rs (which has no RSA verification over SHA3).

use std::time::SystemTime;

use aws_lc_rs::signature::{self, RsaParameters, UnparsedPublicKey};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use splitid_proto::rp_v2::{CertificateLevel, CommonBody, EndResult, HashType, Interaction};
use splitid_proto::rp_v3::acsp::AcspV2;
use splitid_proto::rp_v3::interactions::Interactions;
use splitid_proto::rp_v3::requests::{
    ACSP_V2, AlgorithmParametersBody, HashAlgorithm, ProtocolParametersBody, RAW_DIGEST_SIGNATURE,
    RequestBody, VC_TYPE_NUMERIC4,
};
use splitid_proto::rp_v3::responses::{
    self as wire, NotificationSessionCreated, PssParameters, SessionStatus,
};
use splitid_proto::rp_v3::{FlowType, SessionTexts};
use splitid_proto::verification_code::VerificationCode;

use crate::client::{Completed, RpClient, SessionKind, Target, decode, read_answer};
use crate::device_link::{LinkSession, Returned, verifier_matches};
use crate::error::{RpError, RpResult};
use crate::signable::SignableData;
use crate::validate::{parse_certificate_key, validate_certificate};

/// A started v3 session: show `verification_code`, then [`RpClient::wait_v3`]. It serialises
/// for a shared session store.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct PendingV3 {
    pub session_id: String,
    pub kind: SessionKind,
    /// What to show beside a notification's session; none for a device link.
    pub verification_code: Option<VerificationCode>,
    /// A device-link session's token and secret, to build its links with.
    pub link: Option<crate::device_link::LinkSession>,
    pub(crate) level: CertificateLevel,
    /// The `interactions` text as sent: the payload binds it byte for byte.
    interactions: String,
    /// A login's `rpChallenge` as sent.
    rp_challenge: Option<String>,
    /// A signature's data.
    signed: Option<SignableData>,
}

impl PendingV3 {
    /// A device-link session as its start answered.
    pub(crate) fn linked(
        kind: SessionKind,
        level: CertificateLevel,
        interactions: String,
        rp_challenge: Option<String>,
        signed: Option<SignableData>,
        (session_id, link): (String, LinkSession),
    ) -> Self {
        PendingV3 {
            session_id,
            kind,
            verification_code: None,
            link: Some(link),
            level,
            interactions,
            rp_challenge,
            signed,
        }
    }

    /// The signature protocol and what it signs, as sent (empty for a certificate choice).
    pub(crate) fn challenge_text(&self) -> (&'static str, String) {
        match (&self.rp_challenge, &self.signed) {
            (Some(rp_challenge), _) => (ACSP_V2, rp_challenge.clone()),
            (None, Some(signed)) => (RAW_DIGEST_SIGNATURE, BASE64.encode(signed.hash())),
            (None, None) => ("", String::new()),
        }
    }

    /// The `interactions` text as sent (empty for a certificate choice).
    pub(crate) fn interactions_text(&self) -> &str {
        &self.interactions
    }

    /// Whether the phone may report `flow` for this session: the flows it was offered.
    fn offers(&self, flow: FlowType) -> bool {
        match &self.link {
            Some(link) => link.offers(flow),
            None => flow == FlowType::Notification,
        }
    }

    /// The callback URL a flow's ACSP_V2 payload binds: a same-device flow's only.
    fn bound_callback(&self, flow: FlowType) -> &str {
        match (flow, &self.link) {
            (FlowType::Web2App | FlowType::App2App, Some(link)) => {
                link.callback_url.as_deref().unwrap_or_default()
            }
            _ => "",
        }
    }
}

pub(crate) fn hash_algorithm(hash_type: HashType) -> HashAlgorithm {
    match hash_type {
        HashType::Sha256 => HashAlgorithm::Sha256,
        HashType::Sha384 => HashAlgorithm::Sha384,
        HashType::Sha512 => HashAlgorithm::Sha512,
    }
}

fn pss_verifier(hash: HashAlgorithm) -> RpResult<&'static RsaParameters> {
    match hash {
        HashAlgorithm::Sha256 => Ok(&signature::RSA_PSS_2048_8192_SHA256),
        HashAlgorithm::Sha384 => Ok(&signature::RSA_PSS_2048_8192_SHA384),
        HashAlgorithm::Sha512 => Ok(&signature::RSA_PSS_2048_8192_SHA512),
        other => Err(RpError::InvalidSignature(format!(
            "{} was not asked for",
            other.api_name()
        ))),
    }
}

/// The hash logins sign their payload with.
pub(crate) const LOGIN_HASH: HashAlgorithm = HashAlgorithm::Sha512;

impl RpClient {
    /// The RP API v3 base: the configured one's `/v2` as `/v3`.
    fn v3_base(&self) -> String {
        let base = &self.config().base_url;
        match base.strip_suffix("/v2") {
            Some(root) => format!("{root}/v3"),
            None => base.clone(),
        }
    }

    pub(crate) fn v3_body(
        &self,
        level: CertificateLevel,
        protocol: &str,
        parameters: ProtocolParametersBody,
        interactions: &str,
    ) -> RequestBody {
        RequestBody {
            common: CommonBody {
                relying_party_uuid: Some(self.config().relying_party_uuid.clone()),
                relying_party_name: Some(self.config().relying_party_name.clone()),
                certificate_level: Some(level.api_name().to_owned()),
                ..CommonBody::default()
            },
            signature_protocol: Some(protocol.to_owned()),
            signature_protocol_parameters: Some(parameters),
            interactions: Some(interactions.to_owned()),
            ..RequestBody::default()
        }
    }

    pub(crate) async fn start_v3<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        body: &RequestBody,
    ) -> RpResult<T> {
        let response = self
            .http()
            .post(format!("{}{path}", self.v3_base()))
            .json(body)
            .send()
            .await
            .map_err(|e| RpError::Transport(e.to_string()))?;
        read_answer(response, true).await
    }

    /// Starts a login by push with a fresh 64-byte rpChallenge (ACSP_V2, RSASSA-PSS with
    /// SHA-512); the code to show is the challenge's.
    pub async fn start_notification_authentication(
        &self,
        target: &Target,
        level: CertificateLevel,
        interactions: &[Interaction],
    ) -> RpResult<PendingV3> {
        let challenge = SignableData::random_challenge()?;
        let rp_challenge = BASE64.encode(challenge.data());
        let sent = Interactions::encode(interactions);
        let parameters = ProtocolParametersBody {
            rp_challenge: Some(rp_challenge.clone()),
            ..pss_parameters(LOGIN_HASH)
        };
        let mut body = self.v3_body(level, ACSP_V2, parameters, &sent);
        body.vc_type = Some(VC_TYPE_NUMERIC4.to_owned());
        let created: NotificationSessionCreated = self
            .start_v3(&target.path("authentication/notification"), &body)
            .await?;
        Ok(PendingV3 {
            session_id: created.session_id,
            kind: SessionKind::Authentication,
            verification_code: Some(VerificationCode::from_hash(challenge.data())),
            link: None,
            level,
            interactions: sent,
            rp_challenge: Some(rp_challenge),
            signed: None,
        })
    }

    /// Starts a signature by push over `data` (RAW_DIGEST_SIGNATURE, RSASSA-PSS with its hash);
    /// the code to show is the one the service drew.
    pub async fn start_notification_signature(
        &self,
        target: &Target,
        level: CertificateLevel,
        data: SignableData,
        interactions: &[Interaction],
    ) -> RpResult<PendingV3> {
        let sent = Interactions::encode(interactions);
        let parameters = ProtocolParametersBody {
            digest: Some(BASE64.encode(data.hash())),
            ..pss_parameters(hash_algorithm(data.hash_type()))
        };
        let body = self.v3_body(level, RAW_DIGEST_SIGNATURE, parameters, &sent);
        let created: NotificationSessionCreated = self
            .start_v3(&target.path("signature/notification"), &body)
            .await?;
        let code = created
            .vc
            .and_then(|vc| vc.value.parse().ok())
            .ok_or_else(|| {
                RpError::InvalidResponse("a notification signature without vc".into())
            })?;
        Ok(PendingV3 {
            session_id: created.session_id,
            kind: SessionKind::Signature,
            verification_code: Some(code),
            link: None,
            level,
            interactions: sent,
            rp_challenge: None,
            signed: Some(data),
        })
    }

    /// Long-polls the session until it completes, then checks it and the certificate's
    /// revocation status.
    pub async fn wait_v3(&self, pending: &PendingV3) -> RpResult<Completed> {
        self.wait_v3_returned(pending, None).await
    }

    /// [`wait_v3`](Self::wait_v3) for a session whose phone returned through a Web2App or
    /// App2App callback: `returned` is what [`verify_callback`](Self::verify_callback) found
    /// in it (a login's signed `userChallenge` must match its verifier).
    pub async fn wait_v3_returned(
        &self,
        pending: &PendingV3,
        returned: Option<&Returned>,
    ) -> RpResult<Completed> {
        let url = format!("{}/session/{}", self.v3_base(), pending.session_id);
        let status: SessionStatus = self
            .poll_json_until(&url, |s: &SessionStatus| {
                s.state == wire::SessionState::Complete
            })
            .await?;
        let completed = self.check_v3_returned(pending, status, SystemTime::now(), returned)?;
        self.check_revocation(&completed.certificate).await?;
        Ok(completed)
    }

    /// One look at the session, waiting at most `wait` (RP API v3's minimum, 1 s, at least):
    /// `None` while it runs, else the checked result (revocation too). For a page that shows a
    /// QR code and rebuilds it each second while it waits.
    pub async fn status_v3(
        &self,
        pending: &PendingV3,
        wait: std::time::Duration,
        returned: Option<&Returned>,
    ) -> RpResult<Option<Completed>> {
        let timeout = wait.as_millis().clamp(1_000, 120_000);
        let url = format!(
            "{}/session/{}?timeoutMs={timeout}",
            self.v3_base(),
            pending.session_id
        );
        let response = self
            .http()
            .get(url)
            .send()
            .await
            .map_err(|e| RpError::Transport(e.to_string()))?;
        let status: SessionStatus = read_answer(response, false).await?;
        if status.state != wire::SessionState::Complete {
            return Ok(None);
        }
        let completed = self.check_v3_returned(pending, status, SystemTime::now(), returned)?;
        self.check_revocation(&completed.certificate).await?;
        Ok(Some(completed))
    }

    /// Checks a completed v3 session as of `at`, offline (everything but revocation).
    pub fn check_v3(
        &self,
        pending: &PendingV3,
        status: SessionStatus,
        at: SystemTime,
    ) -> RpResult<Completed> {
        self.check_v3_returned(pending, status, at, None)
    }

    /// [`check_v3`](Self::check_v3) with what a same-device flow's callback returned.
    pub fn check_v3_returned(
        &self,
        pending: &PendingV3,
        status: SessionStatus,
        at: SystemTime,
        returned: Option<&Returned>,
    ) -> RpResult<Completed> {
        let result = status
            .result
            .ok_or_else(|| RpError::InvalidResponse("a completed session without result".into()))?;
        if let Some(error) = end_result_error(&result) {
            return Err(error);
        }
        let invalid = |what: &str| RpError::InvalidResponse(what.to_owned());
        let document_number = result
            .document_number
            .ok_or_else(|| invalid("OK without documentNumber"))?;
        let cert = status.cert.ok_or_else(|| invalid("OK without cert"))?;
        let der = decode("cert.value", &cert.value)?;
        let role = pending.kind.key_role();
        let certificate = validate_certificate(
            self.trust(),
            &der,
            cert.certificate_level,
            pending.level,
            role,
            at,
        )?;
        let signature = status
            .signature
            .ok_or_else(|| invalid("OK without signature"))?;
        // §2.7: the flow must be one this relying party offered.
        let flow = FlowType::parse(&signature.flow_type)
            .filter(|flow| pending.offers(*flow))
            .ok_or_else(|| {
                invalid(&format!(
                    "flowType {:?} was not offered",
                    signature.flow_type
                ))
            })?;
        if pending.kind == SessionKind::CertificateChoice {
            if status.signature_protocol.is_some() || signature.value.is_some() {
                return Err(invalid("a certificate choice with a signature"));
            }
            return Ok(Completed {
                document_number,
                certificate,
                signature: None,
                interaction_flow_used: None,
            });
        }
        let (protocol, hash, message) = match (&pending.rp_challenge, &pending.signed) {
            (Some(rp_challenge), _) => {
                let same_device = matches!(flow, FlowType::Web2App | FlowType::App2App);
                if same_device {
                    // §2.10 step 3: the callback's verifier commits to the signed challenge.
                    let verifier = returned
                        .and_then(|r| r.user_challenge_verifier.as_deref())
                        .ok_or_else(|| {
                            invalid("a same-device login checked without its callback")
                        })?;
                    let signed = signature.user_challenge.as_deref().unwrap_or_default();
                    if !verifier_matches(verifier, signed) {
                        return Err(invalid("userChallenge is not the callback verifier's"));
                    }
                }
                let payload = self.acsp_payload(
                    pending,
                    rp_challenge,
                    &signature,
                    status.interaction_type_used.as_deref(),
                    flow,
                )?;
                (ACSP_V2, LOGIN_HASH, payload)
            }
            (None, Some(signed)) => (
                RAW_DIGEST_SIGNATURE,
                hash_algorithm(signed.hash_type()),
                signed.data().to_vec(),
            ),
            (None, None) => return Err(invalid("a pending session with nothing signed")),
        };
        if status.signature_protocol.as_deref() != Some(protocol) {
            return Err(invalid(&format!(
                "signatureProtocol {:?}, {protocol} expected",
                status.signature_protocol
            )));
        }
        if signature.signature_algorithm.as_deref() != Some("rsassa-pss")
            || signature.signature_algorithm_parameters != Some(PssParameters::for_hash(hash))
        {
            return Err(RpError::InvalidSignature(format!(
                "not RSASSA-PSS with {} as asked",
                hash.api_name()
            )));
        }
        let value = decode(
            "signature.value",
            signature.value.as_deref().unwrap_or_default(),
        )?;
        UnparsedPublicKey::new(pss_verifier(hash)?, parse_certificate_key(&der)?)
            .verify(&message, &value)
            .map_err(|_| {
                RpError::InvalidSignature(
                    "not made by the certificate's key over what was asked".into(),
                )
            })?;
        Ok(Completed {
            document_number,
            certificate,
            signature: Some(value),
            interaction_flow_used: status.interaction_type_used,
        })
    }

    /// The ACSP_V2 payload the phone signed, rebuilt from what this side sent and the status.
    fn acsp_payload(
        &self,
        pending: &PendingV3,
        rp_challenge: &str,
        signature: &wire::SessionSignature,
        interaction_type_used: Option<&str>,
        flow: FlowType,
    ) -> RpResult<Vec<u8>> {
        let invalid = |what: &str| RpError::InvalidResponse(what.to_owned());
        let server_random = signature
            .server_random
            .as_deref()
            .filter(|r| r.len() >= 24)
            .ok_or_else(|| invalid("ACSP_V2 without a serverRandom of 24 characters or more"))?;
        let user_challenge = signature
            .user_challenge
            .as_deref()
            .filter(|c| c.len() == 43)
            .ok_or_else(|| invalid("ACSP_V2 without a 43-character userChallenge"))?;
        let interaction =
            interaction_type_used.ok_or_else(|| invalid("ACSP_V2 without interactionTypeUsed"))?;
        Ok(AcspV2 {
            session: SessionTexts {
                scheme_name: &self.config().scheme_name,
                relying_party_name: &self.config().relying_party_name,
                brokered_rp_name: "",
                interactions: &pending.interactions,
                initial_callback_url: pending.bound_callback(flow),
            },
            server_random,
            rp_challenge,
            user_challenge,
            interaction_type_used: interaction,
            flow_type: flow,
        }
        .payload())
    }
}

/// `signatureAlgorithm` rsassa-pss with `hash`.
pub(crate) fn pss_parameters(hash: HashAlgorithm) -> ProtocolParametersBody {
    ProtocolParametersBody {
        signature_algorithm: Some("rsassa-pss".to_owned()),
        signature_algorithm_parameters: Some(AlgorithmParametersBody {
            hash_algorithm: Some(hash.api_name().to_owned()),
        }),
        ..ProtocolParametersBody::default()
    }
}

/// The error of a v3 ending other than OK; a refused interaction as v2 names it.
fn end_result_error(result: &wire::SessionResult) -> Option<RpError> {
    use wire::EndResult as V3;
    let v2 = match result.end_result {
        V3::Ok => EndResult::Ok,
        V3::UserRefused => EndResult::UserRefused,
        V3::Timeout => EndResult::Timeout,
        V3::DocumentUnusable | V3::AccountUnusable => EndResult::DocumentUnusable,
        V3::WrongVc => EndResult::WrongVc,
        V3::RequiredInteractionNotSupportedByApp => EndResult::RequiredInteractionNotSupportedByApp,
        V3::UserRefusedCertChoice => EndResult::UserRefusedCertChoice,
        V3::UserRefusedInteraction => {
            let interaction = result.details.as_ref().map(|d| d.interaction.as_str());
            match interaction {
                Some("confirmationMessage") => EndResult::UserRefusedConfirmationmessage,
                Some("confirmationMessageAndVerificationCodeChoice") => {
                    EndResult::UserRefusedConfirmationmessageWithVcChoice
                }
                _ => EndResult::UserRefusedDisplaytextandpin,
            }
        }
        V3::ProtocolFailure => return Some(RpError::SessionFailed("PROTOCOL_FAILURE")),
        V3::ExpectedLinkedSession => {
            return Some(RpError::SessionFailed("EXPECTED_LINKED_SESSION"));
        }
        V3::ServerError => return Some(RpError::SessionFailed("SERVER_ERROR")),
    };
    RpError::from_end_result(v2)
}

#[cfg(test)]
mod tests {
    use super::*;
    use wire::{EndResult as V3, ResultDetails, SessionResult};

    fn ended(end_result: V3, interaction: Option<&str>) -> Option<RpError> {
        end_result_error(&SessionResult {
            end_result,
            document_number: None,
            details: interaction.map(|i| ResultDetails {
                interaction: i.into(),
            }),
        })
    }

    #[test]
    fn v3_endings_become_the_sdks_errors() {
        assert!(ended(V3::Ok, None).is_none());
        assert!(matches!(
            ended(V3::UserRefusedInteraction, Some("confirmationMessage")),
            Some(RpError::UserRefused(
                EndResult::UserRefusedConfirmationmessage
            ))
        ));
        assert!(matches!(
            ended(V3::AccountUnusable, None),
            Some(RpError::DocumentUnusable)
        ));
        assert!(matches!(
            ended(V3::ProtocolFailure, None),
            Some(RpError::SessionFailed("PROTOCOL_FAILURE"))
        ));
    }
}
