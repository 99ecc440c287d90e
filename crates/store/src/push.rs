//! Web Push: the service's VAPID key and each account's push subscription.

use sqlx::Row;
use sqlx::any::AnyRow;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{Store, StoreError, format_time, parse_time};

/// The VAPID key; its PKCS#8 is sealed under the key-encryption key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VapidKeyRecord {
    pub public_key: String,
    pub secret_sealed: Vec<u8>,
    pub created_at: OffsetDateTime,
}

/// Where to tell an account's device that a transaction waits.
#[derive(Clone, PartialEq, Eq)]
pub struct PushSubscriptionRecord {
    pub account: Uuid,
    pub endpoint: String,
    pub p256dh: String,
    pub auth: String,
    pub updated_at: OffsetDateTime,
}

/// The endpoint is a capability: it stays out of logs.
impl std::fmt::Debug for PushSubscriptionRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PushSubscriptionRecord")
            .field("account", &self.account)
            .finish_non_exhaustive()
    }
}

fn subscription_from_row(row: &AnyRow) -> Result<PushSubscriptionRecord, StoreError> {
    let account: String = row.try_get("account_id")?;
    Ok(PushSubscriptionRecord {
        account: Uuid::parse_str(&account).map_err(crate::damaged)?,
        endpoint: row.try_get("endpoint")?,
        p256dh: row.try_get("p256dh")?,
        auth: row.try_get("auth")?,
        updated_at: parse_time(row.try_get("updated_at")?)?,
    })
}

impl Store {
    /// The VAPID key, if one was made.
    pub async fn vapid_key(&self) -> Result<Option<VapidKeyRecord>, StoreError> {
        let row = sqlx::query("SELECT * FROM vapid_keys WHERE id = 1")
            .fetch_optional(&self.readers)
            .await?;
        row.map(|row| {
            Ok(VapidKeyRecord {
                public_key: row.try_get("public_key")?,
                secret_sealed: row.try_get("secret_sealed")?,
                created_at: parse_time(row.try_get("created_at")?)?,
            })
        })
        .transpose()
    }

    /// Stores the VAPID key unless another node stored one first (then that one stays).
    pub async fn add_vapid_key(&self, key: &VapidKeyRecord) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO vapid_keys (id, public_key, secret_sealed, created_at) VALUES (1, $1, $2, $3)
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(&key.public_key)
        .bind(&key.secret_sealed)
        .bind(format_time(key.created_at))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Sets (or replaces) an account's push subscription, if the account is active (in the
    /// same statement, so that a closure committing meanwhile leaves none). False if not.
    pub async fn put_push_subscription(
        &self,
        subscription: &PushSubscriptionRecord,
    ) -> Result<bool, StoreError> {
        let written = sqlx::query(
            "INSERT INTO push_subscriptions (account_id, endpoint, p256dh, auth, updated_at)
             SELECT $1, $2, $3, $4, $5 WHERE EXISTS (SELECT 1 FROM accounts WHERE id = $1 AND state = 'active')
             ON CONFLICT (account_id) DO UPDATE SET endpoint = excluded.endpoint, p256dh = excluded.p256dh,
             auth = excluded.auth, updated_at = excluded.updated_at",
        )
        .bind(subscription.account.to_string())
        .bind(&subscription.endpoint)
        .bind(&subscription.p256dh)
        .bind(&subscription.auth)
        .bind(format_time(subscription.updated_at))
        .execute(&self.pool)
        .await?;
        Ok(written.rows_affected() > 0)
    }

    pub async fn push_subscription(
        &self,
        account: Uuid,
    ) -> Result<Option<PushSubscriptionRecord>, StoreError> {
        let row = sqlx::query("SELECT * FROM push_subscriptions WHERE account_id = $1")
            .bind(account.to_string())
            .fetch_optional(&self.readers)
            .await?;
        row.as_ref().map(subscription_from_row).transpose()
    }

    /// Forgets an account's subscription; with `endpoint`, only if it is still that one (a
    /// push service's "gone" must not remove the new subscription the device sent meanwhile).
    pub async fn delete_push_subscription(
        &self,
        account: Uuid,
        endpoint: Option<&str>,
    ) -> Result<bool, StoreError> {
        let deleted = match endpoint {
            Some(endpoint) => {
                sqlx::query(
                    "DELETE FROM push_subscriptions WHERE account_id = $1 AND endpoint = $2",
                )
                .bind(account.to_string())
                .bind(endpoint)
                .execute(&self.pool)
                .await?
            }
            None => {
                sqlx::query("DELETE FROM push_subscriptions WHERE account_id = $1")
                    .bind(account.to_string())
                    .execute(&self.pool)
                    .await?
            }
        };
        Ok(deleted.rows_affected() > 0)
    }
}
