//! Accounts' two keys: certificates, serials and the PIN counters.

use sqlx::Row;
use sqlx::any::AnyRow;
use uuid::Uuid;

use crate::{
    KeyPurpose, KeyRecord, PinCounter, RightPin, Store, StoreError, format_time,
    parse_optional_time, parse_uuid,
};

pub(crate) async fn write_pin_counter(
    connection: &mut sqlx::AnyConnection,
    account: Uuid,
    purpose: KeyPurpose,
    pin: PinCounter,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE account_keys SET wrong_pins = $1, locked_until = $2 WHERE account_id = $3 AND purpose = $4")
        .bind(pin.wrong_in_a_row as i64)
        .bind(pin.locked_until.map(format_time))
        .bind(account.to_string())
        .bind(purpose.as_str())
        .execute(connection)
        .await?;
    Ok(())
}
pub(crate) async fn write_right_pin(
    connection: &mut sqlx::AnyConnection,
    right_pin: &RightPin,
) -> Result<(), StoreError> {
    write_pin_counter(
        connection,
        right_pin.account,
        right_pin.purpose,
        right_pin.counter,
    )
    .await?;
    sqlx::query("UPDATE accounts SET last_used_at = $1 WHERE id = $2")
        .bind(format_time(right_pin.at))
        .bind(right_pin.account.to_string())
        .execute(connection)
        .await?;
    Ok(())
}
fn key_from_row(row: &AnyRow) -> Result<KeyRecord, StoreError> {
    Ok(KeyRecord {
        purpose: KeyPurpose::parse(row.try_get("purpose")?)?,
        half_bits: row.try_get::<i64, _>("half_bits")? as usize,
        device_modulus: row.try_get("device_modulus")?,
        server_exponent_sealed: row.try_get("server_exponent_sealed")?,
        server_key_sealed: row.try_get("server_key_sealed")?,
        crt_coefficient: row.try_get("crt_coefficient")?,
        certificate: row.try_get("certificate")?,
        serial: row.try_get("serial")?,
        pin: PinCounter {
            wrong_in_a_row: row.try_get::<i64, _>("wrong_pins")? as u32,
            locked_until: parse_optional_time(row.try_get("locked_until")?)?,
        },
    })
}
impl Store {
    /// Keys stored before serial numbers were recorded: (account, purpose, certificate).
    pub async fn keys_without_serial(
        &self,
    ) -> Result<Vec<(Uuid, KeyPurpose, Vec<u8>)>, StoreError> {
        let rows = sqlx::query(
            "SELECT account_id, purpose, certificate FROM account_keys WHERE serial IS NULL",
        )
        .fetch_all(&self.readers)
        .await?;
        rows.iter()
            .map(|row| {
                Ok((
                    parse_uuid(row.try_get("account_id")?)?,
                    KeyPurpose::parse(row.try_get("purpose")?)?,
                    row.try_get("certificate")?,
                ))
            })
            .collect()
    }

    /// Records the serial of a key's certificate (filling in keys stored without one).
    pub async fn set_key_serial(
        &self,
        account: Uuid,
        purpose: KeyPurpose,
        serial: &str,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE account_keys SET serial = $1 WHERE account_id = $2 AND purpose = $3")
            .bind(serial)
            .bind(account.to_string())
            .bind(purpose.as_str())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    // ---- keys --------------------------------------------------------------------------

    pub async fn key(
        &self,
        account: Uuid,
        purpose: KeyPurpose,
    ) -> Result<Option<KeyRecord>, StoreError> {
        let row = sqlx::query("SELECT * FROM account_keys WHERE account_id = $1 AND purpose = $2")
            .bind(account.to_string())
            .bind(purpose.as_str())
            .fetch_optional(&self.readers)
            .await?;
        row.as_ref().map(key_from_row).transpose()
    }

    /// Active accounts with a key that has `wrong_pins` or more wrong PINs in a row.
    pub async fn active_accounts_locked_for_good(
        &self,
        wrong_pins: u32,
    ) -> Result<Vec<Uuid>, StoreError> {
        let rows = sqlx::query(
            "SELECT DISTINCT a.id FROM accounts a JOIN account_keys k ON k.account_id = a.id
             WHERE a.state = 'active' AND k.wrong_pins >= $1",
        )
        .bind(i64::from(wrong_pins))
        .fetch_all(&self.readers)
        .await?;
        rows.iter()
            .map(|row| crate::parse_uuid(row.try_get("id")?))
            .collect()
    }

    /// Whether a key of the account has `wrong_pins` or more wrong PINs in a row.
    pub async fn account_locked_for_good(
        &self,
        account: Uuid,
        wrong_pins: u32,
    ) -> Result<bool, StoreError> {
        let row = sqlx::query(
            "SELECT 1 FROM account_keys WHERE account_id = $1 AND wrong_pins >= $2 LIMIT 1",
        )
        .bind(account.to_string())
        .bind(i64::from(wrong_pins))
        .fetch_optional(&self.readers)
        .await?;
        Ok(row.is_some())
    }

    /// Stores a key's PIN counter.
    pub async fn set_pin_counter(
        &self,
        account: Uuid,
        purpose: KeyPurpose,
        pin: PinCounter,
    ) -> Result<(), StoreError> {
        let mut connection = self.pool.acquire().await?;
        write_pin_counter(&mut connection, account, purpose, pin).await
    }

    /// A right PIN: the counter's reset and the account's last use, in one commit.
    pub async fn record_right_pin(&self, right_pin: &RightPin) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        write_right_pin(&mut tx, right_pin).await?;
        tx.commit().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::test_records::{NOW, insert_account};
    use crate::{KeyPurpose, PinCounter, RightPin, Store};

    #[tokio::test]
    async fn pin_counters_are_kept_per_key_and_a_right_pin_resets_one() {
        let (store, _database) = Store::for_tests().await;
        let account = insert_account(&store, "PNOEE-1", "PNOEE-1-AAAA-Q").await;
        let locked = PinCounter {
            wrong_in_a_row: 3,
            locked_until: Some(NOW + time::Duration::hours(3)),
        };
        store
            .set_pin_counter(account.id, KeyPurpose::Signing, locked)
            .await
            .unwrap();
        let key = |purpose| {
            let store = store.clone();
            async move { store.key(account.id, purpose).await.unwrap().unwrap() }
        };
        assert_eq!(key(KeyPurpose::Signing).await.pin, locked);
        assert_eq!(
            key(KeyPurpose::Authentication).await.pin,
            PinCounter::default()
        );
        let right = RightPin {
            account: account.id,
            purpose: KeyPurpose::Signing,
            counter: PinCounter::default(),
            at: NOW,
        };
        store.record_right_pin(&right).await.unwrap();
        assert_eq!(key(KeyPurpose::Signing).await.pin, PinCounter::default());
        let used = store.account(account.id).await.unwrap().unwrap();
        assert_eq!(used.last_used_at, Some(NOW));
    }

    #[tokio::test]
    async fn keys_read_back_as_stored_and_missing_serials_are_filled_in() {
        let (store, _database) = Store::for_tests().await;
        let account = insert_account(&store, "PNOEE-1", "PNOEE-1-AAAA-Q").await;
        let stored = store
            .key(account.id, KeyPurpose::Authentication)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            stored,
            crate::test_records::key(KeyPurpose::Authentication, "PNOEE-1-AAAA-Q-a")
        );
        assert!(store.keys_without_serial().await.unwrap().is_empty());
        store
            .set_key_serial(account.id, KeyPurpose::Authentication, "0abc")
            .await
            .unwrap();
        let renamed = store
            .key(account.id, KeyPurpose::Authentication)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(renamed.serial.as_deref(), Some("0abc"));
    }
}
