//! The server's channel keys: the keys apps seal their secrets to, one per generation.

use sqlx::Row;
use sqlx::any::AnyRow;
use time::OffsetDateTime;

use crate::{Store, StoreError, format_time, parse_optional_time, parse_time};

/// A stored channel key. Its secret is sealed under the key-encryption key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelKeyRecord {
    pub generation: i64,
    pub key_id: String,
    /// JSON of the app API's `ServerKey`.
    pub public_key: String,
    pub secret_sealed: Vec<u8>,
    /// JSON of the app API's `KeyRotation` from the previous generation (none for the first).
    pub rotation: Option<String>,
    pub created_at: OffsetDateTime,
    /// After this, what was sealed to it is refused; `None` while it is current.
    pub retires_at: Option<OffsetDateTime>,
}

fn channel_key_from_row(row: &AnyRow) -> Result<ChannelKeyRecord, StoreError> {
    Ok(ChannelKeyRecord {
        generation: row.try_get("generation")?,
        key_id: row.try_get("key_id")?,
        public_key: row.try_get("public_key")?,
        secret_sealed: row.try_get("secret_sealed")?,
        rotation: row.try_get("rotation")?,
        created_at: parse_time(row.try_get("created_at")?)?,
        retires_at: parse_optional_time(row.try_get("retires_at")?)?,
    })
}

impl Store {
    /// Every channel key, oldest generation first.
    pub async fn channel_keys(&self) -> Result<Vec<ChannelKeyRecord>, StoreError> {
        let rows = sqlx::query("SELECT * FROM channel_keys ORDER BY generation")
            .fetch_all(&self.readers)
            .await?;
        rows.iter().map(channel_key_from_row).collect()
    }

    /// Adds the next generation and retires the one before it at `previous_retires_at`, in
    /// one transaction. False if that generation exists already (another node was first).
    pub async fn add_channel_key(
        &self,
        key: &ChannelKeyRecord,
        previous_retires_at: Option<OffsetDateTime>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let inserted = sqlx::query(
            "INSERT INTO channel_keys (generation, key_id, public_key, secret_sealed, rotation, created_at, retires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (generation) DO NOTHING",
        )
        .bind(key.generation)
        .bind(&key.key_id)
        .bind(&key.public_key)
        .bind(&key.secret_sealed)
        .bind(&key.rotation)
        .bind(format_time(key.created_at))
        .bind(key.retires_at.map(format_time))
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if !inserted {
            return Ok(false);
        }
        if let Some(at) = previous_retires_at {
            sqlx::query("UPDATE channel_keys SET retires_at = $1 WHERE generation = $2")
                .bind(format_time(at))
                .bind(key.generation - 1)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    // ---- nonces of the app channel ----------------------------------------------------

    /// Remembers an authenticated request's nonce until `expires_unix`; false if the account
    /// used it already (a replay). One statement, committed on its own: every authenticated
    /// request pays it, so expired nonces are forgotten in bulk by
    /// [`forget_expired_nonces`](Self::forget_expired_nonces), not here. A row kept past its
    /// expiry refuses nothing the timestamp window would not refuse anyway.
    pub async fn remember_nonce(
        &self,
        account: uuid::Uuid,
        nonce: &str,
        expires_unix: i64,
    ) -> Result<bool, StoreError> {
        let fresh = sqlx::query(
            "INSERT INTO app_nonces (account_id, nonce, expires_unix) VALUES ($1, $2, $3)
             ON CONFLICT (account_id, nonce) DO NOTHING",
        )
        .bind(account.to_string())
        .bind(nonce)
        .bind(expires_unix)
        .execute(&self.pool)
        .await?
        .rows_affected()
            == 1;
        Ok(fresh)
    }

    /// Forgets the nonces whose window ended before `now_unix`; how many.
    pub async fn forget_expired_nonces(&self, now_unix: i64) -> Result<u64, StoreError> {
        Ok(
            sqlx::query("DELETE FROM app_nonces WHERE expires_unix < $1")
                .bind(now_unix)
                .execute(&self.pool)
                .await?
                .rows_affected(),
        )
    }

    /// Claims a device modulus (by its digest) for one registration; false if one used it.
    pub async fn claim_device_modulus(
        &self,
        digest: &[u8],
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let claimed = sqlx::query(
            "INSERT INTO used_device_moduli (digest, used_at) VALUES ($1, $2) ON CONFLICT (digest) DO NOTHING",
        )
        .bind(digest)
        .bind(format_time(now))
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(claimed == 1)
    }
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use crate::Store;

    #[tokio::test]
    async fn a_nonce_is_taken_once_per_account_until_it_is_forgotten() {
        let (store, _database) = Store::for_tests().await;
        let (account, other) = (Uuid::new_v4(), Uuid::new_v4());
        assert!(store.remember_nonce(account, "n1", 100).await.unwrap());
        assert!(!store.remember_nonce(account, "n1", 100).await.unwrap());
        assert!(store.remember_nonce(other, "n1", 100).await.unwrap());
        assert!(store.remember_nonce(account, "n2", 200).await.unwrap());
        assert_eq!(store.forget_expired_nonces(150).await.unwrap(), 2);
        assert!(
            !store.remember_nonce(account, "n2", 200).await.unwrap(),
            "a nonce still in its window stays"
        );
        assert!(store.remember_nonce(account, "n1", 300).await.unwrap());
    }
}
