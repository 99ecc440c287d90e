//! Browser sessions of the web pages and the service's own identity: what lets any node serve
//! any request.

use sqlx::Row;
use time::OffsetDateTime;

use super::{Store, StoreError, format_time};

/// A stored browser session: its CSRF token and the site's page state (JSON).
pub struct StoredWebSession {
    pub csrf: String,
    pub state: String,
}

const CA_ROOT_FINGERPRINT: &str = "ca_root_sha256";

impl Store {
    /// A browser session of `site` seen since `idle_since`, marked as seen `now`.
    pub async fn web_session(
        &self,
        site: &str,
        id_sha256: &str,
        idle_since: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<Option<StoredWebSession>, StoreError> {
        let row = sqlx::query(
            "UPDATE web_sessions SET last_seen = $1
             WHERE id_sha256 = $2 AND site = $3 AND last_seen >= $4
             RETURNING csrf, state",
        )
        .bind(format_time(now))
        .bind(id_sha256)
        .bind(site)
        .bind(format_time(idle_since))
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            Ok(StoredWebSession {
                csrf: row.try_get("csrf")?,
                state: row.try_get("state")?,
            })
        })
        .transpose()
    }

    /// Stores a browser session (new or changed); a new one also clears out the idle ones.
    pub async fn put_web_session(
        &self,
        site: &str,
        id_sha256: &str,
        session: &StoredWebSession,
        is_new: bool,
        idle_since: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        if is_new {
            sqlx::query("DELETE FROM web_sessions WHERE last_seen < $1")
                .bind(format_time(idle_since))
                .execute(&self.pool)
                .await?;
        }
        sqlx::query(
            "INSERT INTO web_sessions (id_sha256, site, csrf, state, last_seen)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (id_sha256) DO UPDATE SET csrf = excluded.csrf,
                 state = excluded.state, last_seen = excluded.last_seen
             WHERE web_sessions.site = excluded.site",
        )
        .bind(id_sha256)
        .bind(site)
        .bind(&session.csrf)
        .bind(&session.state)
        .bind(format_time(now))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Forgets a browser session (logout, or a new id at login).
    pub async fn end_web_session(&self, id_sha256: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM web_sessions WHERE id_sha256 = $1")
            .bind(id_sha256)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Records the root CA this database is used with, the first time; afterwards, whether
    /// `fingerprint` is that one (`Ok(Some(other))` when it is not).
    pub async fn claim_ca_root(&self, fingerprint: &str) -> Result<Option<String>, StoreError> {
        sqlx::query(
            "INSERT INTO service_identity (name, value) VALUES ($1, $2)
             ON CONFLICT (name) DO NOTHING",
        )
        .bind(CA_ROOT_FINGERPRINT)
        .bind(fingerprint)
        .execute(&self.pool)
        .await?;
        let recorded: String =
            sqlx::query_scalar("SELECT value FROM service_identity WHERE name = $1")
                .bind(CA_ROOT_FINGERPRINT)
                .fetch_one(&self.readers)
                .await?;
        Ok((recorded != fingerprint).then_some(recorded))
    }
}
