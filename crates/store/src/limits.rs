//! Counts behind the limits that protect people from unwanted requests on their phones.

use time::OffsetDateTime;
use uuid::Uuid;

use super::{Store, StoreError, format_time};

impl Store {
    /// Sessions of one relying party sent to one account since a time: (all, still running).
    pub async fn recent_sessions_to(
        &self,
        rp_uuid: Uuid,
        account: Uuid,
        since: OffsetDateTime,
    ) -> Result<(u64, u64), StoreError> {
        let (all, running): (i64, i64) = sqlx::query_as(
            "SELECT COUNT(*), COALESCE(SUM(CASE WHEN s.state = 'running' THEN 1 ELSE 0 END), 0)
             FROM sessions s JOIN session_targets t ON t.session_id = s.id
             WHERE s.rp_uuid = $1 AND t.account_id = $2 AND s.created_at >= $3",
        )
        .bind(rp_uuid.to_string())
        .bind(account.to_string())
        .bind(format_time(since))
        .fetch_one(&self.readers)
        .await?;
        Ok((all as u64, running as u64))
    }
}
