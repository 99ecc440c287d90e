//! End-to-end harness: the real `splitid serve` on a free port, the real `splitid app` as the
//! phone, and an HTTP client as the relying party.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use splitid_server::store::scratch::{ScratchDatabase, tests_use_postgres};
use splitid_server::store::{DatabaseConfig, Store};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Value, json};

pub const DEMO_RP_UUID: &str = "00000000-0000-4000-8000-000000000000";
/// The support person `Server::admin` acts as.
pub const ADMIN_OPERATOR: &str = "support-ann";

pub fn splitid_binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_splitid"))
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
        let database = Arc::new(ScratchDatabase::create_blocking().expect(
            "a scratch PostgreSQL database (is PostgreSQL running? see SPLITID_TEST_POSTGRES)",
        ));
        // The first node makes the CA and the key-encryption key; the others then find them.
        let nodes = (0..nodes)
            .map(|_| Server::start_on(data.clone(), Some(database.clone()), extra, &[]))
            .collect();
        Cluster { nodes }
    }
}

impl Server {
    /// Starts a demo server accepting 2048-bit halves (fast keys for tests) with a test clock.
    pub fn start(extra: &[&str]) -> Server {
        Self::start_with_env(extra, &[])
    }

    /// Like [`start`](Self::start), with environment variables for the server (and for
    /// [`admin`](Self::admin), which opens the same data directory).
    pub fn start_with_env(extra: &[&str], env: &[(&str, &str)]) -> Server {
        let database = tests_use_postgres().then(|| {
            Arc::new(ScratchDatabase::create_blocking().expect(
                "a scratch PostgreSQL database (is PostgreSQL running? see SPLITID_TEST_POSTGRES)",
            ))
        });
        Server::start_on(Arc::new(tempfile::tempdir().unwrap()), database, extra, env)
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
        let (child, listen) = spawn_server(data.path(), "127.0.0.1:0", &extra, &env);
        Server {
            child,
            url: format!("http://{listen}"),
            data,
            database,
            listen,
            extra,
            env,
        }
    }

    /// The server's database, opened from the test (as another process would).
    pub async fn open_store(&self) -> Store {
        let config = match &self.database {
            Some(database) => DatabaseConfig::Postgres {
                url: database.url().to_owned(),
                max_connections: 2,
            },
            None => DatabaseConfig::SqliteIn(self.data.path().to_owned()),
        };
        Store::open_configured(&config).await.unwrap()
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
        self.child.kill().unwrap();
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
        let response = reqwest::blocking_post(&format!(
            "{}/test/clock/advance?seconds={seconds}",
            self.url
        ));
        assert_eq!(response, 200);
    }
}

/// Starts `splitid serve` on `listen` (port 0: the server picks a free one) and returns it
/// with the address it listens on, read from its banner: no other process can take the port
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
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start splitid serve");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let address = loop {
        match lines.next() {
            Some(Ok(line)) => {
                if let Some(rest) = line.strip_prefix("SplitID is listening on http://") {
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

/// A phone: `splitid app` on its own home directory.
pub struct Phone {
    pub home: tempfile::TempDir,
}

impl Phone {
    pub fn new() -> Phone {
        Phone {
            home: tempfile::tempdir().unwrap(),
        }
    }

    /// Runs `splitid app --home HOME ARGS…` with `stdin` as its input (PINs, one per line).
    pub fn run(&self, args: &[&str], stdin: &str) -> Output {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        run_app(self.home.path(), &args, stdin)
    }

    /// Like [`run`](Self::run), in the background.
    pub fn spawn(&self, args: &[&str], stdin: &str) -> std::thread::JoinHandle<Output> {
        let home = self.home.path().to_owned();
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let stdin = stdin.to_owned();
        std::thread::spawn(move || run_app(&home, &args, &stdin))
    }

    /// A certificate of an account on this phone (`authentication` or `signing`), as stored
    /// in its vault.
    pub fn certificate(&self, document: &str, purpose: &str) -> Vec<u8> {
        let vault: Value =
            serde_json::from_slice(&std::fs::read(self.home.path().join("vault.json")).unwrap())
                .unwrap();
        let account = vault["accounts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["documentNumber"] == document)
            .unwrap_or_else(|| panic!("{document} is not on this phone"));
        BASE64
            .decode(account[format!("{purpose}Certificate")].as_str().unwrap())
            .unwrap()
    }

    /// Sends this phone's next requests to `server`, as a load balancer in front of several
    /// nodes may: every account in its vault now talks to that node.
    pub fn use_server(&self, server: &Server) {
        let path = self.home.path().join("vault.json");
        let mut vault: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        for account in vault["accounts"].as_array_mut().unwrap() {
            account["server"] = Value::String(server.url.clone());
        }
        std::fs::write(&path, vault.to_string()).unwrap();
    }

    /// Registers with PIN1 and PIN2; returns the document number.
    pub fn register(&self, server: &Server, identity: &str, pin1: &str, pin2: &str) -> String {
        let output = self.try_register(server, identity, &[], &format!("{pin1}\n{pin2}\n"));
        assert_success(&output);
        let value: Value = serde_json::from_slice(&output.stdout).unwrap();
        value["documentNumber"].as_str().unwrap().to_owned()
    }
}

impl Phone {
    /// `--json register` with 2048-bit halves (fast), `extra` arguments and `pins` as input,
    /// whatever its outcome.
    pub fn try_register(
        &self,
        server: &Server,
        identity: &str,
        extra: &[&str],
        pins: &str,
    ) -> Output {
        let mut args = vec![
            "--json",
            "register",
            "--server",
            &server.url,
            "--identity",
            identity,
            "--given-name",
            "MARY",
            "--surname",
            "ÄNN",
            "--half-bits",
            "2048",
        ];
        args.extend_from_slice(extra);
        self.run(&args, pins)
    }

    /// `check --json`: the transactions waiting on this device (each with `documentNumber` and
    /// `transaction`).
    pub fn pending(&self) -> Vec<Value> {
        self.json_list(&["--json", "check"])
    }

    /// Waits up to `seconds` for a transaction and returns the first one's `transaction`.
    pub fn wait_for_transaction(&self, seconds: u64) -> Value {
        let output = self.run(&["--json", "check", "--wait", &seconds.to_string()], "");
        assert_success(&output);
        let list: Value = serde_json::from_slice(&output.stdout).unwrap();
        list[0]["transaction"].clone()
    }

    /// `accounts --json`: each account with the server's view (`status.pin1`, `status.state`…).
    pub fn accounts(&self) -> Vec<Value> {
        self.json_list(&["--json", "accounts"])
    }

    /// Runs a `--json` command that answers with a list, and returns it.
    fn json_list(&self, args: &[&str]) -> Vec<Value> {
        let output = self.run(args, "");
        assert_success(&output);
        let value: Value = serde_json::from_slice(&output.stdout).unwrap();
        value.as_array().unwrap().clone()
    }

    /// The server's status of the account with this document number.
    pub fn account_status(&self, document: &str) -> Value {
        self.accounts()
            .into_iter()
            .find(|a| a["documentNumber"] == document)
            .unwrap_or_else(|| panic!("no account {document} on this phone"))["status"]
            .clone()
    }

    /// `confirm --next` with `stdin` as PIN input; `extra` adds options (e.g. `--vc`).
    pub fn confirm_next(&self, extra: &[&str], stdin: &str) -> Output {
        let mut args = vec!["--json", "confirm", "--next", "--wait", "10"];
        args.extend_from_slice(extra);
        self.run(&args, stdin)
    }
}

fn run_app(home: &Path, args: &[String], stdin: &str) -> Output {
    let mut child = Command::new(splitid_binary())
        .arg("app")
        .arg("--home")
        .arg(home)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The command may exit before reading all its input (for example on a usage error).
    let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
    child.wait_with_output().unwrap()
}

/// The `openssl` command, the independent verifier of certificates, CRLs and OCSP answers.
pub fn openssl(args: &[&str]) -> Output {
    Command::new("/usr/bin/openssl")
        .args(args)
        .output()
        .expect("run openssl")
}

/// Writes `der` as PEM at `out` with openssl (`kind`: x509 or crl), keeping the DER beside it.
pub fn der_to_pem(der: &[u8], kind: &str, out: &Path) {
    let der_path = out.with_extension("der");
    std::fs::write(&der_path, der).unwrap();
    assert_success(&openssl(&[
        kind,
        "-inform",
        "DER",
        "-in",
        der_path.to_str().unwrap(),
        "-out",
        out.to_str().unwrap(),
    ]));
}

/// stdout and stderr together (openssl prints verification results on stderr).
pub fn all_output(output: &Output) -> String {
    format!("{}{}", stdout(output), stderr(output))
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

pub fn assert_success(output: &Output) {
    assert!(
        output.status.success(),
        "command failed\nstdout: {}\nstderr: {}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The relying party.
pub struct RelyingParty {
    pub base: String,
    http: reqwest::blocking::Client,
}

/// A minimal blocking POST for the test clock.
mod reqwest {
    pub use ::reqwest::*;
    pub fn blocking_post(url: &str) -> u16 {
        blocking::Client::new()
            .post(url)
            .send()
            .map(|r| r.status().as_u16())
            .unwrap_or(0)
    }
}

impl RelyingParty {
    pub fn new(server: &Server) -> Self {
        RelyingParty {
            base: format!("{}/v2", server.url),
            http: reqwest::blocking::Client::new(),
        }
    }

    /// POSTs `body` to `path`; returns the status and the JSON answer.
    pub fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .json(body)
            .send()
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().unwrap_or(Value::Null))
    }

    pub fn post_raw(&self, path: &str, body: &str) -> (u16, Value) {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .header("Content-Type", "application/json")
            .body(body.to_owned())
            .send()
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().unwrap_or(Value::Null))
    }

    /// GETs `path` (under `/v2`); returns the status and the JSON answer.
    pub fn get(&self, path: &str) -> (u16, Value) {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().unwrap_or(Value::Null))
    }

    /// Starts a session; panics unless it is created.
    pub fn start(&self, path: &str, body: &Value) -> String {
        let (status, answer) = self.post(path, body);
        assert_eq!(status, 200, "{path}: {answer}");
        answer["sessionID"].as_str().unwrap().to_owned()
    }

    /// Long-polls a session.
    pub fn status(&self, session: &str, timeout_ms: u64) -> (u16, Value) {
        let response = self
            .http
            .get(format!(
                "{}/session/{session}?timeoutMs={timeout_ms}",
                self.base
            ))
            .timeout(Duration::from_millis(timeout_ms + 10_000))
            .send()
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().unwrap_or(Value::Null))
    }

    /// Long-polls until the session completes.
    pub fn result(&self, session: &str) -> Value {
        for _ in 0..10 {
            let (status, answer) = self.status(session, 30_000);
            assert_eq!(status, 200, "{answer}");
            if answer["state"] == "COMPLETE" {
                return answer;
            }
        }
        panic!("session {session} did not complete");
    }
}

/// An end result from the JSON outcome `confirm --json` / `refuse --json` prints.
pub fn outcome(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or(Value::Null)
}

/// A SHA-512 hash of fresh text, as a relying party makes for a login.
pub fn fresh_hash(label: &str) -> Vec<u8> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let text = format!(
        "{label} {} {:?}",
        COUNTER.fetch_add(1, Ordering::Relaxed),
        Instant::now()
    );
    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA512, text.as_bytes())
        .as_ref()
        .to_vec()
}

/// A login body (SHA-512 of fresh text) with the given interactions.
pub fn login_body(interactions: Value) -> Value {
    signing_body(&fresh_hash("login"), "SHA512", interactions)
}

/// A certificate-choice body of the demo relying party.
pub fn certificate_choice_body() -> Value {
    json!({ "relyingPartyUUID": DEMO_RP_UUID, "relyingPartyName": "DEMO" })
}

/// A signing request body as the demo relying party sends it.
pub fn signing_body(hash: &[u8], hash_type: &str, interactions: Value) -> Value {
    json!({
        "relyingPartyUUID": DEMO_RP_UUID,
        "relyingPartyName": "DEMO",
        "hash": BASE64.encode(hash),
        "hashType": hash_type,
        "allowedInteractionsOrder": interactions,
    })
}

pub fn display_text_and_pin(text: &str) -> Value {
    json!([{ "type": "displayTextAndPIN", "displayText60": text }])
}

pub fn b64decode(text: &str) -> Vec<u8> {
    BASE64.decode(text).unwrap()
}
