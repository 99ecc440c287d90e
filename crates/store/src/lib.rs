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

mod accounts;
mod audit;
mod channel_keys;
mod events;
mod health;
mod keys;
mod limits;
mod locks;
mod push;
mod records;
mod registrations;
mod relying_parties;
mod revocations;
#[cfg(any(test, feature = "test-support"))]
pub mod scratch;
mod sessions;
#[cfg(test)]
mod test_records;
mod web_sessions;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Executor, Row};
use thiserror::Error;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

pub use channel_keys::ChannelKeyRecord;
pub use events::{Event, EventListener, Heard};
pub use locks::{AccountLock, Serialised};
pub use push::{PushSubscriptionRecord, VapidKeyRecord};
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
    #[error("database file {0}")]
    Io(String),
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

/// Makes the database file (created empty if missing) and its journal files readable by
/// their owner only: they hold the accounts and the channel's state. SQLite creates the WAL
/// and shared-memory files with the database file's permissions.
fn keep_private(database: &Path) -> Result<(), StoreError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        let io = |e: std::io::Error| StoreError::Io(format!("{}: {e}", database.display()));
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(database)
            .map_err(io)?;
        for suffix in ["", "-wal", "-shm"] {
            let path = database.with_file_name(format!(
                "{}{suffix}",
                database.file_name().unwrap_or_default().to_string_lossy()
            ));
            if path.exists() {
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
                    .map_err(io)?;
            }
        }
    }
    Ok(())
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
        let file = data_dir.join(DATABASE_FILE);
        keep_private(&file)?;
        Self::connect_sqlite(&sqlite_url(&file), true).await
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
}

fn json_column<T: serde::de::DeserializeOwned>(
    row: &AnyRow,
    column: &str,
) -> Result<T, StoreError> {
    let text: String = row.try_get(column)?;
    serde_json::from_str(&text).map_err(damaged)
}
