//! The database the tests run on: SQLite in each node's data directory (the default), or, with
//! `SPLITID_TEST_DATABASE=postgres`, a scratch PostgreSQL database of each node's own on the
//! server `SPLITID_TEST_POSTGRES` names.

use splitid_domain::store::DatabaseConfig;
pub use splitid_domain::store::scratch::{ScratchDatabase, run_script, tests_use_postgres};

const NO_POSTGRES: &str =
    "a scratch PostgreSQL database (is PostgreSQL running? see SPLITID_TEST_POSTGRES)";

/// A new scratch PostgreSQL database, from async code.
pub async fn scratch_database() -> ScratchDatabase {
    ScratchDatabase::create().await.expect(NO_POSTGRES)
}

/// A new scratch PostgreSQL database, from blocking code.
pub fn scratch_database_blocking() -> ScratchDatabase {
    ScratchDatabase::create_blocking().expect(NO_POSTGRES)
}

/// How a process reaches a scratch database (`connections` at most).
pub fn postgres_config(database: &ScratchDatabase, connections: u32) -> DatabaseConfig {
    DatabaseConfig::Postgres {
        url: database.url().to_owned(),
        max_connections: connections,
    }
}
