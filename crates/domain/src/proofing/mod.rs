//! Identity proofing at registration: which methods the operator configured, the single-use
//! proofing challenges they bind their evidence to, and the account method's vouching login.
//!
//! Every method yields a [`ProvenIdentity`]: the identity always comes from the evidence (the
//! certificate, the ID token's claims, the vouching account), never from what the registrant
//! types; the level is the method's configured assurance.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use splitid_proto::VerificationCode;
use splitid_proto::app_v1::{
    OidcMethod, Proofing, ProofingChallenge, ProofingMethods, TransactionOutcome, Vouch,
    VouchSession, VouchSessionRequest, VouchState, proofing_message, vouch_message,
};
use splitid_proto::identifiers::SemanticsIdentifier;
use splitid_sealing::Binding;
use splitkey::{HalfSize, HashAlgorithm, Padding, PartialSignature, SignRequest};
use time::Duration;
use uuid::Uuid;

pub use splitid_evidence::eid::{EidCertificateConfig, RevocationCheck};
pub use splitid_evidence::oidc::{OidcClaims, OidcConfig};
pub use splitid_evidence::{Assurance, ProvenIdentity};
use splitid_evidence::{check_name, eid, oidc};

use crate::Service;
use crate::accounts::pin_policy::pin_status;
use crate::accounts::{PinAttempt, PinOutcome, rfc3339};
use crate::error::{ServiceError, ServiceResult};
use crate::sessions::{Progress, SigningRequest, Target};
use crate::store::{AccountRecord, KeyPurpose, Serialised};

/// How long a proofing challenge can be used.
const CHALLENGE_TTL: Duration = Duration::minutes(5);

/// The proofing methods the operator configured (demo is governed by `Config::demo`).
#[derive(Debug, Clone, Default)]
pub struct ProofingConfig {
    pub eid_certificate: Option<EidCertificateConfig>,
    pub oidc: Option<OidcConfig>,
    /// Whether an existing account may vouch for a new one (adding a device, replacement).
    pub account: bool,
    /// How apps send people to the OpenID Connect provider (with `oidc` only).
    pub oidc_sign_in: OidcSignIn,
}

/// How an app sends a person to the OpenID Connect provider to sign in; the ID token that
/// comes back is verified by [`OidcConfig`] like any other.
#[derive(Debug, Clone, Default)]
pub struct OidcSignIn {
    /// What apps call the provider.
    pub name: String,
    /// The provider's authorization endpoint; `None`: no sign-in by redirect.
    pub authorization_endpoint: Option<String>,
    /// The scopes asked for, space-separated.
    pub scope: String,
}

fn not_configured(method: &str) -> ServiceError {
    ServiceError::NotAllowed(format!(
        "identity proofing method {method:?} is not enabled on this server"
    ))
}

/// How many "add a new device" requests may reach one account's phone in an hour.
const VOUCH_REQUESTS_PER_HOUR: u64 = 5;

impl Service {
    /// The proofing methods an app may offer here: configuration only, the same for everyone.
    pub fn proofing_methods(&self) -> ProofingMethods {
        let config = self.config();
        let proofing = &config.proofing;
        ProofingMethods {
            demo: config.demo,
            eid_certificate: proofing.eid_certificate.is_some(),
            account: proofing.account,
            oidc: proofing.oidc.as_ref().map(|oidc| OidcMethod {
                issuer: oidc.issuer.clone(),
                client_id: oidc.audience.clone(),
                name: proofing.oidc_sign_in.name.clone(),
                authorization_endpoint: proofing.oidc_sign_in.authorization_endpoint.clone(),
                scope: proofing.oidc_sign_in.scope.clone(),
            }),
        }
    }

    /// Issues a single-use proofing challenge.
    pub async fn issue_proofing_challenge(&self) -> ServiceResult<ProofingChallenge> {
        let mut random = [0u8; 32];
        self.keys().random(&mut random)?;
        let id = Uuid::new_v4();
        let challenge = BASE64.encode(random);
        let now = self.now();
        let expires = now + CHALLENGE_TTL;
        self.store()
            .insert_proofing_challenge(id, &challenge, now, expires)
            .await?;
        Ok(ProofingChallenge {
            challenge_id: id.to_string(),
            challenge,
            expires_at: rfc3339(expires),
        })
    }

    /// A challenge that can still be used, or a clear refusal.
    async fn open_challenge(
        &self,
        challenge_id: &str,
    ) -> ServiceResult<crate::store::ProofingChallengeRecord> {
        let unknown = || {
            ServiceError::Invalid(
                "challengeId: no such proofing challenge (request one with POST /app/v1/proofing-challenges)".into(),
            )
        };
        let id = Uuid::parse_str(challenge_id).map_err(|_| unknown())?;
        let record = self
            .store()
            .proofing_challenge(id)
            .await?
            .ok_or_else(unknown)?;
        if record.used {
            return Err(ServiceError::Conflict(
                "challengeId: this proofing challenge was already used; each proves one registration".into(),
            ));
        }
        if record.expires_at <= self.now() {
            return Err(ServiceError::Invalid(
                "challengeId: this proofing challenge has expired; request a new one".into(),
            ));
        }
        Ok(record)
    }

    /// Checks the evidence and says who the person is; also the challenge the registration
    /// must consume (none for demo). Reads only: bad evidence changes nothing.
    pub(crate) async fn prove_identity(
        &self,
        proofing: &Proofing,
    ) -> ServiceResult<(ProvenIdentity, Option<Uuid>)> {
        let proofing_config = &self.config().proofing;
        match proofing {
            Proofing::Demo {
                semantics_identifier,
                given_name,
                surname,
            } => {
                if !self.config().demo {
                    return Err(ServiceError::NotAllowed(
                        "self-asserted (demo) identities are accepted only by a server in demo mode".into(),
                    ));
                }
                let person: SemanticsIdentifier = semantics_identifier
                    .parse()
                    .map_err(|e| ServiceError::Invalid(format!("semanticsIdentifier: {e}")))?;
                let identity = ProvenIdentity {
                    semantics_id: person.to_string(),
                    given_name: check_name("givenName", given_name)?,
                    surname: check_name("surname", surname)?,
                    country: person.country().to_owned(),
                    level: Assurance::Qualified.as_str().into(),
                    method: "demo".into(),
                    evidence: serde_json::json!({ "selfAsserted": true }),
                };
                Ok((identity, None))
            }
            Proofing::EidCertificate {
                challenge_id,
                certificate_chain,
                signature_algorithm,
                signature,
            } => {
                let config = proofing_config
                    .eid_certificate
                    .as_ref()
                    .ok_or_else(|| not_configured("eid_certificate"))?;
                let challenge = self.open_challenge(challenge_id).await?;
                let message = proofing_message(challenge_id, &challenge.challenge);
                let evidence = eid::Evidence {
                    chain: certificate_chain,
                    signature_algorithm,
                    signature,
                    message: &message,
                };
                let identity = eid::verify(config, &evidence, self.now()).await?;
                Ok((identity, Some(challenge.id)))
            }
            Proofing::Oidc {
                challenge_id,
                id_token,
            } => {
                let config = proofing_config
                    .oidc
                    .as_ref()
                    .ok_or_else(|| not_configured("oidc"))?;
                let challenge = self.open_challenge(challenge_id).await?;
                let identity = oidc::verify(config, id_token, &challenge.challenge, self.now())?;
                Ok((identity, Some(challenge.id)))
            }
            Proofing::Account { challenge_id } => {
                if !proofing_config.account {
                    return Err(not_configured("account"));
                }
                // A vouching login from another device that completed since the last look.
                let mut challenge = self.open_challenge(challenge_id).await?;
                if challenge.vouched_by.is_none() && challenge.vouch_session.is_some() {
                    self.vouch_state(challenge_id, std::time::Duration::ZERO)
                        .await?;
                    challenge = self.open_challenge(challenge_id).await?;
                }
                let voucher = challenge.vouched_by.ok_or_else(|| {
                    ServiceError::Invalid(
                        "challengeId: no account has vouched for this challenge (POST /app/v1/accounts/{id}/vouch with PIN1 first)".into(),
                    )
                })?;
                let account = self
                    .store()
                    .account(voucher)
                    .await?
                    .ok_or_else(|| ServiceError::internal("vouching account vanished"))?;
                if !account.is_usable(self.now()) {
                    return Err(ServiceError::Conflict(
                        "the vouching account is closed or expired".into(),
                    ));
                }
                Ok((inherited_identity(&account), Some(challenge.id)))
            }
        }
    }

    /// `POST /app/v1/accounts/{id}/vouch`: the account's PIN1 signature over the challenge,
    /// judged and counted like any login; a right PIN marks the challenge as proven by it.
    pub async fn vouch(
        &self,
        account: &AccountRecord,
        serialised: Serialised,
        vouch: Vouch,
    ) -> ServiceResult<TransactionOutcome> {
        if !self.config().proofing.account {
            return Err(not_configured("account"));
        }
        if !account.is_usable(self.now()) {
            return Err(ServiceError::Conflict(
                "a closed or expired account cannot vouch for a new one".into(),
            ));
        }
        let challenge = self.open_challenge(&vouch.challenge_id).await?;
        if challenge.vouched_by.is_some() {
            return Err(ServiceError::Conflict(
                "challengeId: another account already vouched for this challenge".into(),
            ));
        }
        let key = self.key(account.id, KeyPurpose::Authentication).await?;
        let half = HalfSize::from_bits(key.half_bits).map_err(ServiceError::internal)?;
        let request = vouch_request(half, &vouch.challenge_id, &challenge.challenge)?;
        let partial = self
            .open_sealed(
                "sealedPartialSignature",
                &vouch.sealed_partial_signature,
                Binding::Vouch {
                    account: &account.id.to_string(),
                    challenge: &vouch.challenge_id,
                },
            )
            .await?;
        let partial = PartialSignature::from_bytes(&partial);
        match self
            .sign_with_pin(PinAttempt::new(account, serialised, key, &request, partial))
            .await?
        {
            PinOutcome::Signed { right_pin, .. } => {
                self.store().record_right_pin(&right_pin).await?;
                if !self
                    .store()
                    .vouch_for_challenge(challenge.id, account.id, self.now())
                    .await?
                {
                    return Err(ServiceError::Conflict(
                        "challengeId: the challenge was used or vouched for meanwhile".into(),
                    ));
                }
                tracing::info!(account = %account.id, challenge = %challenge.id, "account vouched for a new registration");
                Ok(TransactionOutcome::Completed {
                    end_result: "OK".into(),
                })
            }
            PinOutcome::WrongPin(state) | PinOutcome::Locked(state) => {
                Ok(TransactionOutcome::WrongPin {
                    pin: pin_status(state),
                })
            }
        }
    }
}

impl Service {
    /// Asks the device of the account `document_number` for a PIN1 login that vouches for the
    /// challenge (adding a device: the account lives on another phone). The new device shows
    /// the verification code; the session completes like any login.
    pub async fn start_vouch_session(
        &self,
        challenge_id: &str,
        request: VouchSessionRequest,
    ) -> ServiceResult<VouchSession> {
        if !self.config().proofing.account {
            return Err(not_configured("account"));
        }
        let challenge = self.open_challenge(challenge_id).await?;
        if challenge.vouched_by.is_some() {
            return Err(ServiceError::Conflict(
                "challengeId: an account already vouched for this challenge".into(),
            ));
        }
        self.limit_vouch_requests(&request.document_number).await?;
        let hash = aws_lc_rs::digest::digest(
            &aws_lc_rs::digest::SHA512,
            &vouch_message(challenge_id, &challenge.challenge),
        )
        .as_ref()
        .to_vec();
        let login = SigningRequest::own_login(
            "SplitID",
            hash.clone(),
            "Add a new device to your SplitID",
            Some(challenge.id.to_string()),
        );
        let session = self
            .start_signing_session(
                PROOFING_RELYING_PARTY,
                Target::Document(request.document_number.clone()),
                login,
            )
            .await?
            .id;
        if !self
            .store()
            .set_vouch_session(challenge.id, session, self.now())
            .await?
        {
            return Err(ServiceError::Conflict(
                "challengeId: the challenge was used or vouched for meanwhile".into(),
            ));
        }
        Ok(VouchSession {
            verification_code: VerificationCode::from_hash(&hash).to_string(),
        })
    }

    /// Anyone may ask an account's phone to vouch for a new device, so the requests are
    /// limited: one waiting at a time, and a few an hour, per account. (Unknown document
    /// numbers pass here and are answered 404 by the session start.)
    async fn limit_vouch_requests(&self, document_number: &str) -> ServiceResult<()> {
        let Some(account) = self.store().account_by_document(document_number).await? else {
            return Ok(());
        };
        let since = self.now() - time::Duration::HOUR;
        let (recent, waiting) = self
            .store()
            .recent_sessions_to(PROOFING_RELYING_PARTY, account.id, since)
            .await?;
        if waiting > 0 {
            return Err(ServiceError::RateLimited(
                "a request to add a device is already waiting on that phone".into(),
            ));
        }
        if recent >= VOUCH_REQUESTS_PER_HOUR {
            return Err(ServiceError::RateLimited(format!(
                "at most {VOUCH_REQUESTS_PER_HOUR} requests to add a device per hour reach a phone; try again later"
            )));
        }
        Ok(())
    }

    /// Whether an account vouched for the challenge, waiting up to `wait` for the vouching
    /// login to finish. A login that completed OK marks the challenge as proven by its account.
    pub async fn vouch_state(
        &self,
        challenge_id: &str,
        wait: std::time::Duration,
    ) -> ServiceResult<VouchState> {
        let challenge = self.open_challenge(challenge_id).await?;
        if let Some(voucher) = challenge.vouched_by {
            return self.vouched(voucher).await;
        }
        let Some(session) = challenge.vouch_session else {
            return Ok(VouchState {
                state: "NONE".into(),
                voucher: None,
            });
        };
        let progress = self
            .session_status(PROOFING_RELYING_PARTY, session, wait)
            .await?;
        let Progress::Complete(result) = progress else {
            return Ok(VouchState {
                state: "RUNNING".into(),
                voucher: None,
            });
        };
        let end_result = result.end_result.to_string();
        let document = match (end_result.as_str(), result.document_number) {
            ("OK", Some(document)) => document,
            _ => {
                return Ok(VouchState {
                    state: end_result,
                    voucher: None,
                });
            }
        };
        let account = self
            .store()
            .account_by_document(&document)
            .await?
            .ok_or_else(|| ServiceError::internal("the vouching account vanished"))?;
        if !self
            .store()
            .vouch_for_challenge(challenge.id, account.id, self.now())
            .await?
        {
            return Err(ServiceError::Conflict(
                "challengeId: the challenge was used meanwhile".into(),
            ));
        }
        tracing::info!(account = %account.id, challenge = %challenge.id, "account vouched for a new device");
        self.vouched(account.id).await
    }

    async fn vouched(&self, voucher: Uuid) -> ServiceResult<VouchState> {
        let account = self
            .store()
            .account(voucher)
            .await?
            .ok_or_else(|| ServiceError::internal("the vouching account vanished"))?;
        Ok(VouchState {
            state: "OK".into(),
            voucher: Some(account.document_number),
        })
    }
}

/// The relying-party UUID under which SplitID itself asks for vouching logins (no relying
/// party can read these sessions).
pub const PROOFING_RELYING_PARTY: Uuid = Uuid::from_u128(0x5b117d00_0000_4000_8000_00000000a11d);

/// What the vouching account's PIN1 key signs (the app builds the same).
pub fn vouch_request(
    half: HalfSize,
    challenge_id: &str,
    challenge: &str,
) -> ServiceResult<SignRequest> {
    let digest = aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA256,
        &vouch_message(challenge_id, challenge),
    );
    SignRequest::new(
        half,
        HashAlgorithm::Sha256,
        Padding::Pkcs1v15,
        digest.as_ref(),
    )
    .map_err(ServiceError::internal)
}

/// The identity a vouching account passes on: the same person, at most the same level.
fn inherited_identity(account: &AccountRecord) -> ProvenIdentity {
    ProvenIdentity {
        semantics_id: account.semantics_id.clone(),
        given_name: account.given_name.clone(),
        surname: account.surname.clone(),
        country: account.country.clone(),
        level: account.level.clone(),
        method: "account".into(),
        evidence: serde_json::json!({
            "documentNumber": account.document_number,
            "voucherProofingMethod": account.proofing_method,
        }),
    }
}
