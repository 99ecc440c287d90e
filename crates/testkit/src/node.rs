//! Nodes: the real `splitid serve --demo` on a free port, killed when dropped, with the admin
//! tool and the database of its data directory.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;

use serde_json::Value;
use splitid_domain::store::{DatabaseConfig, Store};

use crate::database::{
    ScratchDatabase, postgres_config, scratch_database_blocking, tests_use_postgres,
};
use crate::output::assert_success;

/// The support person `Server::admin` acts as.
pub const ADMIN_OPERATOR: &str = "support-ann";

/// The `splitid` binary that `cargo test` built beside the running test (Cargo tells only an
/// integration test of its own package where it is; the test runs in `target/<profile>/deps`).
pub fn splitid_binary() -> PathBuf {
    let test = std::env::current_exe().expect("the test's own path");
    let mut dir = test.parent().expect("a directory").to_owned();
    if dir.ends_with("deps") {
        dir.pop();
    }
    let binary = dir.join(format!("splitid{}", std::env::consts::EXE_SUFFIX));
    assert!(
        binary.exists(),
        "{} is missing: run the tests with cargo test (which builds it)",
        binary.display()
    );
    binary
}

/// A running `splitid serve --demo`, killed when dropped. Its database is SQLite in its data
/// directory, or, when `SPLITID_TEST_DATABASE=postgres`, a scratch PostgreSQL database of its
/// own (shared with the other nodes of a [`Cluster`]).
pub struct Server {
    child: Child,
    pub url: String,
    pub data: Arc<tempfile::TempDir>,
    pub database: Option<Arc<ScratchDatabase>>,
    listen: String,
    extra: Vec<String>,
    /// Environment variables for the server and the admin tool (e.g. the PKCS#11 key store's).
    env: Vec<(String, String)>,
}

/// Several nodes on one PostgreSQL database (always PostgreSQL, whatever the tests run on),
/// sharing the data directory that holds the key-encryption key and the CA.
pub struct Cluster {
    pub nodes: Vec<Server>,
}

impl Cluster {
    pub fn start(nodes: usize, extra: &[&str]) -> Cluster {
        let data = Arc::new(tempfile::tempdir().unwrap());
        let database = Arc::new(scratch_database_blocking());
        // The first node makes the CA and the key-encryption key; the others then find them.
        let nodes = (0..nodes)
            .map(|_| Server::start_on(data.clone(), Some(database.clone()), extra, &[]))
            .collect();
        Cluster { nodes }
    }
}

impl Server {
    /// CPU time the server process has used so far (user + system, every thread), from
    /// `/proc` (Linux; its clock ticks are 1/100 s).
    pub fn cpu_time(&self) -> std::time::Duration {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap();
        // Fields after the command name (which may hold spaces) start at its closing ')'.
        let after = &stat[stat.rfind(')').unwrap() + 2..];
        let fields: Vec<u64> = after
            .split(' ')
            .skip(11)
            .take(2)
            .map(|field| field.parse().unwrap())
            .collect();
        std::time::Duration::from_millis((fields[0] + fields[1]) * 10)
    }

    /// Starts a demo server accepting 2048-bit halves (fast keys for tests) with a test clock.
    pub fn start(extra: &[&str]) -> Server {
        Self::start_with_env(extra, &[])
    }

    /// Like [`start`](Self::start), with environment variables for the server (and for
    /// [`admin`](Self::admin), which opens the same data directory).
    pub fn start_with_env(extra: &[&str], env: &[(&str, &str)]) -> Server {
        let database = tests_use_postgres().then(|| Arc::new(scratch_database_blocking()));
        Server::start_on(Arc::new(tempfile::tempdir().unwrap()), database, extra, env)
    }

    /// Starts a demo server on a data directory and database that already hold a service's
    /// state (a fixture made by older code, say).
    pub fn start_on_existing(
        data: tempfile::TempDir,
        database: Option<ScratchDatabase>,
        extra: &[&str],
    ) -> Server {
        Server::start_on(Arc::new(data), database.map(Arc::new), extra, &[])
    }

    /// How the server reaches its database.
    pub fn database_config(&self) -> DatabaseConfig {
        match &self.database {
            Some(database) => postgres_config(database, 2),
            None => DatabaseConfig::SqliteIn(self.data.path().to_owned()),
        }
    }

    fn start_on(
        data: Arc<tempfile::TempDir>,
        database: Option<Arc<ScratchDatabase>>,
        extra: &[&str],
        env: &[(&str, &str)],
    ) -> Server {
        let mut extra: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
        if let Some(database) = &database {
            extra.extend(["--database".to_owned(), database.url().to_owned()]);
        }
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let (child, url) = spawn_server(data.path(), "127.0.0.1:0", &extra, &env);
        let listen = url.split("://").nth(1).unwrap_or_default().to_owned();
        Server {
            child,
            url,
            data,
            database,
            listen,
            extra,
            env,
        }
    }

    /// Sends the server process a signal (`HUP`, …) with `kill`.
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.child.id().to_string())
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Whether the server process has ended (a crash point aborted it, say).
    pub fn has_exited(&mut self) -> bool {
        self.child.try_wait().unwrap().is_some()
    }

    /// The server's database, opened from the test (as another process would).
    pub async fn open_store(&self) -> Store {
        Store::open_configured(&self.database_config())
            .await
            .unwrap()
    }

    /// Runs `work` on the server's database, from a runtime of its own.
    pub fn with_store<T>(&self, work: impl AsyncFnOnce(Store) -> T) -> T {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move { work(self.open_store().await).await })
    }

    /// Stops the server, keeping its data directory.
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Kills the server (as a crash would) and starts it again on the same data and port.
    pub fn restart(&mut self) {
        // It may have crashed already (a crash point).
        let _ = self.child.kill();
        self.child.wait().unwrap();
        let (child, _) = spawn_server(self.data.path(), &self.listen, &self.extra, &self.env);
        self.child = child;
    }

    /// The usage (billing) counts, read straight from the server's database: every completed
    /// session is counted once, so an unchanged list means no session completed meanwhile.
    pub fn usage_counts(&self) -> Vec<(String, String, u64)> {
        let counts = self.with_store(async |store| store.usage_counts().await.unwrap());
        counts
            .into_iter()
            .map(|c| (c.kind, c.end_result, c.count))
            .collect()
    }

    /// The reason a certificate was revoked with, read from the server's database, or `None`
    /// while it is good.
    pub fn revocation_reason(&self, certificate: &[u8]) -> Option<String> {
        let serial = splitid_pki::parse_identity(certificate)
            .unwrap()
            .serial
            .to_hex()
            .to_lowercase();
        self.with_store(async |store| {
            store
                .revocation(&serial)
                .await
                .unwrap()
                .map(|r| r.reason.to_owned())
        })
    }

    /// `splitid admin --data DIR --operator support-ann ARGS` on this server's data directory.
    pub fn admin(&self, args: &[&str]) -> Output {
        let database = self.database.iter().flat_map(|db| ["--database", db.url()]);
        Command::new(splitid_binary())
            .arg("admin")
            .arg("--data")
            .arg(self.data.path())
            .args(database)
            .args(["--operator", ADMIN_OPERATOR])
            .args(args)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .output()
            .expect("run splitid admin")
    }

    /// `splitid admin --json ARGS`, which must succeed; its JSON answer.
    pub fn admin_json(&self, args: &[&str]) -> Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let output = self.admin(&all);
        assert_success(&output);
        serde_json::from_slice(&output.stdout).unwrap()
    }

    /// Moves the server's clock forward.
    pub fn advance_clock(&self, seconds: i64) {
        let status = reqwest::blocking::Client::new()
            .post(format!("{}/test/clock/advance?seconds={seconds}", self.url))
            .send()
            .map(|r| r.status().as_u16())
            .unwrap_or(0);
        assert_eq!(status, 200, "the test clock did not move");
    }
}

/// Starts `splitid serve` on `listen` (port 0: the server picks a free one) and returns it
/// with the URL it listens at, read from its banner: no other process can take the port
/// between choosing and binding it, as with a port chosen by the test.
fn spawn_server(
    data: &Path,
    listen: &str,
    extra: &[String],
    env: &[(String, String)],
) -> (Child, String) {
    let mut child = Command::new(splitid_binary())
        .args([
            "serve",
            "--demo",
            "--allow-2048",
            "--test-clock",
            "--listen",
            listen,
            "--data",
        ])
        .arg(data)
        .args(extra)
        .env("RUST_LOG", "warn")
        // The demo's self-answering phone registers nine accounts: only for the tests of it.
        .env("SPLITID_DEMO_PHONE", "false")
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start splitid serve");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let address = loop {
        match lines.next() {
            Some(Ok(line)) => {
                if let Some(rest) = line.strip_prefix("SplitID is listening on ") {
                    break rest.split_whitespace().next().unwrap().to_owned();
                }
            }
            _ => panic!("splitid serve stopped before it listened (its error is above)"),
        }
    };
    // The rest of the banner, and anything after it, is not read by anyone.
    std::thread::spawn(move || lines.for_each(drop));
    (child, address)
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `splitid serve --demo` on a data directory with a configuration file, expected to stop at
/// once (a refused configuration): its output.
pub fn serve_refusing(data: &Path, config: &Path) -> Output {
    Command::new(splitid_binary())
        .args(["serve", "--demo", "--listen", "127.0.0.1:0", "--data"])
        .arg(data)
        .arg("--config")
        .arg(config)
        .output()
        .unwrap()
}
