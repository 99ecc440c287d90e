//! Relying parties: who may call the RP API, with which names, levels and addresses.

use sqlx::Row;
use sqlx::any::AnyRow;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{
    RelyingPartyRecord, Store, StoreError, damaged, flag, format_time, json_column, parse_uuid,
};

fn relying_party_from_row(row: &AnyRow) -> Result<RelyingPartyRecord, StoreError> {
    Ok(RelyingPartyRecord {
        uuid: parse_uuid(row.try_get("uuid")?)?,
        names: json_column(row, "names")?,
        allowed_levels: json_column(row, "allowed_levels")?,
        ip_ranges: json_column(row, "ip_ranges")?,
        enabled: flag(row, "enabled")?,
        share_device_ip: flag(row, "share_device_ip")?,
    })
}
impl Store {
    // ---- relying parties -------------------------------------------------------------

    /// Adds or replaces a relying party.
    pub async fn put_relying_party(
        &self,
        rp: &RelyingPartyRecord,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO relying_parties (uuid, names, allowed_levels, ip_ranges, enabled, created_at, share_device_ip)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (uuid) DO UPDATE SET names = excluded.names,
                 allowed_levels = excluded.allowed_levels, ip_ranges = excluded.ip_ranges,
                 enabled = excluded.enabled, share_device_ip = excluded.share_device_ip",
        )
        .bind(rp.uuid.to_string())
        .bind(serde_json::to_string(&rp.names).map_err(damaged)?)
        .bind(serde_json::to_string(&rp.allowed_levels).map_err(damaged)?)
        .bind(serde_json::to_string(&rp.ip_ranges).map_err(damaged)?)
        .bind(rp.enabled)
        .bind(format_time(now))
        .bind(rp.share_device_ip)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn relying_party(
        &self,
        uuid: Uuid,
    ) -> Result<Option<RelyingPartyRecord>, StoreError> {
        let row = sqlx::query("SELECT * FROM relying_parties WHERE uuid = $1")
            .bind(uuid.to_string())
            .fetch_optional(&self.readers)
            .await?;
        row.as_ref().map(relying_party_from_row).transpose()
    }

    /// Every relying party, oldest first.
    pub async fn relying_parties(&self) -> Result<Vec<RelyingPartyRecord>, StoreError> {
        let rows = sqlx::query("SELECT * FROM relying_parties ORDER BY created_at, uuid")
            .fetch_all(&self.readers)
            .await?;
        rows.iter().map(relying_party_from_row).collect()
    }
}

#[cfg(test)]
mod tests {
    use crate::test_records::NOW;
    use crate::{Level, RelyingPartyRecord, Store};

    #[tokio::test]
    async fn a_relying_party_is_stored_and_replaced_whole() {
        let (store, _database) = Store::for_tests().await;
        let mut rp = RelyingPartyRecord {
            uuid: uuid::Uuid::new_v4(),
            names: vec!["Bank".into(), "Bank Mobile".into()],
            allowed_levels: vec![Level::Qualified, Level::Qscd],
            ip_ranges: vec!["10.0.0.0/8".into()],
            enabled: true,
            share_device_ip: false,
        };
        assert_eq!(store.relying_party(rp.uuid).await.unwrap(), None);
        store.put_relying_party(&rp, NOW).await.unwrap();
        assert_eq!(
            store.relying_party(rp.uuid).await.unwrap(),
            Some(rp.clone())
        );
        rp.enabled = false;
        rp.share_device_ip = true;
        rp.names = vec!["Bank".into()];
        store.put_relying_party(&rp, NOW).await.unwrap();
        assert_eq!(
            store.relying_party(rp.uuid).await.unwrap(),
            Some(rp.clone())
        );
        assert_eq!(store.relying_parties().await.unwrap(), vec![rp]);
    }
}
