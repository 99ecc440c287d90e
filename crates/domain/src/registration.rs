//! Registration of a device: identity proofing, the server's halves of the two keys, proof of
//! possession, the document number and the certificates.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::{Deserialize, Serialize};
use splitid_proto::app_v1::{
    CompositeKey, KeyHandover, MAC_KEY_LEN, RegisteredAccount, RegistrationChallenge,
    RegistrationProof, RegistrationRequest,
};
use splitkey::{
    CompositePublicKey, HalfSize, PartialSignature, ServerShare, ServerShareHandover,
    proof_of_possession_request, verify_proof_of_possession,
};
use time::Duration;
use uuid::Uuid;

use crate::Service;
use crate::accounts::{decode_field, rfc3339, seal_context, token_digest};
use crate::ca::CertificateOrder;
use crate::error::{ServiceError, ServiceResult};
use crate::model::InteractionKind;
use crate::store::{
    AccountRecord, AccountState, AuditEvent, AuditKind, ChannelState, KeyPurpose, KeyRecord,
};
use splitid_evidence::ProvenIdentity;
use splitid_sealing::Binding;

/// Accounts (and their certificates) are valid for three years.
pub const ACCOUNT_VALIDITY: Duration = Duration::days(3 * 365);
/// A started registration must be completed within this time.
const REGISTRATION_TTL: Duration = Duration::minutes(10);

/// A key between the two registration steps: sealed server shares, the composite modulus.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct PendingKey {
    half_bits: usize,
    device_modulus: String,
    server_exponent_sealed: String,
    server_key_sealed: String,
    composite_modulus: String,
    /// n2⁻¹ mod n1 (public), kept so that each signature skips computing it.
    #[serde(default)]
    crt_coefficient: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct PendingRegistration {
    account_id: Uuid,
    identity: ProvenIdentity,
    challenge: String,
    authentication: PendingKey,
    signing: PendingKey,
    interactions: Vec<String>,
}

/// The interactions an app declares it can run; all four when it says nothing.
fn supported_interactions(declared: Option<&[String]>) -> ServiceResult<Vec<String>> {
    let all = || {
        InteractionKind::ALL
            .iter()
            .map(|kind| kind.name().to_owned())
            .collect()
    };
    let Some(declared) = declared else {
        return Ok(all());
    };
    if declared.is_empty() {
        return Err(ServiceError::Invalid(
            "supportedInteractions: an app runs at least one interaction".into(),
        ));
    }
    for name in declared {
        if InteractionKind::from_name(name).is_none() {
            return Err(ServiceError::Invalid(format!(
                "supportedInteractions: unknown interaction {name:?}"
            )));
        }
    }
    Ok(declared.to_vec())
}

impl Service {
    /// Step 1: proves the identity, takes the device's key material and makes the server's
    /// halves. Answers with the challenge both keys must sign.
    pub async fn begin_registration(
        &self,
        request: RegistrationRequest,
    ) -> ServiceResult<RegistrationChallenge> {
        let (identity, proofing_challenge) = self.prove_identity(&request.proofing).await?;
        let interactions = supported_interactions(request.supported_interactions.as_deref())?;
        let account_id = Uuid::new_v4();
        let authentication = self
            .establish_key(
                account_id,
                KeyPurpose::Authentication,
                &request.authentication,
            )
            .await?;
        let signing = self
            .establish_key(account_id, KeyPurpose::Signing, &request.signing)
            .await?;
        let mut challenge = [0u8; 32];
        self.keys().random(&mut challenge)?;
        let pending = PendingRegistration {
            account_id,
            identity,
            challenge: BASE64.encode(challenge),
            authentication,
            signing,
            interactions,
        };
        let registration_id = Uuid::new_v4();
        let now = self.now();
        let json = serde_json::to_value(&pending).map_err(ServiceError::internal)?;
        match proofing_challenge {
            // The challenge is consumed with the registration's creation, in one transaction:
            // a replay (or a parallel second use) is refused and stores nothing.
            Some(challenge) => {
                if !self
                    .store()
                    .insert_registration_using_challenge(
                        registration_id,
                        &json,
                        challenge,
                        now,
                        now + REGISTRATION_TTL,
                    )
                    .await?
                {
                    return Err(ServiceError::Conflict(
                        "challengeId: this proofing challenge was already used (or expired); each proves one registration".into(),
                    ));
                }
            }
            None => {
                self.store()
                    .insert_registration(registration_id, &json, now, now + REGISTRATION_TTL)
                    .await?
            }
        }
        Ok(RegistrationChallenge {
            registration_id: registration_id.to_string(),
            challenge: pending.challenge,
            authentication: CompositeKey {
                modulus: pending.authentication.composite_modulus,
            },
            signing: CompositeKey {
                modulus: pending.signing.composite_modulus,
            },
        })
    }

    /// Step 2: checks both proofs of possession (made with the new PIN1 and PIN2), issues the
    /// certificates and creates the account.
    pub async fn complete_registration(
        &self,
        registration_id: &str,
        proof: RegistrationProof,
    ) -> ServiceResult<RegisteredAccount> {
        let id = Uuid::parse_str(registration_id)
            .map_err(|_| ServiceError::NotFound("no such registration".into()))?;
        let pending: PendingRegistration = self
            .store()
            .take_registration(id, self.now())
            .await?
            .map(serde_json::from_value)
            .transpose()
            .map_err(ServiceError::internal)?
            .ok_or_else(|| ServiceError::NotFound("no such registration (or it expired)".into()))?;
        let challenge = decode_field("challenge", &pending.challenge)?;
        let registration = id.to_string();
        let mac_key = self
            .open_sealed(
                "sealedMacKey",
                &proof.sealed_mac_key,
                Binding::MacKey {
                    registration: &registration,
                },
            )
            .await?;
        if mac_key.len() != MAC_KEY_LEN {
            return Err(ServiceError::Invalid(format!(
                "sealedMacKey: the MAC key must be {MAC_KEY_LEN} bytes, not {}",
                mac_key.len()
            )));
        }
        for (purpose, key, partial) in [
            (
                KeyPurpose::Authentication,
                &pending.authentication,
                &proof.authentication,
            ),
            (KeyPurpose::Signing, &pending.signing, &proof.signing),
        ] {
            let partial = self
                .open_sealed(
                    purpose_field(purpose),
                    partial,
                    Binding::Possession {
                        registration: &registration,
                        purpose: purpose.as_str(),
                    },
                )
                .await?;
            self.check_possession(pending.account_id, purpose, key, &challenge, &partial)
                .await?;
        }
        self.create_account(pending, &mac_key).await
    }

    async fn establish_key(
        &self,
        account: Uuid,
        purpose: KeyPurpose,
        handover: &KeyHandover,
    ) -> ServiceResult<PendingKey> {
        let field = |name: &str| format!("{}.{name}", purpose_field(purpose));
        let half = HalfSize::from_bits(handover.half_bits)
            .map_err(|e| ServiceError::Invalid(format!("{}: {e}", field("halfBits"))))?;
        if half == HalfSize::Bits2048 && !self.config().allow_2048_bit_halves {
            return Err(ServiceError::Invalid(format!(
                "{}: this server accepts only 3072-bit halves",
                field("halfBits")
            )));
        }
        let modulus = decode_field(&field("deviceModulus"), &handover.device_modulus)?;
        let exponent = self
            .open_sealed(
                &field("sealedServerExponent"),
                &handover.sealed_server_exponent,
                Binding::ServerExponent {
                    purpose: purpose.as_str(),
                    device_modulus: &modulus,
                },
            )
            .await?;
        // A replayed registration request would hand the server the same sealed share again
        // (and let a thief with the phone's storage try PINs at the proof of possession).
        let modulus_digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &modulus);
        if !self
            .store()
            .claim_device_modulus(modulus_digest.as_ref(), self.now())
            .await?
        {
            return Err(ServiceError::Conflict(format!(
                "{}: this device key was used for a registration before; make new keys",
                field("deviceModulus")
            )));
        }
        let handover = ServerShareHandover::from_parts(half, &modulus, &exponent)
            .map_err(|e| ServiceError::Invalid(format!("{}: {e}", purpose_field(purpose))))?;
        let share = tokio::task::spawn_blocking(move || ServerShare::establish(&handover))
            .await
            .map_err(ServiceError::internal)?
            .map_err(|e| match e {
                splitkey::Error::InconsistentKey(_) | splitkey::Error::Backend(_) => {
                    ServiceError::internal(e)
                }
                refused => ServiceError::Invalid(format!("{}: {refused}", purpose_field(purpose))),
            })?;
        let server_exponent = share.server_exponent().map_err(ServiceError::internal)?;
        let server_key = share.server_key_der().map_err(ServiceError::internal)?;
        Ok(PendingKey {
            half_bits: half.bits(),
            device_modulus: BASE64.encode(&modulus),
            server_exponent_sealed: BASE64.encode(
                self.keys()
                    .seal(&server_exponent, &seal_context(account, purpose, "d1s"))?,
            ),
            server_key_sealed: BASE64.encode(
                self.keys()
                    .seal(&server_key, &seal_context(account, purpose, "server-key"))?,
            ),
            composite_modulus: BASE64.encode(share.public_key().modulus()),
            crt_coefficient: Some(
                BASE64.encode(share.crt_coefficient().map_err(ServiceError::internal)?),
            ),
        })
    }

    async fn check_possession(
        &self,
        account: Uuid,
        purpose: KeyPurpose,
        key: &PendingKey,
        challenge: &[u8],
        partial: &[u8],
    ) -> ServiceResult<()> {
        let record = pending_key_record(purpose, key, Vec::new())?;
        let share = self.server_share(account, &record)?;
        let public_key = share.public_key();
        let request =
            proof_of_possession_request(&public_key, challenge).map_err(ServiceError::internal)?;
        let partial = PartialSignature::from_bytes(partial);
        let signature = tokio::task::spawn_blocking(move || share.complete(&request, &partial))
            .await
            .map_err(ServiceError::internal)?
            .map_err(|e| match e {
                splitkey::Error::WrongPin => ServiceError::Invalid(format!(
                    "{}: the proof of possession does not verify (the PIN does not open this key); register again",
                    purpose_field(purpose)
                )),
                other => ServiceError::Invalid(format!("{}: {other}", purpose_field(purpose))),
            })?;
        verify_proof_of_possession(&public_key, challenge, &signature)
            .map_err(ServiceError::internal)
    }

    async fn create_account(
        &self,
        pending: PendingRegistration,
        mac_key: &[u8],
    ) -> ServiceResult<RegisteredAccount> {
        let now = self.now();
        let expires_at = now + ACCOUNT_VALIDITY;
        let document_number = self
            .new_document_number(&pending.identity.semantics_id, &pending.identity.level)
            .await?;
        let mut keys = Vec::new();
        for (purpose, key) in [
            (KeyPurpose::Authentication, &pending.authentication),
            (KeyPurpose::Signing, &pending.signing),
        ] {
            let modulus = decode_field("compositeModulus", &key.composite_modulus)?;
            CompositePublicKey::from_modulus(&modulus).map_err(ServiceError::internal)?;
            let certificate = self.ca().issue(&CertificateOrder {
                identity: &pending.identity,
                document_number: &document_number,
                purpose,
                rsa_modulus: &modulus,
                not_before: now,
            })?;
            let serial = crate::ca::certificate_serial(&certificate)?;
            keys.push(KeyRecord {
                serial: Some(serial),
                ..pending_key_record(purpose, key, certificate)?
            });
        }
        let mut token = [0u8; 32];
        self.keys().random(&mut token)?;
        let identity = &pending.identity;
        let account = AccountRecord {
            id: pending.account_id,
            document_number: document_number.clone(),
            semantics_id: identity.semantics_id.clone(),
            given_name: identity.given_name.clone(),
            surname: identity.surname.clone(),
            country: identity.country.clone(),
            level: identity.level.clone(),
            proofing_method: identity.method.clone(),
            state: AccountState::Active,
            closed_reason: None,
            created_at: now,
            expires_at,
            last_used_at: None,
            mac_key_sealed: self
                .keys()
                .seal(mac_key, &format!("splitid/{}/mac-key", pending.account_id))?,
            channel: ChannelState {
                ratchet_token: token_digest(&token),
                ..ChannelState::default()
            },
            interactions: pending.interactions.clone(),
            proofing_evidence: identity.evidence.clone(),
        };
        let audit = AuditEvent::new(
            AuditKind::Registration,
            format!("person:{}", identity.semantics_id),
            now,
        )
        .account(&account)
        .details(serde_json::json!({ "method": identity.method, "level": identity.level }));
        self.store().insert_account(&account, &keys, &audit).await?;
        metrics::counter!("splitid_registrations_total", "method" => identity.method.clone())
            .increment(1);
        tracing::info!(account = %account.id, document = %document_number, method = %identity.method, "account registered");
        Ok(RegisteredAccount {
            account_id: account.id.to_string(),
            document_number,
            ratchet_token: BASE64.encode(token),
            authentication_certificate: BASE64.encode(&keys[0].certificate),
            signing_certificate: BASE64.encode(&keys[1].certificate),
            expires_at: rfc3339(expires_at),
        })
    }

    /// `<semantics id>-<4 random upper-case letters or digits>-<Q|NQ>`, unique; the suffix is
    /// Smart-ID's: `Q` for QUALIFIED accounts, `NQ` for ADVANCED (non-qualified) ones.
    async fn new_document_number(&self, semantics_id: &str, level: &str) -> ServiceResult<String> {
        let suffix = if level == "QUALIFIED" { "Q" } else { "NQ" };
        const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
        for _ in 0..32 {
            let mut random = [0u8; 4];
            self.keys().random(&mut random)?;
            let code: String = random
                .iter()
                .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
                .collect();
            let candidate = format!("{semantics_id}-{code}-{suffix}");
            if !self.store().document_number_exists(&candidate).await? {
                return Ok(candidate);
            }
        }
        Err(ServiceError::internal(
            "no free document number after 32 tries",
        ))
    }
}

fn pending_key_record(
    purpose: KeyPurpose,
    key: &PendingKey,
    certificate: Vec<u8>,
) -> ServiceResult<KeyRecord> {
    Ok(KeyRecord {
        purpose,
        half_bits: key.half_bits,
        device_modulus: decode_field("deviceModulus", &key.device_modulus)?,
        server_exponent_sealed: decode_field("sealed", &key.server_exponent_sealed)?,
        server_key_sealed: decode_field("sealed", &key.server_key_sealed)?,
        crt_coefficient: key
            .crt_coefficient
            .as_deref()
            .map(|c| decode_field("crtCoefficient", c))
            .transpose()?,
        serial: None,
        certificate,
        pin: Default::default(),
    })
}

fn purpose_field(purpose: KeyPurpose) -> &'static str {
    match purpose {
        KeyPurpose::Authentication => "authentication",
        KeyPurpose::Signing => "signing",
    }
}
