//! The app channel end to end: the push channel delivers a transaction the moment its session
//! starts, and a copied (cloned) app is detected by the ratchet and the account closed.

use std::time::{Duration, Instant};

use splitid_testkit::*;

fn login_body() -> serde_json::Value {
    let hash = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA512, b"push test");
    signing_body(
        hash.as_ref(),
        "SHA512",
        display_text_and_pin("Log in to DEMO"),
    )
}

#[test]
fn the_push_channel_announces_a_transaction_as_it_starts() {
    let server = Server::start(&[]);
    let phone = Phone::new();
    let document = phone.register(&server, "PNOEE-30303039914", "1234", "12345");
    let listener = phone.spawn(&["--json", "listen", "--count", "1"], "");
    // Give the listener time to connect before the session starts.
    std::thread::sleep(Duration::from_millis(1500));
    let rp = RelyingParty::new(&server);
    let started = Instant::now();
    let session = rp.start("/authentication/etsi/PNOEE-30303039914", &login_body());
    let output = listener.join().unwrap();
    let delivered_after = started.elapsed();
    assert_success(&output);
    let event: serde_json::Value = serde_json::from_str(stdout(&output).trim()).unwrap();
    assert_eq!(event["documentNumber"], document.as_str());
    assert_eq!(event["transaction"]["transactionId"], session.as_str());
    assert_eq!(event["transaction"]["relyingPartyName"], "DEMO");
    let hash = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA512, b"push test");
    let code = splitid_proto::VerificationCode::from_hash(hash.as_ref()).to_string();
    assert_eq!(event["transaction"]["verificationCode"], code.as_str());
    assert!(
        delivered_after < Duration::from_secs(5),
        "pushed after {delivered_after:?}"
    );
}

#[test]
fn a_cloned_app_is_detected_and_the_account_closed() {
    let server = Server::start(&[]);
    let phone = Phone::new();
    let document = phone.register(&server, "PNOEE-30303039914", "1234", "12345");
    let copy = Phone::new();
    std::fs::copy(
        phone.home.path().join("vault.json"),
        copy.home.path().join("vault.json"),
    )
    .unwrap();

    // The original is used: its ratchet moves on.
    let rp = RelyingParty::new(&server);
    let session = rp.start("/authentication/etsi/PNOEE-30303039914", &login_body());
    assert_success(&phone.run(&["confirm", "--next", "--wait", "10"], "1234\n"));
    assert_eq!(rp.result(&session)["result"]["endResult"], "OK");

    // The copy still holds the old ratchet token: the server sees a clone.
    let hash = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA512, b"second login");
    let second = rp.start(
        "/authentication/etsi/PNOEE-30303039914",
        &signing_body(hash.as_ref(), "SHA512", display_text_and_pin("Again")),
    );
    let cloned = copy.run(&["confirm", "--next", "--wait", "10"], "1234\n");
    assert!(!cloned.status.success());
    assert!(
        stderr(&cloned).contains("copy of this app"),
        "{}",
        stderr(&cloned)
    );

    // The account is closed: the running session cannot be answered, new ones find nobody.
    let original = phone.run(&["confirm", "--next", "--wait", "1"], "1234\n");
    assert!(!original.status.success());
    let (status, _) = rp.post(
        &format!("/authentication/document/{document}"),
        &login_body(),
    );
    assert_eq!(status, 404);
    // The audit log says what happened, and that the system closed the account.
    let log = server.admin_json(&["audit", "--document", &document]);
    let events: Vec<&str> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        events,
        [
            "registration",
            "login",
            "clone_detected",
            "account_closed",
            "certificate_revoked",
            "certificate_revoked",
            "login"
        ],
        "the second login ends DOCUMENT_UNUSABLE once the account is closed"
    );
    assert_eq!(log[2]["actor"], "system");
    assert_eq!(log[3]["details"]["reason"], "clone detected");
    // Both certificates are revoked as compromised.
    for purpose in ["authentication", "signing"] {
        let certificate = phone.certificate(&document, purpose);
        assert_eq!(
            server.revocation_reason(&certificate).as_deref(),
            Some("keyCompromise"),
            "{purpose}"
        );
    }
    let accounts = phone.run(&["--json", "accounts"], "");
    assert!(
        stdout(&accounts).contains("clone detected"),
        "{}",
        stdout(&accounts)
    );
    drop(second);
}
