//! Registrations between their two steps, and the proofing challenges they use.

use sqlx::{AnyConnection, Row};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{
    ProofingChallengeRecord, Store, StoreError, damaged, format_time, parse_time, parse_uuid,
};

/// Stores a pending registration, on a connection or inside a caller's transaction.
async fn insert_registration_row(
    connection: &mut AnyConnection,
    id: Uuid,
    request: &serde_json::Value,
    now: OffsetDateTime,
    expires: OffsetDateTime,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO registrations (id, request, created_at, expires_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(id.to_string())
    .bind(request.to_string())
    .bind(format_time(now))
    .bind(format_time(expires))
    .execute(connection)
    .await?;
    Ok(())
}
impl Store {
    // ---- registrations -----------------------------------------------------------------

    pub async fn insert_registration(
        &self,
        id: Uuid,
        request: &serde_json::Value,
        now: OffsetDateTime,
        expires: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let mut connection = self.pool.acquire().await?;
        insert_registration_row(&mut connection, id, request, now, expires).await
    }

    // ---- proofing challenges -----------------------------------------------------------

    pub async fn insert_proofing_challenge(
        &self,
        id: Uuid,
        challenge: &str,
        now: OffsetDateTime,
        expires: OffsetDateTime,
    ) -> Result<(), StoreError> {
        // Challenges that expired a day ago are of no use, not even for a clear "expired".
        sqlx::query("DELETE FROM proofing_challenges WHERE expires_at < $1")
            .bind(format_time(now - time::Duration::days(1)))
            .execute(&self.pool)
            .await?;
        sqlx::query(
            "INSERT INTO proofing_challenges (id, challenge, created_at, expires_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(id.to_string())
        .bind(challenge)
        .bind(format_time(now))
        .bind(format_time(expires))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn proofing_challenge(
        &self,
        id: Uuid,
    ) -> Result<Option<ProofingChallengeRecord>, StoreError> {
        let row = sqlx::query("SELECT * FROM proofing_challenges WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&self.readers)
            .await?;
        row.map(|row| {
            let vouched_by: Option<String> = row.try_get("vouched_by")?;
            let vouch_session: Option<String> = row.try_get("vouch_session")?;
            Ok(ProofingChallengeRecord {
                id,
                challenge: row.try_get("challenge")?,
                expires_at: parse_time(row.try_get("expires_at")?)?,
                vouched_by: vouched_by.as_deref().map(parse_uuid).transpose()?,
                vouch_session: vouch_session.as_deref().map(parse_uuid).transpose()?,
                used: row.try_get::<Option<String>, _>("used_at")?.is_some(),
            })
        })
        .transpose()
    }

    /// Records that an account's PIN1 login proved a challenge; false if the challenge is
    /// used, expired or already proven by an account.
    pub async fn vouch_for_challenge(
        &self,
        id: Uuid,
        account: Uuid,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        self.update_open_challenge("vouched_by", account, id, now)
            .await
    }

    /// Records the login session that asks an account's device to vouch for a challenge
    /// (replacing an earlier one); false if the challenge is used, expired or vouched for.
    pub async fn set_vouch_session(
        &self,
        id: Uuid,
        session: Uuid,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        self.update_open_challenge("vouch_session", session, id, now)
            .await
    }

    /// Sets `column` of a challenge that is still open (not used, not expired, not vouched
    /// for); false if it is not. `column` is one of this file's names, never input.
    async fn update_open_challenge(
        &self,
        column: &'static str,
        value: Uuid,
        id: Uuid,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let statement = format!(
            "UPDATE proofing_challenges SET {column} = $1
             WHERE id = $2 AND vouched_by IS NULL AND used_at IS NULL AND expires_at > $3"
        );
        let result = sqlx::query(sqlx::AssertSqlSafe(statement))
            .bind(value.to_string())
            .bind(id.to_string())
            .bind(format_time(now))
            .execute(&self.pool)
            .await?;
        Ok(result.rows_affected() == 1)
    }

    /// Stores a pending registration and, in the same transaction, consumes the proofing
    /// challenge it was proven with. False (and nothing stored) if the challenge was already
    /// used or expired meanwhile: each challenge proves one registration.
    pub async fn insert_registration_using_challenge(
        &self,
        id: Uuid,
        request: &serde_json::Value,
        challenge: Uuid,
        now: OffsetDateTime,
        expires: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let consumed = sqlx::query(
            "UPDATE proofing_challenges SET used_at = $1
             WHERE id = $2 AND used_at IS NULL AND expires_at > $3",
        )
        .bind(format_time(now))
        .bind(challenge.to_string())
        .bind(format_time(now))
        .execute(&mut *tx)
        .await?;
        if consumed.rows_affected() != 1 {
            return Ok(false);
        }
        insert_registration_row(&mut tx, id, request, now, expires).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Takes a pending registration out (it can be completed once only).
    pub async fn take_registration(
        &self,
        id: Uuid,
        now: OffsetDateTime,
    ) -> Result<Option<serde_json::Value>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query("SELECT request, expires_at FROM registrations WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM registrations WHERE id = $1")
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        let Some(row) = row else { return Ok(None) };
        if parse_time(row.try_get("expires_at")?)? <= now {
            return Ok(None);
        }
        let text: String = row.try_get("request")?;
        serde_json::from_str(&text).map(Some).map_err(damaged)
    }
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use crate::Store;
    use crate::test_records::{NOW, insert_account};

    #[tokio::test]
    async fn a_registration_is_taken_once_and_not_after_it_expires() {
        let (store, _database) = Store::for_tests().await;
        let (id, late) = (Uuid::new_v4(), Uuid::new_v4());
        let request = serde_json::json!({"step": 1});
        let expires = NOW + time::Duration::minutes(10);
        store
            .insert_registration(id, &request, NOW, expires)
            .await
            .unwrap();
        store
            .insert_registration(late, &request, NOW, expires)
            .await
            .unwrap();
        assert_eq!(
            store.take_registration(id, NOW).await.unwrap(),
            Some(request)
        );
        assert_eq!(store.take_registration(id, NOW).await.unwrap(), None);
        assert_eq!(store.take_registration(late, expires).await.unwrap(), None);
    }

    #[tokio::test]
    async fn a_proofing_challenge_proves_one_registration_and_one_voucher() {
        let (store, _database) = Store::for_tests().await;
        let challenge = Uuid::new_v4();
        let expires = NOW + time::Duration::minutes(10);
        store
            .insert_proofing_challenge(challenge, "Y2hhbGxlbmdl", NOW, expires)
            .await
            .unwrap();
        let stored = store.proofing_challenge(challenge).await.unwrap().unwrap();
        assert_eq!(
            (stored.challenge.as_str(), stored.vouched_by),
            ("Y2hhbGxlbmdl", None)
        );
        let voucher = insert_account(&store, "PNOEE-1", "PNOEE-1-AAAA-Q").await;
        assert!(
            store
                .set_vouch_session(challenge, Uuid::new_v4(), NOW)
                .await
                .unwrap()
        );
        assert!(
            store
                .vouch_for_challenge(challenge, voucher.id, NOW)
                .await
                .unwrap()
        );
        let vouched = store.proofing_challenge(challenge).await.unwrap().unwrap();
        assert_eq!(vouched.vouched_by, Some(voucher.id));
        // Once vouched for, neither a second voucher nor a new vouching session gets in.
        let other = insert_account(&store, "PNOEE-2", "PNOEE-2-BBBB-Q").await;
        assert!(
            !store
                .vouch_for_challenge(challenge, other.id, NOW)
                .await
                .unwrap()
        );
        assert!(
            !store
                .set_vouch_session(challenge, Uuid::new_v4(), NOW)
                .await
                .unwrap()
        );
        let request = serde_json::json!({});
        let first = Uuid::new_v4();
        assert!(
            store
                .insert_registration_using_challenge(first, &request, challenge, NOW, expires)
                .await
                .unwrap()
        );
        assert!(
            !store
                .insert_registration_using_challenge(
                    Uuid::new_v4(),
                    &request,
                    challenge,
                    NOW,
                    expires
                )
                .await
                .unwrap()
        );
    }
}
