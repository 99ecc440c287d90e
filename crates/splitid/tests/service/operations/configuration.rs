//! `splitid serve` without `--demo`, configured by a TOML file: the relying parties it lists
//! exist, the demo relying party and self-asserted identities do not.

use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const CONFIGURED_RP: &str = "11111111-2222-4333-8444-555555555555";
const DEMO_RP: &str = "00000000-0000-4000-8000-000000000000";

/// The server process and its directory, both gone when dropped.
struct Running(std::process::Child, #[allow(dead_code)] tempfile::TempDir);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_from_file(config: &str) -> (Running, String) {
    start_from_file_with_env(config, &[])
}

/// [`start_from_file`] with environment variables for the server.
fn start_from_file_with_env(config: &str, env: &[(&str, &str)]) -> (Running, String) {
    let temporary = tempfile::tempdir().unwrap();
    let dir = temporary.path().to_owned();
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let path = dir.join("splitid.toml");
    let data = dir.join("data");
    let text = format!(
        "listen = \"127.0.0.1:{port}\"\ndata = {:?}\n{config}",
        data.display().to_string()
    );
    std::fs::write(&path, text).unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_splitid"))
        .args(["serve", "--config"])
        .arg(&path)
        .env("SPLITID_DEMO_PHONE", "false")
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let address = format!("127.0.0.1:{port}");
    let started = Instant::now();
    while std::net::TcpStream::connect(&address).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "server did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    (Running(child, temporary), format!("http://{address}"))
}

fn post(url: &str, body: &Value) -> (u16, Value) {
    let response = reqwest::blocking::Client::new()
        .post(url)
        .json(body)
        .send()
        .unwrap();
    (
        response.status().as_u16(),
        response.json().unwrap_or(Value::Null),
    )
}

fn login(rp_uuid: &str, name: &str) -> Value {
    json!({
        "relyingPartyUUID": rp_uuid, "relyingPartyName": name,
        "hash": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", "hashType": "SHA256",
        "allowedInteractionsOrder": [{ "type": "displayTextAndPIN", "displayText60": "Log in" }]
    })
}

#[test]
fn a_production_server_has_only_its_configured_relying_parties_and_no_demo_identities() {
    let (_server, url) = start_from_file(&format!(
        "public_url = \"https://id.example.test\"\n\n[[relying_party]]\nuuid = \"{CONFIGURED_RP}\"\nnames = [\"Bank of Tests\"]\nlevels = [\"QUALIFIED\"]\nip_ranges = [\"127.0.0.0/8\"]\n"
    ));
    let path = format!("{url}/v2/authentication/etsi/PNOEE-30303039914");

    // The configured relying party is known (case-insensitive name): the person is not.
    let (status, answer) = post(&path, &login(CONFIGURED_RP, "bank of tests"));
    assert_eq!(status, 404, "{answer}");
    // Its name must match; the demo relying party does not exist here.
    assert_eq!(post(&path, &login(CONFIGURED_RP, "Other Bank")).0, 401);
    assert_eq!(post(&path, &login(DEMO_RP, "DEMO")).0, 401);

    // Self-asserted identities are refused before any key material is looked at.
    let registration = json!({
        "proofing": { "method": "demo", "semanticsIdentifier": "PNOEE-30303039914", "givenName": "MARY", "surname": "ÄNN" },
        "authentication": { "halfBits": 3072, "deviceModulus": "AA==",
                            "sealedServerExponent": { "keyId": "00", "enc": "AA==", "ciphertext": "AA==" } },
        "signing": { "halfBits": 3072, "deviceModulus": "AA==",
                     "sealedServerExponent": { "keyId": "00", "enc": "AA==", "ciphertext": "AA==" } }
    });
    let (status, answer) = post(&format!("{url}/app/v1/registrations"), &registration);
    assert_eq!(status, 403, "{answer}");
    assert!(answer["detail"].as_str().unwrap().contains("demo mode"));
}

#[test]
fn the_environment_turns_off_a_switch_the_file_turns_on() {
    let file = "public_url = \"https://id.example.test\"\ndemo = true\n";
    let demo_login = |url: &str| {
        let path = format!("{url}/v2/authentication/etsi/PNOEE-30303039914");
        post(&path, &login(DEMO_RP, "DEMO")).0
    };
    let (_server, url) = start_from_file(file);
    assert_eq!(
        demo_login(&url),
        404,
        "demo mode: the demo RP is known, the person is not"
    );
    let (_server, url) = start_from_file_with_env(file, &[("SPLITID_DEMO", "false")]);
    assert_eq!(
        demo_login(&url),
        401,
        "SPLITID_DEMO=false: no demo relying party"
    );
}

#[test]
fn a_relying_party_outside_its_address_ranges_is_refused() {
    let (_server, url) = start_from_file(&format!(
        "public_url = \"https://id.example.test\"\n\n[[relying_party]]\nuuid = \"{CONFIGURED_RP}\"\nnames = [\"Bank of Tests\"]\nip_ranges = [\"10.0.0.0/8\"]\n"
    ));
    let path = format!("{url}/v2/authentication/etsi/PNOEE-30303039914");
    assert_eq!(post(&path, &login(CONFIGURED_RP, "Bank of Tests")).0, 401);
}

fn post_forwarded(url: &str, body: &Value, forwarded_for: &str) -> u16 {
    reqwest::blocking::Client::new()
        .post(url)
        .header("x-forwarded-for", forwarded_for)
        .json(body)
        .send()
        .unwrap()
        .status()
        .as_u16()
}

/// Behind a load balancer every connection comes from the balancer: the relying party's
/// address is the one the (trusted) balancer forwards, and nobody else's header counts.
#[test]
fn behind_a_trusted_proxy_the_forwarded_address_is_checked() {
    let ranges = |proxies: &str| {
        format!(
            "public_url = \"https://id.example.test\"\ntrusted_proxies = [{proxies}]\n\n[[relying_party]]\nuuid = \"{CONFIGURED_RP}\"\nnames = [\"Bank of Tests\"]\nip_ranges = [\"203.0.113.0/24\"]\n"
        )
    };
    let body = login(CONFIGURED_RP, "Bank of Tests");

    // This node's balancer is on loopback (where the test connects from).
    let (_server, url) = start_from_file(&ranges("\"127.0.0.1/32\""));
    let path = format!("{url}/v2/authentication/etsi/PNOEE-30303039914");
    // Known relying party, unknown person: 404; outside its ranges: 401.
    assert_eq!(post_forwarded(&path, &body, "203.0.113.9"), 404);
    assert_eq!(post_forwarded(&path, &body, "198.51.100.1"), 401);
    assert_eq!(post(&path, &body).0, 401);
    // A forged entry on the left is not what the balancer saw.
    assert_eq!(
        post_forwarded(&path, &body, "203.0.113.9, 198.51.100.1"),
        401
    );

    // Without trusted proxies, the header is nobody's word.
    let (_server, url) = start_from_file(&ranges(""));
    let path = format!("{url}/v2/authentication/etsi/PNOEE-30303039914");
    assert_eq!(post_forwarded(&path, &body, "203.0.113.9"), 401);
}

#[test]
fn a_broken_configuration_file_is_refused_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    std::fs::write(&path, "listen = \"127.0.0.1:1\"\nsesion_timeout = 5\n").unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_splitid"))
        .args(["serve", "--config"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("unknown field `sesion_timeout`"),
        "{stderr}"
    );
}
