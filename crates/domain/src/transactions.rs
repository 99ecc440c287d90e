//! The device's side of a session, a transaction: what the phone is shown, and its answer
//! (confirmed with the PIN, or refused).

use std::time::Duration as StdDuration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use splitid_proto::app_v1::{
    AcspTransaction, CodeOrigin, Confirmation, EXPECTED_LINKED_SESSION_SCREEN, KeyUse,
    PROTOCOL_FAILURE_SCREEN, PendingTransaction, Refusal, TransactionOutcome,
};
use splitid_proto::rp_v3::FlowType;
use splitid_sealing::Binding;
use splitkey::{HalfSize, HashAlgorithm, Padding, PartialSignature, SignRequest};
use uuid::Uuid;

use crate::Service;
use crate::accounts::pin_policy::{PinState, pin_status};
use crate::accounts::{PinAttempt, PinOutcome, rfc3339};
use crate::error::{ServiceError, ServiceResult};
use crate::model::{
    DigestAlgorithm, EndResult, Flow, InteractionKind, Outcome, Padding as ModelPadding,
    SignatureProtocol,
};
use crate::sessions::{Answer, SessionSpec, callback_of, is_past, key_for, signed_outcome};
use crate::store::{
    AccountRecord, ChannelAdvance, KeyPurpose, KeyRecord, Serialised, SessionKind, SessionRecord,
};

/// The screen name of a refused certificate choice.
pub const CERTIFICATE_CHOICE_SCREEN: &str = "certificateChoice";

fn hash_algorithm(digest: DigestAlgorithm) -> HashAlgorithm {
    match digest {
        DigestAlgorithm::Sha256 => HashAlgorithm::Sha256,
        DigestAlgorithm::Sha384 => HashAlgorithm::Sha384,
        DigestAlgorithm::Sha512 => HashAlgorithm::Sha512,
        DigestAlgorithm::Sha3_256 => HashAlgorithm::Sha3_256,
        DigestAlgorithm::Sha3_384 => HashAlgorithm::Sha3_384,
        DigestAlgorithm::Sha3_512 => HashAlgorithm::Sha3_512,
    }
}

/// A digest algorithm's name in the app API: SHA-2 as RP API v2 names it (every app reads
/// those), SHA3 as FIPS 202 does.
fn app_hash_name(digest: DigestAlgorithm) -> &'static str {
    match digest {
        DigestAlgorithm::Sha256 => "SHA256",
        DigestAlgorithm::Sha384 => "SHA384",
        DigestAlgorithm::Sha512 => "SHA512",
        other => hash_algorithm(other).api_name(),
    }
}

fn padding_name(padding: ModelPadding) -> &'static str {
    match padding {
        ModelPadding::Pkcs1V15 => "pkcs1v15",
        ModelPadding::Pss => "pss",
    }
}

fn flow_type(flow: Flow) -> FlowType {
    match flow {
        Flow::Qr => FlowType::Qr,
        Flow::Web2App => FlowType::Web2App,
        Flow::App2App => FlowType::App2App,
        Flow::Notification => FlowType::Notification,
    }
}

/// Characters of a `userChallenge`: SHA-256 in unpadded base64url.
const USER_CHALLENGE_CHARS: usize = 43;

fn spec_of(session: &SessionRecord) -> ServiceResult<SessionSpec> {
    serde_json::from_value(session.request.clone()).map_err(ServiceError::internal)
}

impl Service {
    /// The transactions waiting for this account's device, waiting up to `wait` for one to
    /// arrive when there is none.
    pub async fn pending_transactions(
        &self,
        account: &AccountRecord,
        wait: StdDuration,
    ) -> ServiceResult<Vec<PendingTransaction>> {
        let deadline = tokio::time::Instant::now() + wait;
        let notify = self.waiters().account(account.id);
        loop {
            let notified = notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let transactions = self.open_transactions(account).await?;
            if !transactions.is_empty() || tokio::time::Instant::now() >= deadline {
                return Ok(transactions);
            }
            tokio::select! {
                _ = &mut notified => {}
                _ = tokio::time::sleep_until(deadline) => {}
            }
        }
    }

    async fn open_transactions(
        &self,
        account: &AccountRecord,
    ) -> ServiceResult<Vec<PendingTransaction>> {
        let now = self.now();
        let mut open = Vec::new();
        for session in self.store().pending_sessions_for(account.id).await? {
            if is_past(session.deadline, now) {
                self.finish(session.id, &Outcome::ended(EndResult::Timeout), None)
                    .await?;
                continue;
            }
            open.push(self.describe(&session)?);
        }
        self.stamp_channel_key(&mut open).await?;
        Ok(open)
    }

    /// Names the current channel key in every transaction the app seals a secret for.
    pub(crate) async fn stamp_channel_key(
        &self,
        transactions: &mut [PendingTransaction],
    ) -> ServiceResult<()> {
        if transactions.iter().any(|t| t.key.is_some()) {
            let current = self.current_channel_key_id().await?;
            for transaction in transactions.iter_mut().filter(|t| t.key.is_some()) {
                transaction.server_key_id = Some(current.clone());
            }
        }
        Ok(())
    }

    pub(crate) fn describe(&self, session: &SessionRecord) -> ServiceResult<PendingTransaction> {
        let spec = spec_of(session)?;
        let kind = crate::push::transaction_kind(session.kind);
        let mut transaction = PendingTransaction {
            transaction_id: session.id.to_string(),
            kind,
            relying_party_name: spec.relying_party_name.clone(),
            interaction: None,
            text: None,
            // With code choice the phone must not point at the right code: the person has to
            // compare with the e-service's screen.
            verification_code: spec
                .verification_code
                .clone()
                .filter(|_| spec.code_choices.is_empty()),
            code_choices: spec.code_choices.clone(),
            key: None,
            hash_type: None,
            hash: None,
            padding: None,
            code_origin: spec.code_drawn.then_some(CodeOrigin::Service),
            acsp: None,
            expires_at: rfc3339(session.deadline),
            callback_url: spec.callback_url.clone(),
            linked_to: spec.linked_session.map(|id| id.to_string()),
            server_key_id: None,
        };
        if let Some(interaction) = &spec.interaction {
            transaction.interaction = Some(interaction.kind.name().to_owned());
            transaction.text = Some(interaction.text.clone());
        }
        if session.kind != SessionKind::CertificateChoice {
            transaction.key = Some(match key_for(session.kind) {
                KeyPurpose::Authentication => KeyUse::Authentication,
                KeyPurpose::Signing => KeyUse::Signing,
            });
            // PKCS#1 v1.5 is deterministic: the app encodes the hash itself, which leaves no
            // room for a substituted message. With PSS the app draws the salt and sends its
            // encoding back, which the service checks before it completes the signature.
            let (digest_algorithm, padding) = match &spec.protocol {
                Some(SignatureProtocol::Pkcs1V15Digest {
                    digest_algorithm,
                    digest,
                }) => {
                    transaction.hash = Some(BASE64.encode(digest));
                    (*digest_algorithm, ModelPadding::Pkcs1V15)
                }
                Some(SignatureProtocol::PssDigest {
                    digest_algorithm,
                    digest,
                }) => {
                    transaction.hash = Some(BASE64.encode(digest));
                    (*digest_algorithm, ModelPadding::Pss)
                }
                Some(SignatureProtocol::AcspV2 {
                    digest_algorithm,
                    padding,
                    rp_challenge,
                }) => {
                    transaction.acsp = Some(self.acsp_transaction(&spec, rp_challenge)?);
                    if !spec.code_drawn {
                        transaction.code_origin = Some(CodeOrigin::RpChallenge);
                    }
                    (*digest_algorithm, *padding)
                }
                None => {
                    return Err(ServiceError::internal(
                        "a signing session without a protocol",
                    ));
                }
            };
            transaction.hash_type = Some(app_hash_name(digest_algorithm).to_owned());
            transaction.padding = Some(padding_name(padding).to_owned());
        }
        Ok(transaction)
    }

    /// What the phone needs to rebuild an ACSP_V2 payload.
    fn acsp_transaction(
        &self,
        spec: &SessionSpec,
        rp_challenge: &str,
    ) -> ServiceResult<AcspTransaction> {
        let bound = spec.bound.clone().unwrap_or_default();
        Ok(AcspTransaction {
            scheme_name: self.config().scheme_name().to_owned(),
            server_random: spec
                .server_random
                .clone()
                .ok_or_else(|| ServiceError::internal("an ACSP_V2 session without serverRandom"))?,
            rp_challenge: rp_challenge.to_owned(),
            interactions: bound.interactions,
            initial_callback_url: callback_of(spec, spec.flow).map(str::to_owned),
            flow_type: flow_type(spec.flow.unwrap_or(Flow::Notification))
                .as_str()
                .to_owned(),
        })
    }

    /// The encoded message μ this key completes, and ACSP_V2's `userChallenge`: PKCS#1 v1.5
    /// the service encodes itself; a PSS encoding comes from the phone and must encode the
    /// digest of this session (the relying party's, or ACSP_V2's payload with the phone's
    /// challenge). A phone's malformed answer is refused before any PIN is judged.
    fn sign_request(
        &self,
        key: &KeyRecord,
        spec: &SessionSpec,
        confirmation: &Confirmation,
    ) -> ServiceResult<(SignRequest, Option<String>)> {
        let half = HalfSize::from_bits(key.half_bits).map_err(ServiceError::internal)?;
        let protocol = spec
            .protocol
            .as_ref()
            .ok_or_else(|| ServiceError::internal("a signing session without a protocol"))?;
        match protocol {
            SignatureProtocol::Pkcs1V15Digest {
                digest_algorithm,
                digest,
            } => Ok((
                encode(
                    half,
                    *digest_algorithm,
                    ModelPadding::Pkcs1V15,
                    digest,
                    confirmation,
                )?,
                None,
            )),
            SignatureProtocol::PssDigest {
                digest_algorithm,
                digest,
            } => Ok((
                encode(
                    half,
                    *digest_algorithm,
                    ModelPadding::Pss,
                    digest,
                    confirmation,
                )?,
                None,
            )),
            SignatureProtocol::AcspV2 {
                digest_algorithm,
                padding,
                rp_challenge,
            } => {
                let user_challenge = checked_user_challenge(confirmation)?;
                let acsp = self.acsp_transaction(spec, rp_challenge)?;
                let interaction = spec.interaction.as_ref().ok_or_else(|| {
                    ServiceError::internal("an ACSP_V2 session without interaction")
                })?;
                let payload = acsp
                    .payload(
                        &spec.relying_party_name,
                        interaction.kind.name(),
                        &user_challenge,
                    )
                    .ok_or_else(|| ServiceError::internal("an unknown flow type"))?;
                let digest = hash_algorithm(*digest_algorithm).digest(&payload);
                let request = encode(half, *digest_algorithm, *padding, &digest, confirmation)?;
                Ok((request, Some(user_challenge)))
            }
        }
    }

    /// A running session this account may still answer, or `None`.
    async fn answerable(
        &self,
        account: &AccountRecord,
        transaction_id: &str,
    ) -> ServiceResult<Option<SessionRecord>> {
        let Ok(id) = Uuid::parse_str(transaction_id) else {
            return Ok(None);
        };
        let Some(session) = self.store().session_pending_for(id, account.id).await? else {
            return Ok(None);
        };
        if is_past(session.deadline, self.now()) {
            self.finish(id, &Outcome::ended(EndResult::Timeout), None)
                .await?;
            return Ok(None);
        }
        Ok(Some(session))
    }

    /// The person confirmed a transaction on this device. `channel` turns the device's answer
    /// into the app channel's move; a signed answer commits that move in the same transaction
    /// as the session's result.
    pub async fn confirm_transaction(
        &self,
        account: &AccountRecord,
        serialised: Serialised,
        transaction_id: &str,
        confirmation: Confirmation,
        device_ip: Option<std::net::IpAddr>,
        channel: impl FnOnce(&TransactionOutcome) -> ServiceResult<ChannelAdvance>,
    ) -> ServiceResult<TransactionOutcome> {
        let Some(session) = self.answerable(account, transaction_id).await? else {
            return Ok(TransactionOutcome::Gone);
        };
        let spec = spec_of(&session)?;
        // Reported only where the relying party asked and may know it.
        let device_ip = device_ip
            .filter(|_| spec.share_device_ip)
            .map(|ip| ip.to_string());
        if session.kind == SessionKind::CertificateChoice {
            let outcome = Outcome {
                device_ip_address: device_ip,
                ..self.certificate_choice_result(account, &spec).await?
            };
            return self.finish_for_device(&session, &outcome, account).await;
        }
        if !spec.code_choices.is_empty() {
            let chosen = confirmation.chosen_code.as_deref().ok_or_else(|| {
                ServiceError::Invalid("chosenCode: required for verification-code choice".into())
            })?;
            if Some(chosen) != spec.verification_code.as_deref() {
                return self
                    .finish_for_device(&session, &Outcome::ended(EndResult::WrongVc), account)
                    .await;
            }
        }
        let sealed = confirmation.sealed_partial_signature.as_ref().ok_or_else(|| {
            ServiceError::Invalid(
                "sealedPartialSignature: required (partial signatures in clear are no longer accepted: update the app)".into(),
            )
        })?;
        let purpose = key_for(session.kind);
        let partial = self
            .open_sealed(
                "sealedPartialSignature",
                sealed,
                Binding::Confirmation {
                    account: &account.id.to_string(),
                    purpose: purpose.as_str(),
                    transaction: transaction_id,
                },
            )
            .await?;
        let partial = PartialSignature::from_bytes(&partial);
        // Read under the account's lock, which the ratchet holds (`serialised`).
        let key = self.key(account.id, purpose).await?;
        let (request, user_challenge) = self.sign_request(&key, &spec, &confirmation)?;
        match self
            .sign_with_pin(PinAttempt::new(account, serialised, key, &request, partial))
            .await?
        {
            PinOutcome::Signed {
                signature,
                key,
                right_pin,
            } => {
                let result = Outcome {
                    device_ip_address: device_ip,
                    ..signed_outcome(
                        account,
                        &key.certificate,
                        &spec,
                        signature.as_bytes(),
                        user_challenge,
                    )?
                };
                let outcome = TransactionOutcome::Completed {
                    end_result: EndResult::Ok.to_string(),
                };
                // The counter's reset and the app's channel move commit with the session's
                // result: one commit.
                let channel = channel(&outcome)?;
                let answer = Answer {
                    by: Some(account),
                    right_pin: Some(&right_pin),
                    channel: Some(&channel),
                };
                self.complete(&session, &result, answer).await?;
                Ok(outcome)
            }
            PinOutcome::WrongPin(state) | PinOutcome::Locked(state) => {
                if !matches!(state, PinState::Usable { .. }) {
                    // The key is now locked: this device cannot answer any more, but the
                    // person's other devices still can.
                    self.withdraw_device(session.id, account.id).await?;
                }
                Ok(TransactionOutcome::WrongPin {
                    pin: pin_status(state),
                })
            }
        }
    }

    /// The person pressed Cancel on `screen` (or refused without saying where).
    pub async fn refuse_transaction(
        &self,
        account: &AccountRecord,
        transaction_id: &str,
        refusal: Refusal,
    ) -> ServiceResult<TransactionOutcome> {
        let Some(session) = self.answerable(account, transaction_id).await? else {
            return Ok(TransactionOutcome::Gone);
        };
        let spec = spec_of(&session)?;
        let end_result = refusal_result(&session, &spec, refusal.screen.as_deref())?;
        self.finish_for_device(&session, &Outcome::ended(end_result), account)
            .await
    }

    async fn finish_for_device(
        &self,
        session: &SessionRecord,
        outcome: &Outcome,
        account: &AccountRecord,
    ) -> ServiceResult<TransactionOutcome> {
        if !self
            .complete(session, outcome, Answer::by(Some(account)))
            .await?
        {
            return Ok(TransactionOutcome::Gone);
        }
        Ok(TransactionOutcome::Completed {
            end_result: outcome.end_result.to_string(),
        })
    }
}

/// μ for `digest`: PKCS#1 v1.5 encoded here; PSS as the phone sent it, if it encodes `digest`.
fn encode(
    half: HalfSize,
    digest_algorithm: DigestAlgorithm,
    padding: ModelPadding,
    digest: &[u8],
    confirmation: &Confirmation,
) -> ServiceResult<SignRequest> {
    let hash = hash_algorithm(digest_algorithm);
    match padding {
        ModelPadding::Pkcs1V15 => {
            SignRequest::new(half, hash, Padding::Pkcs1v15, digest).map_err(ServiceError::internal)
        }
        ModelPadding::Pss => {
            let encoded = confirmation
                .encoded_message
                .as_deref()
                .ok_or_else(|| ServiceError::Invalid("encodedMessage: required with PSS".into()))?;
            let encoded = BASE64.decode(encoded).map_err(|_| {
                ServiceError::Invalid("encodedMessage: must be standard base64".into())
            })?;
            SignRequest::from_parts(half, hash, Padding::Pss, digest, &encoded).map_err(|_| {
                ServiceError::Invalid(
                    "encodedMessage: does not encode this transaction's digest with PSS".into(),
                )
            })
        }
    }
}

/// The phone's `userChallenge`: unpadded base64url of 32 bytes.
fn checked_user_challenge(confirmation: &Confirmation) -> ServiceResult<String> {
    let challenge = confirmation
        .user_challenge
        .as_deref()
        .ok_or_else(|| ServiceError::Invalid("userChallenge: required with ACSP_V2".into()))?;
    let well_formed = challenge.len() == USER_CHALLENGE_CHARS
        && challenge
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !well_formed {
        return Err(ServiceError::Invalid(format!(
            "userChallenge: must be {USER_CHALLENGE_CHARS} characters of base64url"
        )));
    }
    Ok(challenge.to_owned())
}

/// The end result of a refusal on a given screen; the screen must belong to this session.
fn refusal_result(
    session: &SessionRecord,
    spec: &SessionSpec,
    screen: Option<&str>,
) -> ServiceResult<EndResult> {
    let Some(screen) = screen else {
        return Ok(EndResult::UserRefused);
    };
    if screen == EXPECTED_LINKED_SESSION_SCREEN {
        return Ok(EndResult::ExpectedLinkedSession);
    }
    if screen == PROTOCOL_FAILURE_SCREEN {
        return Ok(EndResult::ProtocolFailure);
    }
    if session.kind == SessionKind::CertificateChoice {
        return if screen == CERTIFICATE_CHOICE_SCREEN {
            Ok(EndResult::UserRefusedCertChoice)
        } else {
            Err(ServiceError::Invalid(format!(
                "screen: a certificate choice has only the {CERTIFICATE_CHOICE_SCREEN} screen"
            )))
        };
    }
    // Every interaction ends on the text-and-PIN screen, so that one can always be refused.
    let interaction = spec.interaction.as_ref().map(|i| i.kind);
    let refused = InteractionKind::from_name(screen)
        .filter(|kind| *kind == InteractionKind::DisplayTextAndPin || Some(*kind) == interaction)
        .ok_or_else(|| {
            ServiceError::Invalid(format!(
                "screen: this transaction shows {}",
                interaction.map_or("no interaction", InteractionKind::name)
            ))
        })?;
    Ok(refused.refusal())
}
