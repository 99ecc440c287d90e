//! Accounts: one per registered device, their state, and their app channel.

use sqlx::Row;
use sqlx::any::AnyRow;
use uuid::Uuid;

use crate::{
    AccountRecord, AccountState, AuditEvent, ChannelAdvance, ChannelState, KeyRecord, Revocation,
    Store, StoreError, audit, damaged, format_time, json_column, parse_optional_time, parse_time,
    parse_uuid,
};

/// Moves an app channel on if it is still at the expected token; false if it was not.
pub(crate) async fn write_channel_advance(
    connection: &mut sqlx::AnyConnection,
    advance: &ChannelAdvance,
) -> Result<bool, StoreError> {
    let next = &advance.next;
    let result = sqlx::query(
        "UPDATE accounts SET ratchet_token = $1, previous_token = $2, last_request = $3, last_response = $4
         WHERE id = $5 AND ratchet_token = $6",
    )
    .bind(&next.ratchet_token)
    .bind(&next.previous_token)
    .bind(&next.last_request)
    .bind(&next.last_response)
    .bind(advance.account.to_string())
    .bind(&advance.expected_token)
    .execute(connection)
    .await?;
    Ok(result.rows_affected() == 1)
}
fn account_from_row(row: &AnyRow) -> Result<AccountRecord, StoreError> {
    Ok(AccountRecord {
        id: parse_uuid(row.try_get("id")?)?,
        document_number: row.try_get("document_number")?,
        semantics_id: row.try_get("semantics_id")?,
        given_name: row.try_get("given_name")?,
        surname: row.try_get("surname")?,
        country: row.try_get("country")?,
        level: row.try_get("level")?,
        proofing_method: row.try_get("proofing_method")?,
        state: AccountState::parse(row.try_get("state")?)?,
        closed_reason: row.try_get("closed_reason")?,
        created_at: parse_time(row.try_get("created_at")?)?,
        expires_at: parse_time(row.try_get("expires_at")?)?,
        last_used_at: parse_optional_time(row.try_get("last_used_at")?)?,
        mac_key_sealed: row.try_get("mac_key_sealed")?,
        channel: ChannelState {
            ratchet_token: row.try_get("ratchet_token")?,
            previous_token: row.try_get("previous_token")?,
            last_request: row.try_get("last_request")?,
            last_response: row.try_get("last_response")?,
        },
        interactions: json_column(row, "interactions")?,
        proofing_evidence: json_column(row, "proofing_evidence")?,
    })
}
impl Store {
    // ---- accounts ----------------------------------------------------------------------

    /// Stores a new account with its two keys and the audit record of its registration, in
    /// one transaction.
    pub async fn insert_account(
        &self,
        account: &AccountRecord,
        keys: &[KeyRecord],
        audit: &AuditEvent,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO accounts (id, document_number, semantics_id, given_name, surname, country,
                 level, proofing_method, state, closed_reason, created_at, expires_at, last_used_at,
                 mac_key_sealed, ratchet_token, previous_token, last_request, last_response, interactions,
                 proofing_evidence)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)",
        )
        .bind(account.id.to_string())
        .bind(&account.document_number)
        .bind(&account.semantics_id)
        .bind(&account.given_name)
        .bind(&account.surname)
        .bind(&account.country)
        .bind(&account.level)
        .bind(&account.proofing_method)
        .bind(account.state.as_str())
        .bind(&account.closed_reason)
        .bind(format_time(account.created_at))
        .bind(format_time(account.expires_at))
        .bind(account.last_used_at.map(format_time))
        .bind(&account.mac_key_sealed)
        .bind(&account.channel.ratchet_token)
        .bind(&account.channel.previous_token)
        .bind(&account.channel.last_request)
        .bind(&account.channel.last_response)
        .bind(serde_json::to_string(&account.interactions).map_err(damaged)?)
        .bind(account.proofing_evidence.to_string())
        .execute(&mut *tx)
        .await?;
        for key in keys {
            sqlx::query(
                "INSERT INTO account_keys (account_id, purpose, half_bits, device_modulus,
                     server_exponent_sealed, server_key_sealed, certificate, serial, wrong_pins,
                     locked_until, crt_coefficient)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            )
            .bind(account.id.to_string())
            .bind(key.purpose.as_str())
            .bind(key.half_bits as i64)
            .bind(&key.device_modulus)
            .bind(&key.server_exponent_sealed)
            .bind(&key.server_key_sealed)
            .bind(&key.certificate)
            .bind(&key.serial)
            .bind(key.pin.wrong_in_a_row as i64)
            .bind(key.pin.locked_until.map(format_time))
            .bind(&key.crt_coefficient)
            .execute(&mut *tx)
            .await?;
        }
        audit::append(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Every account's stored last answer of its app channel.
    pub async fn stored_channel_answers(&self) -> Result<Vec<(Uuid, Vec<u8>)>, StoreError> {
        let rows =
            sqlx::query("SELECT id, last_response FROM accounts WHERE last_response IS NOT NULL")
                .fetch_all(&self.readers)
                .await?;
        rows.iter()
            .map(|row| {
                Ok((
                    parse_uuid(row.try_get("id")?)?,
                    row.try_get("last_response")?,
                ))
            })
            .collect()
    }

    /// Replaces an account's stored last answer, if it is still `was`.
    pub async fn replace_channel_answer(
        &self,
        account: Uuid,
        was: &[u8],
        now: &[u8],
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE accounts SET last_response = $1 WHERE id = $2 AND last_response = $3")
            .bind(now)
            .bind(account.to_string())
            .bind(was)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn account(&self, id: Uuid) -> Result<Option<AccountRecord>, StoreError> {
        let row = sqlx::query("SELECT * FROM accounts WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&self.readers)
            .await?;
        row.as_ref().map(account_from_row).transpose()
    }

    pub async fn account_by_document(
        &self,
        document_number: &str,
    ) -> Result<Option<AccountRecord>, StoreError> {
        let row = sqlx::query("SELECT * FROM accounts WHERE document_number = $1")
            .bind(document_number)
            .fetch_optional(&self.readers)
            .await?;
        row.as_ref().map(account_from_row).transpose()
    }

    /// Every account (active or not) of a person.
    pub async fn accounts_of_person(
        &self,
        semantics_id: &str,
    ) -> Result<Vec<AccountRecord>, StoreError> {
        let rows =
            sqlx::query("SELECT * FROM accounts WHERE semantics_id = $1 ORDER BY created_at")
                .bind(semantics_id)
                .fetch_all(&self.readers)
                .await?;
        rows.iter().map(account_from_row).collect()
    }

    pub async fn document_number_exists(&self, document_number: &str) -> Result<bool, StoreError> {
        let row = sqlx::query("SELECT 1 FROM accounts WHERE document_number = $1")
            .bind(document_number)
            .fetch_optional(&self.readers)
            .await?;
        Ok(row.is_some())
    }

    /// Closes an account for good, with the reason, revokes its certificates and logs it, in
    /// one transaction. Returns false (and logs nothing) if it was already closed.
    pub async fn close_account(
        &self,
        id: Uuid,
        reason: &str,
        revocations: &[Revocation],
        audit: &[AuditEvent],
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let closed = sqlx::query("UPDATE accounts SET state = 'closed', closed_reason = $1 WHERE id = $2 AND state = 'active'")
            .bind(reason)
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
        if closed.rows_affected() == 0 {
            return Ok(false);
        }
        for revocation in revocations {
            sqlx::query(
                "INSERT INTO revocations (serial, account_id, purpose, reason, revoked_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (serial) DO NOTHING",
            )
            .bind(&revocation.serial)
            .bind(id.to_string())
            .bind(revocation.purpose.as_str())
            .bind(revocation.reason)
            .bind(format_time(revocation.revoked_at))
            .execute(&mut *tx)
            .await?;
        }
        // A closed account's phone is told nothing more.
        sqlx::query("DELETE FROM push_subscriptions WHERE account_id = $1")
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
        for event in audit {
            audit::append(&mut tx, event).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Moves the app channel's ratchet on, if it is still where the caller found it
    /// (compare-and-swap on the current token). Returns false when another request won.
    pub async fn advance_channel(&self, advance: &ChannelAdvance) -> Result<bool, StoreError> {
        let mut connection = self.pool.acquire().await?;
        write_channel_advance(&mut connection, advance).await
    }
}

#[cfg(test)]
mod tests {
    use crate::test_records::{NOW, insert_account};
    use crate::{AccountState, ChannelAdvance, ChannelState, KeyPurpose, Revocation, Store};

    #[tokio::test]
    async fn accounts_are_found_by_id_document_and_person() {
        let (store, _database) = Store::for_tests().await;
        let first = insert_account(&store, "PNOEE-1", "PNOEE-1-AAAA-Q").await;
        let second = insert_account(&store, "PNOEE-1", "PNOEE-1-BBBB-Q").await;
        insert_account(&store, "PNOEE-2", "PNOEE-2-CCCC-Q").await;
        assert_eq!(store.account(first.id).await.unwrap(), Some(first.clone()));
        let by_document = store.account_by_document("PNOEE-1-BBBB-Q").await.unwrap();
        assert_eq!(by_document.map(|a| a.id), Some(second.id));
        let of_person: Vec<_> = store.accounts_of_person("PNOEE-1").await.unwrap();
        assert_eq!(of_person.len(), 2);
        assert!(
            store
                .document_number_exists("PNOEE-2-CCCC-Q")
                .await
                .unwrap()
        );
        assert!(
            !store
                .document_number_exists("PNOEE-3-DDDD-Q")
                .await
                .unwrap()
        );
        // A document number is one account's only.
        let again = crate::test_records::account("PNOEE-1", "PNOEE-1-AAAA-Q");
        let audit = crate::AuditEvent::new(crate::AuditKind::Registration, "device", NOW);
        assert!(store.insert_account(&again, &[], &audit).await.is_err());
    }

    #[tokio::test]
    async fn closing_revokes_both_keys_once() {
        let (store, _database) = Store::for_tests().await;
        let account = insert_account(&store, "PNOEE-1", "PNOEE-1-AAAA-Q").await;
        let revocations: Vec<_> = [
            ("PNOEE-1-AAAA-Q-a", KeyPurpose::Authentication),
            ("PNOEE-1-AAAA-Q-s", KeyPurpose::Signing),
        ]
        .into_iter()
        .map(|(serial, purpose)| Revocation {
            serial: serial.into(),
            purpose,
            reason: "cessationOfOperation",
            revoked_at: NOW,
        })
        .collect();
        assert!(
            store
                .close_account(account.id, "deleted", &revocations, &[])
                .await
                .unwrap()
        );
        assert!(
            !store
                .close_account(account.id, "deleted", &revocations, &[])
                .await
                .unwrap()
        );
        let closed = store.account(account.id).await.unwrap().unwrap();
        assert_eq!(closed.state, AccountState::Closed);
        assert_eq!(closed.closed_reason.as_deref(), Some("deleted"));
        assert_eq!(store.revocation_count().await.unwrap(), 2);
    }

    #[tokio::test]
    async fn the_channel_moves_only_from_the_token_it_is_at() {
        let (store, _database) = Store::for_tests().await;
        let account = insert_account(&store, "PNOEE-1", "PNOEE-1-AAAA-Q").await;
        let advance = |from: Vec<u8>, to: Vec<u8>| ChannelAdvance {
            account: account.id,
            expected_token: from.clone(),
            next: ChannelState {
                ratchet_token: to,
                previous_token: Some(from),
                last_request: Some(vec![1]),
                last_response: Some(b"answer".to_vec()),
            },
        };
        let first = advance(account.channel.ratchet_token.clone(), vec![8; 32]);
        assert!(store.advance_channel(&first).await.unwrap());
        // A second move from the old token (a copy of the app, a race) does not apply.
        assert!(!store.advance_channel(&first).await.unwrap());
        let stored = store.account(account.id).await.unwrap().unwrap();
        assert_eq!(stored.channel, first.next);
    }
}
