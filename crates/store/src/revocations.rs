//! Revocations and the CRLs that publish them.

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::{
    KeyPurpose, REVOCATION_REASONS, Revocation, SerialStatus, Store, StoreError, StoredCrl,
    damaged, format_time, parse_time,
};

fn revocation_reason(text: String) -> Result<&'static str, StoreError> {
    REVOCATION_REASONS
        .iter()
        .find(|reason| **reason == text)
        .copied()
        .ok_or_else(|| damaged(format!("unknown revocation reason {text:?}")))
}
fn revocation_from_row(row: &AnyRow) -> Result<Revocation, StoreError> {
    Ok(Revocation {
        serial: row.try_get("serial")?,
        purpose: KeyPurpose::parse(row.try_get("purpose")?)?,
        reason: revocation_reason(row.try_get("reason")?)?,
        revoked_at: parse_time(row.try_get("revoked_at")?)?,
    })
}
impl Store {
    /// The revocation of a certificate, if it is revoked.
    pub async fn revocation(&self, serial: &str) -> Result<Option<Revocation>, StoreError> {
        let row = sqlx::query("SELECT * FROM revocations WHERE serial = $1")
            .bind(serial)
            .fetch_optional(&self.readers)
            .await?;
        row.as_ref().map(revocation_from_row).transpose()
    }

    // ---- certificate status (OCSP, CRLs) -------------------------------------------------

    /// Whether a serial (lower-case hex) is one of ours, and revoked. Read per request, so a
    /// revocation committed by any process counts at once.
    pub async fn serial_status(&self, serial: &str) -> Result<SerialStatus, StoreError> {
        if let Some(revocation) = self.revocation(serial).await? {
            return Ok(SerialStatus::Revoked(revocation));
        }
        let issued = sqlx::query("SELECT 1 FROM account_keys WHERE serial = $1")
            .bind(serial)
            .fetch_optional(&self.readers)
            .await?;
        Ok(if issued.is_some() {
            SerialStatus::Good
        } else {
            SerialStatus::NotIssued
        })
    }

    /// How many certificates have been revoked (revocations are never deleted).
    pub async fn revocation_count(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM revocations")
            .fetch_one(&self.readers)
            .await?)
    }

    /// Every revocation, oldest first.
    pub async fn revocations(&self) -> Result<Vec<Revocation>, StoreError> {
        let rows = sqlx::query("SELECT * FROM revocations ORDER BY revoked_at, serial")
            .fetch_all(&self.readers)
            .await?;
        rows.iter().map(revocation_from_row).collect()
    }

    /// The latest CRL of a CA (`root` or `issuing`).
    pub async fn crl(&self, ca: &str) -> Result<Option<StoredCrl>, StoreError> {
        let row = sqlx::query("SELECT * FROM crls WHERE ca = $1")
            .bind(ca)
            .fetch_optional(&self.readers)
            .await?;
        row.map(|row| {
            Ok(StoredCrl {
                number: row.try_get("number")?,
                revocations: row.try_get("revocations")?,
                this_update: parse_time(row.try_get("this_update")?)?,
                next_update: parse_time(row.try_get("next_update")?)?,
                der: row.try_get("der")?,
            })
        })
        .transpose()
    }

    /// Stores a CA's new CRL if the latest is still the one numbered `replaces` (`None`: there
    /// was none). Returns false when another process stored one meanwhile: the number stays
    /// unique and growing.
    pub async fn replace_crl(
        &self,
        ca: &str,
        replaces: Option<i64>,
        crl: &StoredCrl,
    ) -> Result<bool, StoreError> {
        let result = sqlx::query(
            "INSERT INTO crls (ca, number, revocations, this_update, next_update, der)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (ca) DO UPDATE SET number = excluded.number,
                 revocations = excluded.revocations, this_update = excluded.this_update,
                 next_update = excluded.next_update, der = excluded.der
             WHERE crls.number = $7",
        )
        .bind(ca)
        .bind(crl.number)
        .bind(crl.revocations)
        .bind(format_time(crl.this_update))
        .bind(format_time(crl.next_update))
        .bind(&crl.der)
        .bind(replaces)
        .execute(&self.pool)
        .await?;
        Ok(result.rows_affected() == 1)
    }
}

#[cfg(test)]
mod tests {
    use crate::test_records::{NOW, insert_account};
    use crate::{KeyPurpose, Revocation, SerialStatus, Store, StoredCrl};

    #[tokio::test]
    async fn a_serial_is_not_issued_good_or_revoked() {
        let (store, _database) = Store::for_tests().await;
        let account = insert_account(&store, "PNOEE-1", "PNOEE-1-AAAA-Q").await;
        assert_eq!(
            store.serial_status("ffff").await.unwrap(),
            SerialStatus::NotIssued
        );
        assert_eq!(
            store.serial_status("PNOEE-1-AAAA-Q-a").await.unwrap(),
            SerialStatus::Good
        );
        let revoked = Revocation {
            serial: "PNOEE-1-AAAA-Q-a".into(),
            purpose: KeyPurpose::Authentication,
            reason: "keyCompromise",
            revoked_at: NOW,
        };
        store
            .close_account(
                account.id,
                "clone detected",
                std::slice::from_ref(&revoked),
                &[],
            )
            .await
            .unwrap();
        assert_eq!(
            store.serial_status("PNOEE-1-AAAA-Q-a").await.unwrap(),
            SerialStatus::Revoked(revoked.clone())
        );
        assert_eq!(
            store.revocation("PNOEE-1-AAAA-Q-a").await.unwrap(),
            Some(revoked.clone())
        );
        assert_eq!(store.revocations().await.unwrap(), vec![revoked]);
    }

    #[tokio::test]
    async fn a_crl_is_replaced_only_from_the_number_it_is_at() {
        let (store, _database) = Store::for_tests().await;
        let crl = |number| StoredCrl {
            number,
            revocations: number,
            this_update: NOW,
            next_update: NOW + time::Duration::DAY,
            der: vec![number as u8],
        };
        assert_eq!(store.crl("issuing").await.unwrap(), None);
        assert!(store.replace_crl("issuing", None, &crl(1)).await.unwrap());
        // Another process that read no CRL (or an older one) loses the race.
        assert!(!store.replace_crl("issuing", None, &crl(2)).await.unwrap());
        assert!(
            store
                .replace_crl("issuing", Some(1), &crl(2))
                .await
                .unwrap()
        );
        assert_eq!(store.crl("issuing").await.unwrap(), Some(crl(2)));
        assert_eq!(store.crl("root").await.unwrap(), None);
    }
}
