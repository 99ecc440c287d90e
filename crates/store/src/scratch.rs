//! Throw-away PostgreSQL databases, for tests and measurements that need a real server: each
//! gets its own database, created on demand and dropped afterwards.

use sqlx::Executor;
use sqlx::any::AnyPoolOptions;
use uuid::Uuid;

use super::StoreError;

/// The environment variable that picks the database the tests run on: `postgres`, or
/// (unset, `sqlite`) the embedded default.
pub const TEST_DATABASE_VARIABLE: &str = "SPLITID_TEST_DATABASE";
/// The PostgreSQL server for scratch databases: the URL of any database on it, whose user may
/// create databases [default: `postgres://postgres@127.0.0.1:5432/postgres`].
pub const TEST_POSTGRES_VARIABLE: &str = "SPLITID_TEST_POSTGRES";
const DEFAULT_SERVER: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// Whether the tests are asked to run on PostgreSQL.
pub fn tests_use_postgres() -> bool {
    match std::env::var(TEST_DATABASE_VARIABLE).as_deref() {
        Ok("postgres") | Ok("postgresql") => true,
        Ok("") | Ok("sqlite") | Err(_) => false,
        Ok(other) => panic!("{TEST_DATABASE_VARIABLE}={other:?}: use postgres or sqlite"),
    }
}

/// A database of its own on the test PostgreSQL server, dropped with this value.
pub struct ScratchDatabase {
    server: String,
    name: String,
    url: String,
}

fn server_url() -> String {
    std::env::var(TEST_POSTGRES_VARIABLE).unwrap_or_else(|_| DEFAULT_SERVER.to_owned())
}

/// `url` with its database name replaced by `name`.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_end = base
        .find("://")
        .map(|scheme| scheme + 3)
        .and_then(|start| base[start..].find('/').map(|slash| start + slash))
        .unwrap_or(base.len());
    let mut out = format!("{}/{name}", &base[..authority_end]);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

async fn on_server(server: &str, statement: String) -> Result<(), StoreError> {
    sqlx::any::install_default_drivers();
    let pool = AnyPoolOptions::new()
        .max_connections(1)
        .connect(server)
        .await?;
    pool.execute(sqlx::AssertSqlSafe(statement)).await?;
    pool.close().await;
    Ok(())
}

impl ScratchDatabase {
    pub async fn create() -> Result<Self, StoreError> {
        let server = server_url();
        let name = format!("splitid_test_{}", Uuid::new_v4().simple());
        on_server(&server, format!("CREATE DATABASE {name}")).await?;
        let url = with_database(&server, &name);
        Ok(ScratchDatabase { server, name, url })
    }

    /// Blocking [`create`](Self::create), for synchronous tests.
    pub fn create_blocking() -> Result<Self, StoreError> {
        run_blocking(Self::create())
    }

    /// The database's URL.
    pub fn url(&self) -> &str {
        &self.url
    }
}

/// Runs a future to completion on a runtime of its own, on a thread of its own (so it works
/// inside or outside another runtime, and in `Drop`).
fn run_blocking<T: Send + 'static>(
    work: impl std::future::Future<Output = T> + Send + 'static,
) -> T {
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime for a scratch database")
            .block_on(work)
    })
    .join()
    .expect("the scratch database thread")
}

impl Drop for ScratchDatabase {
    fn drop(&mut self) {
        let statement = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        let server = self.server.clone();
        if let Err(error) = run_blocking(async move { on_server(&server, statement).await }) {
            eprintln!("could not drop scratch database {}: {error}", self.name);
        }
    }
}

/// Runs an SQL script on a database as it stands, without migrating it first: a fixture's
/// dump, or a test's change to a database made by older code before today's code opens it.
pub async fn run_script(database: &super::DatabaseConfig, script: &str) -> Result<(), StoreError> {
    let url = match database {
        super::DatabaseConfig::SqliteIn(dir) => {
            format!("sqlite://{}", dir.join(super::DATABASE_FILE).display())
        }
        super::DatabaseConfig::Postgres { url, .. } => url.clone(),
    };
    on_server(&url, script.to_owned()).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_name_is_replaced() {
        assert_eq!(
            with_database("postgres://u:p@h:5432/postgres", "x"),
            "postgres://u:p@h:5432/x"
        );
        assert_eq!(with_database("postgres://h", "x"), "postgres://h/x");
        assert_eq!(
            with_database("postgres://h/db?sslmode=disable", "x"),
            "postgres://h/x?sslmode=disable"
        );
    }
}
