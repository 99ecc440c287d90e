//! Closing an account for good: both certificates revoked, the closure logged, and the
//! sessions it was asked withdrawn from it (ending those no other device can answer). It is
//! where accounts and sessions meet, above both: a session's answer can close an account (the
//! ninth wrong PIN), and a closed account ends sessions.

use serde_json::json;
use uuid::Uuid;

use crate::Service;
use crate::accounts::pin_policy::{PERMANENT_LOCK_AFTER, PinState};
use crate::accounts::{PinAttempt, PinOutcome};
use crate::error::{ServiceError, ServiceResult};
use crate::store::{AccountRecord, AccountState, AuditEvent, AuditKind, KeyPurpose, Revocation};

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

impl Service {
    /// A PIN attempt ([`complete_with_pin`](Service::complete_with_pin)), closing the
    /// account when it locks the PIN for good.
    pub async fn sign_with_pin(&self, attempt: PinAttempt<'_>) -> ServiceResult<PinOutcome> {
        let account = attempt.account.id;
        let outcome = self.complete_with_pin(attempt).await?;
        if let PinOutcome::WrongPin(PinState::PermanentlyLocked) = outcome {
            self.close_account(account, Closure::PinPermanentlyLocked, None)
                .await?;
        }
        Ok(outcome)
    }

    /// Finishes closures a crash interrupted: an account still active although a key of it
    /// is locked for good (the ninth wrong PIN was counted, the closure never ran). Run at
    /// start; [`close_if_locked_for_good`](Self::close_if_locked_for_good) does the same for
    /// one account on its next request, whichever node gets it.
    pub(crate) async fn finish_interrupted_closures(&self) -> ServiceResult<()> {
        for account in self
            .store()
            .active_accounts_locked_for_good(PERMANENT_LOCK_AFTER)
            .await?
        {
            tracing::warn!(%account, "finishing the closure of an account whose PIN locked for good before a crash");
            self.close_account(account, Closure::PinPermanentlyLocked, None)
                .await?;
        }
        Ok(())
    }

    /// The account as it must be: closed, if it is active but a key is locked for good.
    pub(crate) async fn close_if_locked_for_good(
        &self,
        account: AccountRecord,
    ) -> ServiceResult<AccountRecord> {
        if account.state != AccountState::Active
            || !self
                .store()
                .account_locked_for_good(account.id, PERMANENT_LOCK_AFTER)
                .await?
        {
            return Ok(account);
        }
        self.close_account(account.id, Closure::PinPermanentlyLocked, None)
            .await?;
        self.store()
            .account(account.id)
            .await?
            .ok_or_else(|| ServiceError::internal("account vanished"))
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
}
