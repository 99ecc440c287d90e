//! Operators' tools: relying parties, accounts, billing figures and the audit log.
//!
//! `splitid admin` calls these on the data directory, beside a running server (SQLite's
//! write-ahead log lets both write). Every change an operator makes is in the audit log under
//! the operator's name. There is deliberately no way to unlock a PIN: the policy has none.

use crate::store::Level;
use serde::Serialize;
use serde_json::json;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::Service;
use crate::accounts::pin_policy::PinState;
use crate::closing::Closure;
use crate::error::{ServiceError, ServiceResult};
use crate::store::{
    AccountRecord, AccountState, AuditEntry, AuditEvent, AuditKind, AuditQuery, KeyPurpose,
    RelyingPartyRecord,
};

/// Longest relying-party name (Smart-ID shows it on the phone; keep it short).
const LONGEST_RP_NAME: usize = 100;

/// What an operator changes about a relying party; `None` keeps the current value.
#[derive(Debug, Clone, Default)]
pub struct RelyingPartyChange {
    pub names: Option<Vec<String>>,
    pub allowed_levels: Option<Vec<Level>>,
    pub ip_ranges: Option<Vec<String>>,
    pub enabled: Option<bool>,
    pub share_device_ip: Option<bool>,
}

/// An account as support sees it: no key material, the PIN states of both keys.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountSummary {
    pub document_number: String,
    pub semantics_identifier: String,
    pub given_name: String,
    pub surname: String,
    pub level: String,
    pub proofing_method: String,
    /// `active`, `expired` or `closed`.
    pub state: String,
    pub closed_reason: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_used_at: Option<OffsetDateTime>,
    pub pin1: PinState,
    pub pin2: PinState,
}

/// Whom support looks for.
#[derive(Debug, Clone)]
pub enum AccountLookup {
    /// A person's semantics identifier, e.g. `PNOEE-30303039914`.
    Person(String),
    /// One account's document number.
    Document(String),
}

fn check_relying_party(rp: &RelyingPartyRecord) -> ServiceResult<()> {
    if rp.names.is_empty() {
        return Err(ServiceError::Invalid(
            "a relying party needs at least one name".into(),
        ));
    }
    for name in &rp.names {
        let length = name.chars().count();
        if name.trim().is_empty() || length > LONGEST_RP_NAME {
            return Err(ServiceError::Invalid(format!(
                "relying-party name {name:?}: 1 to {LONGEST_RP_NAME} characters"
            )));
        }
    }
    if rp.allowed_levels.is_empty() {
        return Err(ServiceError::Invalid(
            "a relying party needs at least one allowed level".into(),
        ));
    }
    for range in &rp.ip_ranges {
        range.parse::<ipnet::IpNet>().map_err(|_| {
            ServiceError::Invalid(format!("{range:?} is not a CIDR range (e.g. 192.0.2.0/24)"))
        })?;
    }
    Ok(())
}

fn operator_actor(operator: &str) -> String {
    format!("operator:{operator}")
}

impl Service {
    /// Adds a relying party with a new UUID.
    pub async fn add_relying_party(
        &self,
        operator: &str,
        names: Vec<String>,
        allowed_levels: Vec<Level>,
        ip_ranges: Vec<String>,
        share_device_ip: bool,
    ) -> ServiceResult<RelyingPartyRecord> {
        let rp = RelyingPartyRecord {
            uuid: Uuid::new_v4(),
            names,
            allowed_levels,
            ip_ranges,
            enabled: true,
            share_device_ip,
        };
        check_relying_party(&rp)?;
        self.store().put_relying_party(&rp, self.now()).await?;
        self.log_relying_party(operator, AuditKind::RelyingPartyAdded, &rp)
            .await?;
        Ok(rp)
    }

    /// Changes a relying party's names, levels, address ranges or whether it is enabled.
    pub async fn change_relying_party(
        &self,
        operator: &str,
        uuid: Uuid,
        change: RelyingPartyChange,
    ) -> ServiceResult<RelyingPartyRecord> {
        let mut rp = self
            .store()
            .relying_party(uuid)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("no relying party {uuid}")))?;
        if let Some(names) = change.names {
            rp.names = names;
        }
        if let Some(levels) = change.allowed_levels {
            rp.allowed_levels = levels;
        }
        if let Some(ranges) = change.ip_ranges {
            rp.ip_ranges = ranges;
        }
        if let Some(enabled) = change.enabled {
            rp.enabled = enabled;
        }
        if let Some(share) = change.share_device_ip {
            rp.share_device_ip = share;
        }
        check_relying_party(&rp)?;
        self.store().put_relying_party(&rp, self.now()).await?;
        self.log_relying_party(operator, AuditKind::RelyingPartyChanged, &rp)
            .await?;
        Ok(rp)
    }

    async fn log_relying_party(
        &self,
        operator: &str,
        kind: AuditKind,
        rp: &RelyingPartyRecord,
    ) -> ServiceResult<()> {
        let event = AuditEvent::new(kind, operator_actor(operator), self.now())
            .relying_party(rp.uuid)
            .details(json!({
                "names": rp.names,
                "allowedLevels": rp.allowed_levels,
                "ipRanges": rp.ip_ranges,
                "enabled": rp.enabled,
                "shareDeviceIp": rp.share_device_ip,
            }));
        Ok(self.store().append_audit(&event).await?)
    }

    /// Accounts of a person, or the one account with a document number.
    pub async fn find_accounts(
        &self,
        lookup: &AccountLookup,
    ) -> ServiceResult<Vec<AccountSummary>> {
        let accounts = match lookup {
            AccountLookup::Person(id) => self.store().accounts_of_person(id).await?,
            AccountLookup::Document(number) => self
                .store()
                .account_by_document(number)
                .await?
                .into_iter()
                .collect(),
        };
        let mut summaries = Vec::with_capacity(accounts.len());
        for account in &accounts {
            summaries.push(self.account_summary(account).await?);
        }
        Ok(summaries)
    }

    /// One account and everything the audit log says about it.
    pub async fn account_history(
        &self,
        document_number: &str,
    ) -> ServiceResult<(AccountSummary, Vec<AuditEntry>)> {
        let account = self.account_by_document(document_number).await?;
        let history = self
            .store()
            .audit_events(&AuditQuery {
                document_number: Some(account.document_number.clone()),
                ..AuditQuery::default()
            })
            .await?;
        Ok((self.account_summary(&account).await?, history))
    }

    /// Support closes an account whose device was lost or stolen: its certificates are
    /// revoked at once (keyCompromise).
    pub async fn close_lost_device(
        &self,
        operator: &str,
        document_number: &str,
    ) -> ServiceResult<AccountSummary> {
        let account = self.account_by_document(document_number).await?;
        if account.state == AccountState::Closed {
            return Err(ServiceError::Conflict(format!(
                "account {document_number} is already closed ({})",
                account
                    .closed_reason
                    .as_deref()
                    .unwrap_or("no reason recorded")
            )));
        }
        self.close_account(account.id, Closure::LostDevice, Some(operator))
            .await?;
        let closed = self.account_by_document(document_number).await?;
        self.account_summary(&closed).await
    }

    async fn account_by_document(&self, document_number: &str) -> ServiceResult<AccountRecord> {
        self.store()
            .account_by_document(document_number)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("no account {document_number}")))
    }

    async fn account_summary(&self, account: &AccountRecord) -> ServiceResult<AccountSummary> {
        let now = self.now();
        let pin1 = self.pin_state(&self.key(account.id, KeyPurpose::Authentication).await?);
        let pin2 = self.pin_state(&self.key(account.id, KeyPurpose::Signing).await?);
        let state = match account.state {
            AccountState::Closed => "closed",
            AccountState::Active if account.is_usable(now) => "active",
            AccountState::Active => "expired",
        };
        Ok(AccountSummary {
            document_number: account.document_number.clone(),
            semantics_identifier: account.semantics_id.clone(),
            given_name: account.given_name.clone(),
            surname: account.surname.clone(),
            level: account.level.clone(),
            proofing_method: account.proofing_method.clone(),
            state: state.into(),
            closed_reason: account.closed_reason.clone(),
            created_at: account.created_at,
            expires_at: account.expires_at,
            last_used_at: account.last_used_at,
            pin1,
            pin2,
        })
    }
}
