//! Sealed secrets and the keys the app trusts. A thief with the phone's storage and a
//! recording of everything the phone ever sent still cannot test a PIN offline. The recording is made by a proxy between the real app and the real
//! server (a TLS terminator that logs bodies); the check ([`pin_tests`]) asks every captured
//! value whether it tells the right PIN from a wrong one. Run on the recording of the protocol
//! before sealing (a fixture), it finds such values, so the check can fail. The app also
//! checks what it is handed: the composite keys and certificates at registration, the server's
//! channel key (pinned, followed only through signed rotations).

use std::path::PathBuf;

use splitid_app::vault::Vault;
use splitid_testkit::*;

const PIN1: &str = "4071";
const PIN2: &str = "50392";

fn fixture_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/recorded-v1")
}

/// A server, a recording proxy in front of it, and a phone registered through the proxy.
struct ThroughAProxy {
    server: Server,
    proxy: RecordingProxy,
    phone: Phone,
    document: String,
}

fn register_through_a_proxy() -> ThroughAProxy {
    let server = Server::start(&[]);
    let proxy = RecordingProxy::start(&server.url);
    let phone = Phone::new();
    let registered = phone.try_register_at(
        &proxy.url,
        "PNOEE-30303039914",
        &[],
        &format!("{PIN1}\n{PIN2}\n"),
    );
    assert_success(&registered);
    let document = outcome(&registered)["documentNumber"]
        .as_str()
        .unwrap()
        .to_owned();
    ThroughAProxy {
        server,
        proxy,
        phone,
        document,
    }
}

/// A registration, a login and a signature through a recording proxy: the phone's vault and
/// the recording.
fn record_registration_login_and_signature() -> (Vault, String, Vec<Exchange>) {
    let ThroughAProxy {
        server,
        proxy,
        phone,
        document,
    } = register_through_a_proxy();
    let rp = RelyingParty::new(&server);
    for (path, pin) in [
        (format!("/authentication/document/{document}"), PIN1),
        (format!("/signature/document/{document}"), PIN2),
    ] {
        let session = rp.start(&path, &login_body(display_text_and_pin("recorded")));
        assert_success(&phone.confirm_next(&[], &format!("{pin}\n")));
        assert_eq!(rp.result(&session)["result"]["endResult"], "OK");
    }
    let vault: Vault =
        serde_json::from_slice(&std::fs::read(phone.home.path().join("vault.json")).unwrap())
            .unwrap();
    (vault, document, proxy.exchanges())
}

#[test]
fn a_recording_of_registration_login_and_signature_gives_no_pin_test() {
    let (vault, document, exchanges) = record_registration_login_and_signature();
    if let Ok(out) = std::env::var("SPLITID_WRITE_RECORDING") {
        let out = PathBuf::from(out);
        std::fs::create_dir_all(&out).unwrap();
        std::fs::write(
            out.join("vault.json"),
            serde_json::to_vec_pretty(&vault).unwrap(),
        )
        .unwrap();
        std::fs::write(
            out.join("recording.json"),
            serde_json::to_vec_pretty(&exchanges).unwrap(),
        )
        .unwrap();
        std::fs::write(out.join("document.txt"), &document).unwrap();
    }
    assert!(
        exchanges.iter().any(|e| e.target.contains("/confirm")),
        "the proxy saw the confirmations"
    );
    let findings = pin_tests(&vault, &[(&document, PIN1, PIN2)], &exchanges);
    assert!(
        findings.is_empty(),
        "PIN tests in the recording: {findings:?}"
    );
    assert!(
        !carries(&exchanges, &vault.accounts[0].mac_key),
        "the channel's MAC key crossed the wire readable"
    );
}

/// Whether any captured body, either way, contains `value`.
fn carries(exchanges: &[Exchange], value: &str) -> bool {
    exchanges
        .iter()
        .any(|e| e.request_body.contains(value) || e.response_body.contains(value))
}

#[test]
fn the_same_check_finds_pin_tests_in_a_recording_of_the_protocol_before_sealing() {
    let dir = fixture_dir();
    let vault: Vault =
        serde_json::from_slice(&std::fs::read(dir.join("vault.json")).unwrap()).unwrap();
    let exchanges: Vec<Exchange> =
        serde_json::from_slice(&std::fs::read(dir.join("recording.json")).unwrap()).unwrap();
    let document = std::fs::read_to_string(dir.join("document.txt")).unwrap();
    let findings = pin_tests(&vault, &[(document.trim(), PIN1, PIN2)], &exchanges);
    for expected in [
        "PIN1: a partial signature in clear",
        "PIN2: a partial signature in clear",
        "PIN1: the server's share in clear",
        "PIN2: the server's share in clear",
    ] {
        assert!(
            findings.iter().any(|f| f.contains(expected)),
            "{expected} not found in {findings:?}"
        );
    }
    // The server chose the MAC key and sent it in clear then: a recording could forge the
    // app's requests (and close its account as a clone).
    assert!(carries(&exchanges, &vault.accounts[0].mac_key));
}

/// A recorded registration sent again (by whoever logged it) is refused: its sealed shares
/// would otherwise give a thief with the phone's storage a fresh proof of possession to try
/// PINs against.
#[test]
fn a_replayed_registration_is_refused() {
    let ThroughAProxy { server, proxy, .. } = register_through_a_proxy();
    let recorded = |suffix: &str| {
        proxy
            .exchanges()
            .into_iter()
            .find(|e| e.method == "POST" && e.target.ends_with(suffix))
            .unwrap_or_else(|| panic!("no POST …{suffix} recorded"))
    };
    let (status, body) = recorded("/app/v1/registrations").replay_to(&server.url);
    assert_eq!(status, 409, "{body}");
    assert!(body.contains("used for a registration before"), "{body}");
    let (status, body) = recorded("/complete").replay_to(&server.url);
    assert_eq!(status, 404, "{body}");
    assert_eq!(
        server
            .admin_json(&["accounts", "find", "--identity", "PNOEE-30303039914"])
            .as_array()
            .unwrap()
            .len(),
        1,
        "one account, as registered"
    );
}

/// A transaction changed on its way to the phone (a man in the middle swapping the hash to
/// sign) is refused before the PIN is used: the verification code shown is computed from the
/// hash, and the e-service's session stays open.
#[test]
fn a_changed_transaction_is_refused_before_the_pin_is_used() {
    let ThroughAProxy {
        server,
        proxy,
        phone,
        document,
    } = register_through_a_proxy();
    proxy.rewrite("GET", "/transactions", |list| {
        for transaction in list["transactions"].as_array_mut().unwrap() {
            transaction["hash"] = BASE64_OF_ANOTHER_HASH.into();
        }
    });
    let rp = RelyingParty::new(&server);
    let session = rp.start(
        &format!("/signature/document/{document}"),
        &login_body(display_text_and_pin("Pay 10 EUR")),
    );
    let refused = phone.confirm_next(&[], &format!("{PIN2}\n"));
    assert_fails_with(
        &refused,
        "the verification code does not match what is signed",
    );
    // The app refused it as a protocol failure (v2 has no such result: USER_REFUSED).
    let ended = rp.result(&session);
    assert_eq!(ended["result"]["endResult"], "USER_REFUSED", "{ended}");
    assert!(ended.get("signature").is_none(), "nothing was signed");
    assert!(
        !proxy
            .exchanges()
            .iter()
            .any(|e| e.target.ends_with("/confirm")),
        "no confirmation was sent"
    );
    let accounts = phone.run(&["accounts"], "");
    assert!(
        !stdout(&accounts).contains("registered before sealing"),
        "a sealed registration carries no warning: {}",
        stdout(&accounts)
    );
}

/// SHA-256 of "another document", base64: a hash the e-service never asked to sign.
const BASE64_OF_ANOTHER_HASH: &str = "gPFloKWJ21GEpDAdU6e504LIS4eJEYfutFa10/4ffpI=";

/// A server (or a man in the middle) that hands the app a composite key its share has no
/// part in, or certificates for another key: the app refuses to register, and keeps nothing.
#[test]
fn the_app_refuses_keys_and_certificates_that_are_not_made_of_its_own() {
    let server = Server::start(&[]);
    let pins = format!("{PIN1}\n{PIN2}\n");

    let swapped_key = RecordingProxy::start(&server.url);
    swapped_key.rewrite("POST", "/app/v1/registrations", |answer| {
        if answer.get("registrationId").is_some() {
            answer["authentication"] = answer["signing"].clone();
        }
    });
    let phone = Phone::new();
    let refused = phone.try_register_at(&swapped_key.url, "PNOEE-30303039914", &[], &pins);
    assert_refused_and_nothing_kept(&phone, &refused, "is not made of this device's key");

    let swapped_certificate = RecordingProxy::start(&server.url);
    swapped_certificate.rewrite("POST", "/complete", |answer| {
        answer["authenticationCertificate"] = answer["signingCertificate"].clone();
    });
    let refused = phone.try_register_at(&swapped_certificate.url, "PNOEE-30303039914", &[], &pins);
    assert_refused_and_nothing_kept(
        &phone,
        &refused,
        "does not carry this device's composite key",
    );
}

fn assert_refused_and_nothing_kept(phone: &Phone, refused: &std::process::Output, message: &str) {
    assert_fails_with(refused, message);
    assert!(
        !phone.home.path().join("vault.json").exists(),
        "nothing kept"
    );
}

/// `register --server-key` with the fingerprint `serve` printed registers; with any other,
/// the app refuses before it sends anything secret.
#[test]
fn a_fingerprint_given_out_of_band_pins_the_servers_key() {
    let server = Server::start(&[]);
    let fingerprint = server.admin_json(&["channel-key", "list"])[0]["fingerprint"]
        .as_str()
        .unwrap()
        .to_owned();
    let pins = format!("{PIN1}\n{PIN2}\n");
    let phone = Phone::new();
    let wrong = "00".repeat(32);
    let refused = phone.try_register(
        &server,
        "PNOEE-30303039914",
        &["--server-key", &wrong],
        &pins,
    );
    assert_fails_with(&refused, "refusing to register");
    let registered = phone.try_register(
        &server,
        "PNOEE-30303039914",
        &["--server-key", &fingerprint],
        &pins,
    );
    assert_success(&registered);
}

/// The operator rotates the channel key: the app follows the rotation the pinned key signed
/// and seals to the new key. A key the pinned one never signed (a man in the middle swapping
/// it) is refused before any PIN is used.
#[test]
fn the_app_follows_a_signed_rotation_and_refuses_a_swapped_key() {
    let ThroughAProxy {
        server,
        proxy,
        phone,
        document,
    } = register_through_a_proxy();
    let pinned = || phone.vault()["accounts"][0]["serverKey"]["keyId"].clone();
    let first = pinned();
    let rp = RelyingParty::new(&server);
    let login = || {
        rp.start(
            &format!("/authentication/document/{document}"),
            &login_body(display_text_and_pin("Log in")),
        )
    };

    assert_success(&server.admin(&["channel-key", "rotate", "--overlap-days", "1"]));
    let session = login();
    assert_success(&phone.confirm_next(&[], &format!("{PIN1}\n")));
    assert_eq!(rp.result(&session)["result"]["endResult"], "OK");
    let second = pinned();
    assert_ne!(second, first, "the app pinned the rotated key");
    let keys = server.admin_json(&["channel-key", "list"]);
    assert_eq!(keys[1]["key_id"], second);
    assert!(keys[0]["retires_at"].is_string() && keys[1]["retires_at"].is_null());

    // A key nobody the app trusts signed.
    let stranger = splitid_sealing::ServerKeyPair::generate()
        .unwrap()
        .public()
        .to_wire();
    let stranger_id = stranger.key_id.clone();
    proxy.rewrite("GET", "/server-key", move |document| {
        document["current"] = serde_json::to_value(&stranger).unwrap();
    });
    proxy.rewrite("GET", "/transactions", move |list| {
        for transaction in list["transactions"].as_array_mut().unwrap() {
            transaction["serverKeyId"] = stranger_id.clone().into();
        }
    });
    let session = login();
    let refused = phone.confirm_next(&[], &format!("{PIN1}\n"));
    assert_fails_with(&refused, "not the one this app registered with");
    let (_, running) = rp.status(&session, 1000);
    assert_eq!(running["state"], "RUNNING", "nothing was sent");
    assert_eq!(pinned(), second);
}
