//! Storage: the only crate that knows SQL.
//!
//! Two backends behind one set of methods and one set of queries (sqlx's `Any` driver, with
//! portable SQL and `$n` placeholders, which SQLite accepts too):
//!
//! - **SQLite**, the embedded default: one file in the data directory, write-ahead log,
//!   `synchronous = FULL` so a committed transaction survives a crash; one node owns it. One
//!   connection writes (SQLite has one writer anyway); reads that are not part of a write
//!   transaction go to a few read-only connections, which the write-ahead log lets read the
//!   last commit while the writer works, so a read never queues behind another request's
//!   commit and its `fsync`.
//! - **PostgreSQL** (`--database postgres://…`), for many stateless nodes on one database:
//!   its own migrations, a connection pool, advisory locks that serialise an account's PIN
//!   attempts and app channel across nodes ([`locks`]), and LISTEN/NOTIFY to wake long polls
//!   on other nodes ([`events`]).
//!
//! Every state change of a request is one transaction. Times are RFC 3339 text in UTC on both
//! backends, so the queries compare them the same way.

mod audit;
mod events;
mod health;
mod limits;
mod locks;
mod records;
#[cfg(any(test, feature = "test-support"))]
pub mod scratch;
mod web_sessions;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use sqlx::AnyConnection;
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Executor, Row};
use thiserror::Error;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

pub use events::{Event, EventListener, Heard};
pub use locks::{AccountLock, Serialised};
pub use records::*;
pub use web_sessions::StoredWebSession;

/// The database file in the data directory.
pub const DATABASE_FILE: &str = "splitid.sqlite";

/// Connections per node to PostgreSQL, unless configured.
pub const DEFAULT_POSTGRES_CONNECTIONS: u32 = 16;

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database migration: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("stored data is damaged: {0}")]
    Damaged(String),
    #[error("unsupported database URL {0:?}: use postgres://… (or leave it out for SQLite)")]
    UnsupportedUrl(String),
    /// A channel move found the channel already moved on by another request of the same app.
    #[error("another request of this app moved the channel on; retry")]
    ChannelMoved,
}

fn damaged(what: impl std::fmt::Display) -> StoreError {
    StoreError::Damaged(what.to_string())
}

/// Which database a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Where the service keeps its data: the SQLite file in the data directory (the default), or
/// a PostgreSQL database shared by every node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseConfig {
    SqliteIn(std::path::PathBuf),
    Postgres { url: String, max_connections: u32 },
}

impl DatabaseConfig {
    /// From the `--database` setting: `None` for SQLite in `data_dir`, or a `postgres://` URL.
    pub fn from_setting(
        url: Option<&str>,
        data_dir: &Path,
        max_connections: Option<u32>,
    ) -> Result<Self, StoreError> {
        match url {
            None => Ok(DatabaseConfig::SqliteIn(data_dir.to_owned())),
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                Ok(DatabaseConfig::Postgres {
                    url: url.to_owned(),
                    max_connections: max_connections.unwrap_or(DEFAULT_POSTGRES_CONNECTIONS),
                })
            }
            Some(other) => Err(StoreError::UnsupportedUrl(redact_password(other))),
        }
    }
}

/// A database URL fit for messages and logs: any password replaced by `***`.
pub fn redact_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    match authority.rsplit_once('@') {
        Some((user_info, host)) if user_info.contains(':') => {
            let user = user_info.split(':').next().unwrap_or("");
            format!("{scheme}://{user}:***@{host}/{path}")
        }
        _ => url.to_owned(),
    }
}

/// The database.
#[derive(Clone)]
pub struct Store {
    /// Writes, and every transaction (the one SQLite connection that may write).
    pool: AnyPool,
    /// Reads outside a transaction: read-only connections on SQLite (a file database), the
    /// same pool otherwise. A read here sees every commit that finished before it started.
    readers: AnyPool,
    backend: Backend,
    /// The PostgreSQL URL, for the LISTEN connection (which is not a pool connection).
    postgres_url: Option<Arc<str>>,
    /// PostgreSQL: the connections that hold accounts' advisory locks (see [`locks`]).
    lock_pool: Option<AnyPool>,
    local_locks: Arc<locks::LocalLocks>,
}

pub(crate) fn format_time(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).expect("UTC times format as RFC 3339")
}

pub(crate) fn parse_time(text: &str) -> Result<OffsetDateTime, StoreError> {
    OffsetDateTime::parse(text, &Rfc3339).map_err(damaged)
}

fn parse_optional_time(text: Option<String>) -> Result<Option<OffsetDateTime>, StoreError> {
    text.as_deref().map(parse_time).transpose()
}

async fn write_pin_counter(
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

async fn write_right_pin(
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

/// Moves an app channel on if it is still at the expected token; false if it was not.
async fn write_channel_advance(
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

fn parse_uuid(text: &str) -> Result<Uuid, StoreError> {
    Uuid::parse_str(text).map_err(damaged)
}

/// A yes/no column: BOOLEAN on PostgreSQL, 0/1 on SQLite.
fn flag(row: &AnyRow, column: &str) -> Result<bool, StoreError> {
    match row.try_get::<bool, _>(column) {
        Ok(value) => Ok(value),
        Err(_) => Ok(row.try_get::<i64, _>(column)? != 0),
    }
}

/// A SQLite file name as a URL path (sqlx percent-decodes it).
fn sqlite_url(path: &Path) -> String {
    let path = path.display().to_string();
    let escaped = path
        .replace('%', "%25")
        .replace('?', "%3F")
        .replace('#', "%23");
    format!("sqlite://{escaped}?mode=rwc")
}

/// Read-only SQLite connections per node: enough that reads never wait for one another on
/// a few cores; each is a thread of its own in sqlx.
const SQLITE_READERS: u32 = 4;

/// The settings of a file database, for every connection (WAL mode is the file's, but
/// `synchronous` is per connection).
const FILE_PRAGMAS: &str = "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;";

/// A pool of SQLite connections with the service's settings, plus `pragmas`.
fn sqlite_pool(connections: u32, pragmas: &'static str) -> AnyPoolOptions {
    AnyPoolOptions::new()
        .max_connections(connections)
        .idle_timeout(None)
        .max_lifetime(None)
        // An embedded database's connection cannot drop, and the ping that checks it before
        // each use is a round trip to SQLite's worker thread for every query.
        .test_before_acquire(false)
        .after_connect(move |connection, _| {
            Box::pin(async move {
                connection
                    .execute("PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000;")
                    .await?;
                if !pragmas.is_empty() {
                    connection.execute(pragmas).await?;
                }
                Ok(())
            })
        })
}

impl Store {
    /// Opens the configured database, creating it if needed, and applies migrations.
    pub async fn open_configured(config: &DatabaseConfig) -> Result<Self, StoreError> {
        match config {
            DatabaseConfig::SqliteIn(data_dir) => Self::open(data_dir).await,
            DatabaseConfig::Postgres {
                url,
                max_connections,
            } => Self::connect_postgres(url, *max_connections).await,
        }
    }

    /// Opens (creating if needed) the SQLite database in `data_dir` and applies migrations.
    pub async fn open(data_dir: &Path) -> Result<Self, StoreError> {
        Self::connect_sqlite(&sqlite_url(&data_dir.join(DATABASE_FILE)), true).await
    }

    /// A private in-memory SQLite database (tests).
    pub async fn in_memory() -> Result<Self, StoreError> {
        Self::connect_sqlite("sqlite::memory:", false).await
    }

    async fn connect_sqlite(url: &str, file: bool) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        // One writer at a time is SQLite's model; a single connection (kept for good, which
        // an in-memory database needs) also serialises every read-modify-write.
        let pool = sqlite_pool(1, if file { FILE_PRAGMAS } else { "" })
            .connect(url)
            .await?;
        sqlx::migrate!("migrations/sqlite").run(&pool).await?;
        // An in-memory database is private to its one connection: it reads there too.
        let readers = if file {
            sqlite_pool(SQLITE_READERS, "PRAGMA query_only = ON;").connect_lazy(url)?
        } else {
            pool.clone()
        };
        let mut store = Self::new(pool, Backend::Sqlite);
        store.readers = readers;
        Ok(store)
    }

    /// Connects to PostgreSQL and applies migrations (concurrent starts are safe: sqlx takes
    /// an advisory lock for the migration).
    pub async fn connect_postgres(url: &str, max_connections: u32) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        let pool = AnyPoolOptions::new()
            .max_connections(max_connections.max(2))
            .acquire_timeout(Duration::from_secs(10))
            .connect(url)
            .await?;
        sqlx::migrate!("migrations/postgres").run(&pool).await?;
        let lock_pool = AnyPoolOptions::new()
            .max_connections(max_connections.max(2))
            .connect_lazy(url)?;
        let mut store = Self::new(pool, Backend::Postgres);
        store.postgres_url = Some(url.into());
        store.lock_pool = Some(lock_pool);
        Ok(store)
    }

    fn new(pool: AnyPool, backend: Backend) -> Self {
        Store {
            readers: pool.clone(),
            pool,
            backend,
            postgres_url: None,
            lock_pool: None,
            local_locks: Arc::default(),
        }
    }

    /// A fresh database on the backend the tests run on (see [`scratch`]), with the scratch
    /// database to keep while it is used.
    #[cfg(test)]
    pub(crate) async fn for_tests() -> (Self, Option<scratch::ScratchDatabase>) {
        if scratch::tests_use_postgres() {
            let database = scratch::ScratchDatabase::create().await.unwrap();
            let store = Self::connect_postgres(database.url(), 4).await.unwrap();
            (store, Some(database))
        } else {
            (Self::in_memory().await.unwrap(), None)
        }
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    // ---- relying parties -------------------------------------------------------------

    /// Adds or replaces a relying party.
    pub async fn put_relying_party(
        &self,
        rp: &RelyingPartyRecord,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO relying_parties (uuid, names, allowed_levels, ip_ranges, enabled, created_at)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (uuid) DO UPDATE SET names = excluded.names,
                 allowed_levels = excluded.allowed_levels, ip_ranges = excluded.ip_ranges,
                 enabled = excluded.enabled",
        )
        .bind(rp.uuid.to_string())
        .bind(serde_json::to_string(&rp.names).map_err(damaged)?)
        .bind(serde_json::to_string(&rp.allowed_levels).map_err(damaged)?)
        .bind(serde_json::to_string(&rp.ip_ranges).map_err(damaged)?)
        .bind(rp.enabled)
        .bind(format_time(now))
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
        for event in audit {
            audit::append(&mut tx, event).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

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

    /// Moves the app channel's ratchet on, if it is still where the caller found it
    /// (compare-and-swap on the current token). Returns false when another request won.
    pub async fn advance_channel(&self, advance: &ChannelAdvance) -> Result<bool, StoreError> {
        let mut connection = self.pool.acquire().await?;
        write_channel_advance(&mut connection, advance).await
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
        let result = sqlx::query(
            "UPDATE proofing_challenges SET vouched_by = $1
             WHERE id = $2 AND vouched_by IS NULL AND used_at IS NULL AND expires_at > $3",
        )
        .bind(account.to_string())
        .bind(id.to_string())
        .bind(format_time(now))
        .execute(&self.pool)
        .await?;
        Ok(result.rows_affected() == 1)
    }

    /// Records the login session that asks an account's device to vouch for a challenge
    /// (replacing an earlier one); false if the challenge is used, expired or vouched for.
    pub async fn set_vouch_session(
        &self,
        id: Uuid,
        session: Uuid,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let result = sqlx::query(
            "UPDATE proofing_challenges SET vouch_session = $1
             WHERE id = $2 AND vouched_by IS NULL AND used_at IS NULL AND expires_at > $3",
        )
        .bind(session.to_string())
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

    // ---- sessions ----------------------------------------------------------------------

    /// Stores a new session and the accounts it is sent to, in one transaction.
    pub async fn insert_session(
        &self,
        session: &SessionRecord,
        targets: &[Uuid],
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO sessions (id, rp_uuid, kind, request, fingerprint, state, result, created_at, deadline, completed_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
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

fn revocation_reason(text: String) -> Result<&'static str, StoreError> {
    REVOCATION_REASONS
        .iter()
        .find(|reason| **reason == text)
        .copied()
        .ok_or_else(|| damaged(format!("unknown revocation reason {text:?}")))
}

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

fn revocation_from_row(row: &AnyRow) -> Result<Revocation, StoreError> {
    Ok(Revocation {
        serial: row.try_get("serial")?,
        purpose: KeyPurpose::parse(row.try_get("purpose")?)?,
        reason: revocation_reason(row.try_get("reason")?)?,
        revoked_at: parse_time(row.try_get("revoked_at")?)?,
    })
}

fn json_column<T: serde::de::DeserializeOwned>(
    row: &AnyRow,
    column: &str,
) -> Result<T, StoreError> {
    let text: String = row.try_get(column)?;
    serde_json::from_str(&text).map_err(damaged)
}

fn relying_party_from_row(row: &AnyRow) -> Result<RelyingPartyRecord, StoreError> {
    Ok(RelyingPartyRecord {
        uuid: parse_uuid(row.try_get("uuid")?)?,
        names: json_column(row, "names")?,
        allowed_levels: json_column(row, "allowed_levels")?,
        ip_ranges: json_column(row, "ip_ranges")?,
        enabled: flag(row, "enabled")?,
    })
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
    })
}
