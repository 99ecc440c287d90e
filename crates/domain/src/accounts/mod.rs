//! Accounts: the one place where a PIN is judged, under the PIN policy, and the keys it
//! guards (the registration module opens accounts, the closing module closes them).

pub mod pin_policy;

use aws_lc_rs::digest;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use splitkey::{HalfSize, PartialSignature, ServerShare, SignRequest, Signature};
use time::OffsetDateTime;
use uuid::Uuid;
use zeroize::Zeroizing;

use crate::Service;
use crate::error::{ServiceError, ServiceResult};
use crate::store::{
    AccountRecord, AuditEvent, AuditKind, KeyPurpose, KeyRecord, RightPin, Serialised,
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

/// One PIN attempt: the device's partial signature over `request` with `key` of `account`,
/// made under the account's lock (`serialised`), with `key` read under it.
pub struct PinAttempt<'a> {
    pub account: &'a AccountRecord,
    pub serialised: Serialised,
    pub key: KeyRecord,
    pub request: &'a SignRequest,
    pub partial: PartialSignature,
}

impl<'a> PinAttempt<'a> {
    pub fn new(
        account: &'a AccountRecord,
        serialised: Serialised,
        key: KeyRecord,
        request: &'a SignRequest,
        partial: PartialSignature,
    ) -> Self {
        PinAttempt {
            account,
            serialised,
            key,
            request,
            partial,
        }
    }
}

impl Service {
    /// The state of a key's PIN now.
    pub fn pin_state(&self, key: &KeyRecord) -> PinState {
        key.pin.state(self.now())
    }

    /// Completes a signature with the device's partial signature, counting the attempt under
    /// the PIN policy: counted (durably) before the check, reset if right (by the caller,
    /// see [`PinOutcome::Signed`]). Closing the account at a permanent lock is the caller's:
    /// `Service::sign_with_pin`, in the closing module, does both. Attempts on one
    /// account are judged one at a time, on whichever node they arrive: the caller holds the
    /// account's lock (`serialised`) and read `key` under it, so no parallel request can race
    /// past the counter. (A key of another account would not even unseal: its sealing
    /// context names its account.)
    pub(crate) async fn complete_with_pin(
        &self,
        attempt: PinAttempt<'_>,
    ) -> ServiceResult<PinOutcome> {
        let PinAttempt {
            account,
            serialised,
            key,
            request,
            partial,
        } = attempt;
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
        crate::faults::crash_point(|| format!("after-pin-count-{}", counted.wrong_in_a_row));

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
