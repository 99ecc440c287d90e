//! Sessions: started with the accounts asked, completed once, in one transaction with what the answer carries.

use sqlx::Row;
use sqlx::any::AnyRow;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::accounts::write_channel_advance;
use crate::keys::write_right_pin;
use crate::{
    SessionCompletion, SessionKind, SessionRecord, SessionState, Store, StoreError, audit, damaged,
    format_time, parse_optional_time, parse_time, parse_uuid,
};

fn session_from_row(row: &AnyRow) -> Result<SessionRecord, StoreError> {
    let result: Option<String> = row.try_get("result")?;
    Ok(SessionRecord {
        id: parse_uuid(row.try_get("id")?)?,
        rp_uuid: parse_uuid(row.try_get("rp_uuid")?)?,
        kind: SessionKind::parse(row.try_get("kind")?)?,
        request: serde_json::from_str(row.try_get("request")?).map_err(damaged)?,
        fingerprint: row.try_get("fingerprint")?,
        state: SessionState::parse(row.try_get("state")?)?,
        result: result
            .map(|r| serde_json::from_str(&r))
            .transpose()
            .map_err(damaged)?,
        created_at: parse_time(row.try_get("created_at")?)?,
        deadline: parse_time(row.try_get("deadline")?)?,
        completed_at: parse_optional_time(row.try_get("completed_at")?)?,
        link_token: row.try_get("link_token")?,
    })
}
impl Store {
    // ---- sessions ----------------------------------------------------------------------

    /// Stores a new session and the accounts it is sent to, in one transaction.
    pub async fn insert_session(
        &self,
        session: &SessionRecord,
        targets: &[Uuid],
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO sessions (id, rp_uuid, kind, request, fingerprint, state, result, created_at, deadline, completed_at, link_token)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(session.id.to_string())
        .bind(session.rp_uuid.to_string())
        .bind(session.kind.as_str())
        .bind(session.request.to_string())
        .bind(&session.fingerprint)
        .bind(session.state.as_str())
        .bind(session.result.as_ref().map(|r| r.to_string()))
        .bind(format_time(session.created_at))
        .bind(format_time(session.deadline))
        .bind(session.completed_at.map(format_time))
        .bind(&session.link_token)
        .execute(&mut *tx)
        .await?;
        for account in targets {
            sqlx::query("INSERT INTO session_targets (session_id, account_id, state) VALUES ($1, $2, 'pending')")
                .bind(session.id.to_string())
                .bind(account.to_string())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn session(&self, id: Uuid) -> Result<Option<SessionRecord>, StoreError> {
        let row = sqlx::query("SELECT * FROM sessions WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&self.readers)
            .await?;
        row.as_ref().map(session_from_row).transpose()
    }

    /// A running session of the same relying party with the same fingerprint started after
    /// `since` (the 15-second idempotency rule).
    pub async fn recent_session_by_fingerprint(
        &self,
        fingerprint: &str,
        since: OffsetDateTime,
    ) -> Result<Option<Uuid>, StoreError> {
        let row = sqlx::query(
            "SELECT id FROM sessions WHERE fingerprint = $1 AND created_at > $2 ORDER BY created_at DESC LIMIT 1",
        )
        .bind(fingerprint)
        .bind(format_time(since))
        .fetch_optional(&self.readers)
        .await?;
        row.map(|row| parse_uuid(row.try_get("id")?)).transpose()
    }

    /// Completes a running session: stores its result, marks every target withdrawn except
    /// the one that answered, and counts it for billing, all at once. Returns the accounts
    /// that were still asked (their devices stop showing it), or `None` when the session had
    /// already completed (the first answer wins). A right PIN's reset and the answering app's
    /// channel move are committed with it, also when another answer had won; if the channel
    /// has moved on ([`StoreError::ChannelMoved`]), nothing is.
    pub async fn complete_session(
        &self,
        completion: &SessionCompletion<'_>,
    ) -> Result<Option<Vec<Uuid>>, StoreError> {
        let mut tx = self.pool.begin().await?;
        if let Some(right_pin) = completion.right_pin {
            write_right_pin(&mut tx, right_pin).await?;
        }
        if let Some(channel) = completion.channel
            && !write_channel_advance(&mut tx, channel).await?
        {
            // Dropping the transaction rolls it back: nothing of this answer is written.
            return Err(StoreError::ChannelMoved);
        }
        let id = completion.session_id.to_string();
        let updated = sqlx::query(
            "UPDATE sessions SET state = 'complete', result = $1, completed_at = $2 WHERE id = $3 AND state = 'running'",
        )
        .bind(completion.result.to_string())
        .bind(format_time(completion.now))
        .bind(&id)
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() != 1 {
            // Another answer won; a right PIN is still a right PIN, and the app's channel
            // moves on with the answer it was given.
            tx.commit().await?;
            return Ok(None);
        }
        let asked: Vec<String> = sqlx::query_scalar(
            "UPDATE session_targets SET state = 'withdrawn' WHERE session_id = $1 AND state = 'pending'
             RETURNING account_id",
        )
        .bind(&id)
        .fetch_all(&mut *tx)
        .await?;
        if let Some(account) = completion.answered_by {
            sqlx::query("UPDATE session_targets SET state = 'answered' WHERE session_id = $1 AND account_id = $2")
                .bind(&id)
                .bind(account.to_string())
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query(
            "INSERT INTO usage (session_id, rp_uuid, kind, end_result, completed_at)
             SELECT id, rp_uuid, kind, $1, $2 FROM sessions WHERE id = $3",
        )
        .bind(completion.end_result)
        .bind(format_time(completion.now))
        .bind(&id)
        .execute(&mut *tx)
        .await?;
        audit::append(&mut tx, completion.audit).await?;
        tx.commit().await?;
        asked
            .iter()
            .map(|id| parse_uuid(id))
            .collect::<Result<_, _>>()
            .map(Some)
    }

    /// Running sessions waiting for an answer from this account's device.
    pub async fn pending_sessions_for(
        &self,
        account: Uuid,
    ) -> Result<Vec<SessionRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT s.* FROM sessions s JOIN session_targets t ON t.session_id = s.id
             WHERE t.account_id = $1 AND t.state = 'pending' AND s.state = 'running'
             ORDER BY s.created_at",
        )
        .bind(account.to_string())
        .fetch_all(&self.readers)
        .await?;
        rows.iter().map(session_from_row).collect()
    }

    /// Withdraws a session from one account; returns whether other accounts still have it.
    pub async fn withdraw_target(&self, session: Uuid, account: Uuid) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("UPDATE session_targets SET state = 'withdrawn' WHERE session_id = $1 AND account_id = $2 AND state = 'pending'")
            .bind(session.to_string())
            .bind(account.to_string())
            .execute(&mut *tx)
            .await?;
        let others = sqlx::query(
            "SELECT 1 FROM session_targets WHERE session_id = $1 AND state = 'pending'",
        )
        .bind(session.to_string())
        .fetch_optional(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(others.is_some())
    }

    /// Every account a session was sent to.
    pub async fn session_target_accounts(&self, session: Uuid) -> Result<Vec<Uuid>, StoreError> {
        let rows = sqlx::query("SELECT account_id FROM session_targets WHERE session_id = $1")
            .bind(session.to_string())
            .fetch_all(&self.readers)
            .await?;
        rows.iter()
            .map(|row| parse_uuid(row.try_get("account_id")?))
            .collect()
    }

    /// A session still waiting for this account's answer (it may be past its deadline).
    pub async fn session_pending_for(
        &self,
        session: Uuid,
        account: Uuid,
    ) -> Result<Option<SessionRecord>, StoreError> {
        let row = sqlx::query(
            "SELECT s.* FROM sessions s JOIN session_targets t ON t.session_id = s.id
             WHERE s.id = $1 AND t.account_id = $2 AND t.state = 'pending'",
        )
        .bind(session.to_string())
        .bind(account.to_string())
        .fetch_optional(&self.readers)
        .await?;
        row.as_ref().map(session_from_row).transpose()
    }

    /// The running device-link session whose sessionToken has this digest, unclaimed.
    pub async fn session_by_link_token(
        &self,
        token_digest: &str,
    ) -> Result<Option<SessionRecord>, StoreError> {
        let row = sqlx::query("SELECT * FROM sessions WHERE link_token = $1 AND state = 'running'")
            .bind(token_digest)
            .fetch_optional(&self.readers)
            .await?;
        row.as_ref().map(session_from_row).transpose()
    }

    /// Gives an unclaimed device-link session to the account whose phone presented its link:
    /// the token is cleared, the request rewritten with what the claim settled (the flow, the
    /// interaction) and the account asked, in one transaction. `false` when the session was
    /// claimed, completed or never had this token (the first phone wins).
    pub async fn claim_linked_session(
        &self,
        session: Uuid,
        token_digest: &str,
        account: Uuid,
        request: &serde_json::Value,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let claimed = sqlx::query(
            "UPDATE sessions SET link_token = NULL, request = $1
             WHERE id = $2 AND link_token = $3 AND state = 'running'",
        )
        .bind(request.to_string())
        .bind(session.to_string())
        .bind(token_digest)
        .execute(&mut *tx)
        .await?;
        if claimed.rows_affected() != 1 {
            return Ok(false);
        }
        sqlx::query("INSERT INTO session_targets (session_id, account_id, state) VALUES ($1, $2, 'pending')")
            .bind(session.to_string())
            .bind(account.to_string())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Running sessions whose deadline has passed (to be completed with TIMEOUT).
    pub async fn overdue_sessions(&self, now: OffsetDateTime) -> Result<Vec<Uuid>, StoreError> {
        let rows =
            sqlx::query("SELECT id FROM sessions WHERE state = 'running' AND deadline <= $1")
                .bind(format_time(now))
                .fetch_all(&self.readers)
                .await?;
        rows.iter()
            .map(|row| parse_uuid(row.try_get("id")?))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use crate::test_records::{NOW, insert_account, session};
    use crate::{AuditEvent, AuditKind, SessionCompletion, SessionState, Store};

    #[tokio::test]
    async fn a_session_completes_once_and_leaves_its_devices() {
        let (store, _database) = Store::for_tests().await;
        let (phone, tablet) = (
            insert_account(&store, "PNOEE-1", "PNOEE-1-AAAA-Q").await,
            insert_account(&store, "PNOEE-1", "PNOEE-1-BBBB-Q").await,
        );
        let rp = Uuid::new_v4();
        let running = session(rp, NOW + time::Duration::seconds(90));
        store
            .insert_session(&running, &[phone.id, tablet.id])
            .await
            .unwrap();
        assert_eq!(
            store.session(running.id).await.unwrap(),
            Some(running.clone())
        );
        assert_eq!(
            store.pending_sessions_for(phone.id).await.unwrap(),
            vec![running.clone()]
        );
        let recent = |since| {
            let (store, fingerprint) = (store.clone(), running.fingerprint.clone());
            async move {
                store
                    .recent_session_by_fingerprint(&fingerprint, since)
                    .await
                    .unwrap()
            }
        };
        assert_eq!(
            recent(NOW - time::Duration::seconds(15)).await,
            Some(running.id)
        );
        assert_eq!(recent(NOW + time::Duration::seconds(1)).await, None);
        let result = serde_json::json!({"endResult": "OK"});
        let audit = AuditEvent::new(AuditKind::Login, format!("rp:{rp}"), NOW);
        let completion = SessionCompletion {
            session_id: running.id,
            result: &result,
            end_result: "OK",
            answered_by: Some(phone.id),
            now: NOW,
            audit: &audit,
            right_pin: None,
            channel: None,
        };
        // Both devices were still asked (the answering one too), and both are told.
        let mut told = store.complete_session(&completion).await.unwrap().unwrap();
        told.sort();
        let mut asked = vec![phone.id, tablet.id];
        asked.sort();
        assert_eq!(told, asked);
        assert_eq!(store.complete_session(&completion).await.unwrap(), None);
        let done = store.session(running.id).await.unwrap().unwrap();
        assert_eq!(
            (done.state, done.result, done.completed_at),
            (SessionState::Complete, Some(result), Some(NOW))
        );
        assert!(
            store
                .pending_sessions_for(tablet.id)
                .await
                .unwrap()
                .is_empty()
        );
        let usage = store.usage_counts().await.unwrap();
        assert_eq!(usage.iter().map(|u| u.count).sum::<u64>(), 1);
    }

    #[tokio::test]
    async fn overdue_sessions_and_withdrawn_devices() {
        let (store, _database) = Store::for_tests().await;
        let phone = insert_account(&store, "PNOEE-1", "PNOEE-1-AAAA-Q").await;
        let soon = session(Uuid::new_v4(), NOW + time::Duration::seconds(10));
        let later = session(Uuid::new_v4(), NOW + time::Duration::seconds(90));
        store.insert_session(&soon, &[phone.id]).await.unwrap();
        store.insert_session(&later, &[phone.id]).await.unwrap();
        let at = NOW + time::Duration::seconds(30);
        assert_eq!(store.overdue_sessions(at).await.unwrap(), vec![soon.id]);
        assert_eq!(
            store.session_target_accounts(later.id).await.unwrap(),
            vec![phone.id]
        );
        assert!(
            store
                .session_pending_for(later.id, phone.id)
                .await
                .unwrap()
                .is_some()
        );
        // Its only device withdrawn, nobody else can answer it.
        assert!(!store.withdraw_target(later.id, phone.id).await.unwrap());
        assert!(
            store
                .session_pending_for(later.id, phone.id)
                .await
                .unwrap()
                .is_none()
        );
    }

    #[tokio::test]
    async fn a_device_link_session_is_claimed_once_and_only_with_its_token() {
        let (store, _database) = Store::for_tests().await;
        let (phone, other) = (
            insert_account(&store, "PNOEE-1", "PNOEE-1-AAAA-Q").await,
            insert_account(&store, "PNOEE-2", "PNOEE-2-AAAA-Q").await,
        );
        let linked = crate::SessionRecord {
            link_token: Some("token-digest".into()),
            ..session(Uuid::new_v4(), NOW + time::Duration::seconds(90))
        };
        store.insert_session(&linked, &[]).await.unwrap();
        // Unclaimed, it is nobody's transaction.
        assert!(
            store
                .pending_sessions_for(phone.id)
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            store.session_by_link_token("token-digest").await.unwrap(),
            Some(linked.clone())
        );
        assert_eq!(store.session_by_link_token("other").await.unwrap(), None);
        let settled = serde_json::json!({"relying_party_name": "DEMO", "flow": "Qr"});
        let claim = |account, token: &'static str| {
            let (store, settled) = (store.clone(), settled.clone());
            async move {
                store
                    .claim_linked_session(linked.id, token, account, &settled)
                    .await
                    .unwrap()
            }
        };
        assert!(!claim(phone.id, "wrong-digest").await);
        assert!(claim(phone.id, "token-digest").await);
        // The second phone, or the same one again, finds the link spent.
        assert!(!claim(other.id, "token-digest").await);
        assert!(!claim(phone.id, "token-digest").await);
        assert_eq!(
            store.session_by_link_token("token-digest").await.unwrap(),
            None
        );
        let pending = store.pending_sessions_for(phone.id).await.unwrap();
        assert_eq!(pending.len(), 1);
        assert_eq!(
            (pending[0].link_token.as_deref(), &pending[0].request),
            (None, &settled)
        );
        assert!(
            store
                .pending_sessions_for(other.id)
                .await
                .unwrap()
                .is_empty()
        );
    }
}
