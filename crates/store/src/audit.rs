//! The audit log and the billing figures: append and read, nothing else (the table refuses
//! updates and deletes).

use sqlx::AnyConnection;
use sqlx::Row;
use sqlx::any::AnyRow;
use uuid::Uuid;

use super::{
    AuditEntry, AuditEvent, AuditKind, AuditQuery, MonthlyUsage, Store, StoreError, UsageCount,
    damaged, format_time, parse_time, parse_uuid,
};

/// Appends one event on a connection, so that callers can log inside the transaction that
/// makes the change: the change and its record commit together or not at all.
pub(crate) async fn append(
    connection: &mut AnyConnection,
    event: &AuditEvent,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO audit_log (at, event, actor, account_id, document_number, rp_uuid, session_id, details)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(format_time(event.at))
    .bind(event.kind.as_str())
    .bind(&event.actor)
    .bind(event.account.map(|id| id.to_string()))
    .bind(&event.document_number)
    .bind(event.relying_party.map(|id| id.to_string()))
    .bind(event.session.map(|id| id.to_string()))
    .bind(event.details.to_string())
    .execute(connection)
    .await?;
    Ok(())
}

fn optional_uuid(text: Option<String>) -> Result<Option<Uuid>, StoreError> {
    text.as_deref().map(parse_uuid).transpose()
}

fn entry_from_row(row: &AnyRow) -> Result<AuditEntry, StoreError> {
    let details: String = row.try_get("details")?;
    Ok(AuditEntry {
        seq: row.try_get("seq")?,
        event: AuditEvent {
            at: parse_time(row.try_get("at")?)?,
            kind: AuditKind::parse(row.try_get("event")?)?,
            actor: row.try_get("actor")?,
            account: optional_uuid(row.try_get("account_id")?)?,
            document_number: row.try_get("document_number")?,
            relying_party: optional_uuid(row.try_get("rp_uuid")?)?,
            session: optional_uuid(row.try_get("session_id")?)?,
            details: serde_json::from_str(&details).map_err(damaged)?,
        },
    })
}

impl Store {
    /// Appends one event on its own (for events that change nothing else).
    pub async fn append_audit(&self, event: &AuditEvent) -> Result<(), StoreError> {
        let mut connection = self.pool.acquire().await?;
        append(&mut connection, event).await
    }

    /// Audit events matching the query, oldest first.
    pub async fn audit_events(&self, query: &AuditQuery) -> Result<Vec<AuditEntry>, StoreError> {
        // The newest `limit` matches, returned in the order they happened.
        let rows = sqlx::query(
            "SELECT * FROM (
                 SELECT * FROM audit_log
                 WHERE ($1 IS NULL OR document_number = $1)
                   AND ($2 IS NULL OR event = $2)
                   AND ($3 IS NULL OR at >= $3)
                 ORDER BY seq DESC LIMIT $4
             ) AS newest ORDER BY seq",
        )
        .bind(&query.document_number)
        .bind(query.kind.map(AuditKind::as_str))
        .bind(query.since.map(format_time))
        .bind(query.limit.map_or(i64::MAX, i64::from))
        .fetch_all(&self.readers)
        .await?;
        rows.iter().map(entry_from_row).collect()
    }

    /// Transactions per relying party, month, kind and result; one month or all.
    pub async fn monthly_usage(
        &self,
        month: Option<&str>,
    ) -> Result<Vec<MonthlyUsage>, StoreError> {
        let rows = sqlx::query(
            "SELECT substr(completed_at, 1, 7) AS month, rp_uuid, kind, end_result, COUNT(*) AS n
             FROM usage
             WHERE $1 IS NULL OR substr(completed_at, 1, 7) = $1
             GROUP BY month, rp_uuid, kind, end_result
             ORDER BY month, rp_uuid, kind, end_result",
        )
        .bind(month)
        .fetch_all(&self.readers)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(MonthlyUsage {
                    month: row.try_get("month")?,
                    rp_uuid: parse_uuid(row.try_get("rp_uuid")?)?,
                    kind: row.try_get("kind")?,
                    end_result: row.try_get("end_result")?,
                    count: row.try_get::<i64, _>("n")? as u64,
                })
            })
            .collect()
    }
}

impl Store {
    /// Transactions counted for billing, per relying party, kind and result.
    pub async fn usage_counts(&self) -> Result<Vec<UsageCount>, StoreError> {
        let rows = sqlx::query(
            "SELECT rp_uuid, kind, end_result, COUNT(*) AS n FROM usage GROUP BY rp_uuid, kind, end_result ORDER BY rp_uuid, kind, end_result",
        )
        .fetch_all(&self.readers)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(UsageCount {
                    rp_uuid: parse_uuid(row.try_get("rp_uuid")?)?,
                    kind: row.try_get("kind")?,
                    end_result: row.try_get("end_result")?,
                    count: row.try_get::<i64, _>("n")? as u64,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn event(kind: AuditKind, document: &str) -> AuditEvent {
        let mut event = AuditEvent::new(kind, "system", datetime!(2026-11-26 10:00 UTC))
            .details(serde_json::json!({ "n": 1 }));
        event.document_number = Some(document.into());
        event
    }

    #[tokio::test]
    async fn the_log_keeps_what_was_appended_and_refuses_rewrites() {
        let (store, _database) = Store::for_tests().await;
        store
            .append_audit(&event(AuditKind::Login, "A"))
            .await
            .unwrap();
        store
            .append_audit(&event(AuditKind::WrongPin, "B"))
            .await
            .unwrap();
        store
            .append_audit(&event(AuditKind::Signature, "A"))
            .await
            .unwrap();

        let a = AuditQuery {
            document_number: Some("A".into()),
            ..AuditQuery::default()
        };
        let found = store.audit_events(&a).await.unwrap();
        let kinds: Vec<_> = found.iter().map(|e| e.event.kind).collect();
        assert_eq!(kinds, [AuditKind::Login, AuditKind::Signature]);
        assert_eq!(found[1].event, event(AuditKind::Signature, "A"));

        for statement in ["UPDATE audit_log SET actor = 'x'", "DELETE FROM audit_log"] {
            let refused = sqlx::query(statement).execute(&store.pool).await;
            let message = refused.unwrap_err().to_string();
            assert!(message.contains("append-only"), "{statement}: {message}");
        }
        assert_eq!(
            store
                .audit_events(&AuditQuery::default())
                .await
                .unwrap()
                .len(),
            3
        );
    }
}
