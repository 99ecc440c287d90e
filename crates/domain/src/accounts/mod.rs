//! Accounts: registration with identity proofing and proof of possession, and the one place
//! where a PIN is judged, under the PIN policy.

pub mod pin_policy;
mod registration;

use aws_lc_rs::digest;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use splitkey::{HalfSize, PartialSignature, ServerShare, SignRequest, Signature};
use time::OffsetDateTime;
use uuid::Uuid;
use zeroize::Zeroizing;

pub use registration::ACCOUNT_VALIDITY;

use crate::Service;
use crate::error::{ServiceError, ServiceResult};
use crate::store::{
    AccountRecord, AuditEvent, AuditKind, KeyPurpose, KeyRecord, Revocation, RightPin, Serialised,
};
use pin_policy::{PinPolicy, PinState};
use serde_json::json;

/// The sealing context of a key share: binds the sealed blob to its account, key and role.
pub(crate) fn seal_context(account: Uuid, purpose: KeyPurpose, what: &str) -> String {
    format!("splitid/{account}/{}/{what}", purpose.as_str())
}

/// The digest under which a ratchet token is stored (the token itself never is).
pub fn token_digest(token: &[u8]) -> Vec<u8> {
    digest::digest(&digest::SHA256, token).as_ref().to_vec()
}

/// Why an account is closed for good.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Closure {
    /// The person deleted it (from the app, the portal, or through support).
    Deleted,
    /// The ninth wrong PIN in a row.
    PinPermanentlyLocked,
    /// A copy of the app was used: the keys' device shares are in two places.
    CloneDetected,
    /// Support closed it at the person's request: the device was lost or stolen.
    LostDevice,
}

impl Closure {
    /// What the person and the operator are told.
    pub fn text(self) -> &'static str {
        match self {
            Closure::Deleted => "deleted by the person",
            Closure::PinPermanentlyLocked => "PIN permanently locked",
            Closure::CloneDetected => "clone detected",
            Closure::LostDevice => "closed by support: device lost or stolen",
        }
    }

    /// The RFC 5280 reason the certificates are revoked with.
    fn revocation_reason(self) -> &'static str {
        match self {
            Closure::Deleted => "cessationOfOperation",
            Closure::PinPermanentlyLocked => "privilegeWithdrawn",
            Closure::CloneDetected | Closure::LostDevice => "keyCompromise",
        }
    }

    /// Who closes the account, for the audit log (support names its operator separately).
    fn actor(self, account: &AccountRecord, operator: Option<&str>) -> String {
        match (self, operator) {
            (_, Some(operator)) => format!("operator:{operator}"),
            (Closure::Deleted, None) => format!("person:{}", account.semantics_id),
            _ => "system".into(),
        }
    }
}

/// What happened to a PIN attempt.
#[derive(Debug)]
pub enum PinOutcome {
    /// The PIN was right: the finished signature, the key that made it (callers need its
    /// certificate), and the counter's reset, which the caller writes (with what the
    /// signature completes, when it completes something).
    Signed {
        signature: Signature,
        key: Box<KeyRecord>,
        right_pin: RightPin,
    },
    /// The PIN was wrong; the key's state after counting it.
    WrongPin(PinState),
    /// The key was locked before the attempt: nothing was counted.
    Locked(PinState),
}

impl Service {
    /// The state of a key's PIN now.
    pub fn pin_state(&self, key: &KeyRecord) -> PinState {
        key.pin.state(self.now())
    }

    /// Completes a signature with the device's partial signature, counting the attempt under
    /// the PIN policy: counted (durably) before the check, reset if right (by the caller,
    /// see [`PinOutcome::Signed`]); a permanent lock closes the account. Attempts on one
    /// account are judged one at a time, on whichever node they arrive: the caller holds the
    /// account's lock (`serialised`) and read `key` under it, so no parallel request can race
    /// past the counter. (A key of another account would not even unseal: its sealing
    /// context names its account.)
    pub async fn sign_with_pin(
        &self,
        account: &AccountRecord,
        serialised: Serialised,
        key: KeyRecord,
        request: &SignRequest,
        partial: PartialSignature,
    ) -> ServiceResult<PinOutcome> {
        if !serialised.covers(account.id) {
            return Err(ServiceError::internal(
                "a PIN attempt outside its account's lock",
            ));
        }
        let purpose = key.purpose;
        let now = self.now();
        let state = key.pin.state(now);
        if !matches!(state, PinState::Usable { .. }) {
            return Ok(PinOutcome::Locked(state));
        }
        let counted = key.pin.begin_attempt(now);
        self.store()
            .set_pin_counter(account.id, purpose, counted)
            .await?;

        // Unsealing the share (parsing and checking the server's RSA key, Montgomery set-up)
        // costs milliseconds too: off the async workers, with the completion.
        let (service, account_id, request) = (self.clone(), account.id, request.clone());
        let sealed = key.clone();
        let result = tokio::task::spawn_blocking(move || {
            let share = service.server_share(account_id, &sealed)?;
            ServiceResult::Ok(share.complete(&request, &partial))
        })
        .await
        .map_err(ServiceError::internal)??;
        match result {
            Ok(signature) => Ok(PinOutcome::Signed {
                signature,
                key: Box::new(key),
                right_pin: RightPin {
                    account: account.id,
                    purpose,
                    counter: counted.right_pin(),
                    at: now,
                },
            }),
            Err(splitkey::Error::WrongPin) => {
                let state = counted.state(now);
                tracing::info!(account = %account.id, purpose = purpose.as_str(), ?state, "wrong PIN");
                self.log_wrong_pin(account, purpose, counted.wrong_in_a_row, &state)
                    .await?;
                if state == PinState::PermanentlyLocked {
                    self.close_account(account.id, Closure::PinPermanentlyLocked, None)
                        .await?;
                }
                Ok(PinOutcome::WrongPin(state))
            }
            Err(splitkey::Error::InvalidInput(problem)) => {
                // Malformed input is not a PIN guess: give the attempt back.
                self.store()
                    .set_pin_counter(account.id, purpose, key.pin)
                    .await?;
                Err(ServiceError::Invalid(format!(
                    "partialSignature: {problem}"
                )))
            }
            Err(other) => Err(ServiceError::internal(other)),
        }
    }

    /// Logs a wrong PIN, and the lock it caused if it caused one.
    async fn log_wrong_pin(
        &self,
        account: &AccountRecord,
        purpose: KeyPurpose,
        wrong_in_a_row: u32,
        state: &PinState,
    ) -> ServiceResult<()> {
        let now = self.now();
        metrics::counter!("splitid_pin_failures_total", "purpose" => purpose.as_str()).increment(1);
        let details =
            json!({ "purpose": purpose.as_str(), "wrongInARow": wrong_in_a_row, "state": state });
        self.store()
            .append_audit(
                &AuditEvent::new(AuditKind::WrongPin, "device", now)
                    .account(account)
                    .details(details.clone()),
            )
            .await?;
        if !matches!(state, PinState::Usable { .. }) {
            let lock = if *state == PinState::PermanentlyLocked {
                "permanent"
            } else {
                "temporary"
            };
            metrics::counter!("splitid_pin_locks_total", "purpose" => purpose.as_str(), "lock" => lock)
                .increment(1);
            self.store()
                .append_audit(
                    &AuditEvent::new(AuditKind::PinLocked, "system", now)
                        .account(account)
                        .details(details),
                )
                .await?;
        }
        Ok(())
    }

    pub async fn key(&self, account: Uuid, purpose: KeyPurpose) -> ServiceResult<KeyRecord> {
        self.store().key(account, purpose).await?.ok_or_else(|| {
            ServiceError::internal(format!("account {account} has no {} key", purpose.as_str()))
        })
    }

    /// Unseals a key's server share for one operation.
    pub(crate) fn server_share(
        &self,
        account: Uuid,
        key: &KeyRecord,
    ) -> ServiceResult<ServerShare> {
        let half = HalfSize::from_bits(key.half_bits).map_err(ServiceError::internal)?;
        let exponent: Zeroizing<Vec<u8>> = self.keys().open(
            &key.server_exponent_sealed,
            &seal_context(account, key.purpose, "d1s"),
        )?;
        let server_key = self.keys().open(
            &key.server_key_sealed,
            &seal_context(account, key.purpose, "server-key"),
        )?;
        match &key.crt_coefficient {
            Some(coefficient) => ServerShare::from_stored_with_coefficient(
                half,
                &key.device_modulus,
                &exponent,
                &server_key,
                coefficient,
            ),
            None => ServerShare::from_stored(half, &key.device_modulus, &exponent, &server_key),
        }
        .map_err(ServiceError::internal)
    }

    /// Closes an account for good (deleted, permanently locked, cloned, lost) and revokes both
    /// its certificates with the matching reason, logging it all; its running sessions are
    /// withdrawn from it, and those no other device can answer end with DOCUMENT_UNUSABLE.
    /// `operator` names the support person who closed it, if one did.
    pub async fn close_account(
        &self,
        account_id: Uuid,
        closure: Closure,
        operator: Option<&str>,
    ) -> ServiceResult<()> {
        let account = self
            .store()
            .account(account_id)
            .await?
            .ok_or_else(|| ServiceError::internal(format!("no account {account_id}")))?;
        let now = self.now();
        let actor = closure.actor(&account, operator);
        let mut revocations = Vec::new();
        let mut audit = vec![
            AuditEvent::new(AuditKind::AccountClosed, &actor, now)
                .account(&account)
                .details(json!({ "reason": closure.text() })),
        ];
        for purpose in [KeyPurpose::Authentication, KeyPurpose::Signing] {
            let key = self.key(account_id, purpose).await?;
            let revocation = Revocation {
                serial: crate::ca::certificate_serial(&key.certificate)?,
                purpose,
                reason: closure.revocation_reason(),
                revoked_at: now,
            };
            audit.push(
                AuditEvent::new(AuditKind::CertificateRevoked, &actor, now)
                    .account(&account)
                    .details(json!({
                        "serial": revocation.serial,
                        "purpose": purpose.as_str(),
                        "reason": revocation.reason,
                    })),
            );
            revocations.push(revocation);
        }
        if !self
            .store()
            .close_account(account_id, closure.text(), &revocations, &audit)
            .await?
        {
            return Ok(());
        }
        tracing::info!(account = %account_id, reason = closure.text(), "account closed, certificates revoked");
        for session in self.store().pending_sessions_for(account_id).await? {
            self.withdraw_device(session.id, account_id).await?;
        }
        Ok(())
    }

    /// Usable accounts of a person (active, not expired), oldest first.
    pub async fn usable_accounts_of(
        &self,
        semantics_id: &str,
    ) -> ServiceResult<(Vec<AccountRecord>, bool)> {
        let all = self.store().accounts_of_person(semantics_id).await?;
        let any = !all.is_empty();
        let now = self.now();
        Ok((all.into_iter().filter(|a| a.is_usable(now)).collect(), any))
    }
}

/// Decodes a base64 field of an app request, naming the field when it is not base64.
pub(crate) fn decode_field(field: &str, value: &str) -> ServiceResult<Vec<u8>> {
    BASE64
        .decode(value)
        .map_err(|_| ServiceError::Invalid(format!("{field}: must be standard base64")))
}

/// The current time in RFC 3339 (for the app's countdowns).
pub fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .expect("UTC times format as RFC 3339")
}
