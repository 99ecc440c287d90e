//! What a command printed, and `openssl`, the independent verifier.

use std::path::Path;
use std::process::{Command, Output};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::Value;

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

pub fn assert_success(output: &Output) {
    assert!(
        output.status.success(),
        "command failed\nstdout: {}\nstderr: {}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The command failed, saying `message` on stderr.
pub fn assert_fails_with(output: &Output, message: &str) {
    assert!(
        !output.status.success(),
        "command succeeded, expected: {message}\nstdout: {}",
        stdout(output)
    );
    assert!(
        stderr(output).contains(message),
        "expected {message:?} in stderr: {}",
        stderr(output)
    );
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// An end result from the JSON outcome `confirm --json` / `refuse --json` prints.
pub fn outcome(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or(Value::Null)
}

pub fn b64decode(text: &str) -> Vec<u8> {
    BASE64.decode(text).unwrap()
}
