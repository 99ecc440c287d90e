//! The phone: the real `splitid app` on a home directory of its own.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::Value;

use crate::node::{Server, splitid_binary};
use crate::output::assert_success;

/// A phone: `splitid app` on its own home directory.
pub struct Phone {
    pub home: tempfile::TempDir,
    /// Environment for every `splitid app` it runs (the CA certificates to trust, say).
    env: Vec<(String, String)>,
}

impl Default for Phone {
    fn default() -> Self {
        Self::new()
    }
}

impl Phone {
    /// A phone with nothing on it yet.
    pub fn new() -> Phone {
        Phone {
            home: tempfile::tempdir().unwrap(),
            env: Vec::new(),
        }
    }

    /// A phone whose app also trusts the CA certificates in the PEM file `roots` (a test CA
    /// behind the server's TLS certificate).
    pub fn trusting(roots: &Path) -> Phone {
        Phone {
            env: vec![(
                "SPLITID_APP_TLS_ROOTS".to_owned(),
                roots.display().to_string(),
            )],
            ..Phone::new()
        }
    }

    /// Runs `splitid app --home HOME ARGS…` with `stdin` as its input (PINs, one per line).
    pub fn run(&self, args: &[&str], stdin: &str) -> Output {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        run_app(self.home.path(), &self.env, &args, stdin)
    }

    /// Like [`run`](Self::run), in the background.
    pub fn spawn(&self, args: &[&str], stdin: &str) -> std::thread::JoinHandle<Output> {
        let home = self.home.path().to_owned();
        let env = self.env.clone();
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let stdin = stdin.to_owned();
        std::thread::spawn(move || run_app(&home, &env, &args, &stdin))
    }

    /// Starts `splitid app --home HOME ARGS…` with `stdin` as its input and leaves it running
    /// (for a test that kills it midway).
    pub fn start(&self, args: &[&str], stdin: &str) -> std::process::Child {
        spawn_app(self.home.path(), &self.env, args, stdin)
    }

    /// The phone's vault as JSON.
    pub fn vault(&self) -> Value {
        serde_json::from_slice(&std::fs::read(self.home.path().join("vault.json")).unwrap())
            .unwrap()
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
        self.try_register_at(&server.url, identity, extra, pins)
    }

    /// Like [`try_register`](Self::try_register), with the server at `url` (a proxy in front of
    /// one, say).
    pub fn try_register_at(&self, url: &str, identity: &str, extra: &[&str], pins: &str) -> Output {
        let mut args = vec![
            "--json",
            "register",
            "--server",
            url,
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

    /// `refuse --next`, on `screen` (an interaction name or `certificateChoice`) or plainly.
    pub fn refuse_next(&self, screen: Option<&str>) -> Output {
        let mut args = vec!["--json", "refuse", "--next", "--wait", "10"];
        if let Some(screen) = screen {
            args.extend(["--screen", screen]);
        }
        self.run(&args, "")
    }

    /// `confirm --next` with `stdin` as PIN input; `extra` adds options (e.g. `--vc`).
    pub fn confirm_next(&self, extra: &[&str], stdin: &str) -> Output {
        let mut args = vec!["--json", "confirm", "--next", "--wait", "10"];
        args.extend_from_slice(extra);
        self.run(&args, stdin)
    }
}

fn run_app(home: &Path, env: &[(String, String)], args: &[String], stdin: &str) -> Output {
    spawn_app(home, env, args, stdin)
        .wait_with_output()
        .unwrap()
}

/// Starts `splitid app --home HOME ARGS…` and writes `stdin` to it.
fn spawn_app(
    home: &Path,
    env: &[(String, String)],
    args: &[impl AsRef<std::ffi::OsStr>],
    stdin: &str,
) -> std::process::Child {
    let mut child = Command::new(splitid_binary())
        .arg("app")
        .arg("--home")
        .arg(home)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The command may exit before reading all its input (for example on a usage error).
    let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
    child
}
