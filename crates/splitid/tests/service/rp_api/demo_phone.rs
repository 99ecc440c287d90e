//! The demo's self-answering phone (`serve --demo`, README "Test identities"): each test
//! identity ends every session with its chosen result, through RP API v2 and v3, with no
//! phone of the test's own.

use serde_json::{Value, json};
use splitid_testkit::*;

use super::v3_notification::{authentication_body, interactions, random_challenge, v3};

/// Waits until the demo phone has registered its identities (the last one is the
/// DOCUMENT_UNUSABLE one).
fn wait_for_registrations(rp: &RelyingParty) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(240);
    loop {
        let (status, _) = rp.post(
            "/certificatechoice/etsi/PNOEE-30403039994",
            &certificate_choice_body(),
        );
        if status == 200 {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the demo phone did not register"
        );
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
}

fn v2_login(rp: &RelyingParty, identity: &str, interactions: Value) -> Value {
    let session = rp.start(
        &format!("/authentication/etsi/{identity}"),
        &login_body(interactions),
    );
    rp.result(&session)["result"].clone()
}

fn v3_login(rp: &RelyingParty, identity: &str, list: Value) -> Value {
    let body = authentication_body(&random_challenge(), "SHA-512", &interactions(list));
    let (status, started) = rp.post(
        &format!("/authentication/notification/etsi/{identity}"),
        &body,
    );
    assert_eq!(status, 200, "{started}");
    rp.result(started["sessionID"].as_str().unwrap())["result"].clone()
}

#[test]
fn every_test_identity_answers_as_documented_in_v2_and_v3() {
    let server = Server::start(&["--demo-phone", "--session-timeout=10"]);
    let rp2 = RelyingParty::new(&server);
    let rp3 = v3(&server);
    wait_for_registrations(&rp2);
    let pin = display_text_and_pin("Log in?");
    let choice = json!([{"type": "verificationCodeChoice", "displayText60": "Log in?"}]);
    let confirm_choice = json!([{"type": "confirmationMessageAndVerificationCodeChoice", "displayText200": "Log in?"}]);
    let message = json!([{"type": "confirmationMessage", "displayText200": "Log in?"}]);

    let v2_cases = [
        ("PNOEE-40504040001", &pin, "OK"),
        ("PNOEE-40504040001", &choice, "OK"),
        ("PNOEE-30403039917", &pin, "USER_REFUSED"),
        ("PNOEE-30403039928", &pin, "USER_REFUSED_DISPLAYTEXTANDPIN"),
        ("PNOEE-30403039939", &choice, "USER_REFUSED_VC_CHOICE"),
        (
            "PNOEE-30403039946",
            &message,
            "USER_REFUSED_CONFIRMATIONMESSAGE",
        ),
        (
            "PNOEE-30403039950",
            &confirm_choice,
            "USER_REFUSED_CONFIRMATIONMESSAGE_WITH_VC_CHOICE",
        ),
        ("PNOEE-30403039972", &choice, "WRONG_VC"),
        ("PNOEE-30403039983", &pin, "TIMEOUT"),
        ("PNOEE-30403039994", &pin, "DOCUMENT_UNUSABLE"),
    ];
    for (identity, allowed, expected) in v2_cases {
        let result = v2_login(&rp2, identity, allowed.clone());
        assert_eq!(result["endResult"], expected, "v2 {identity}: {result}");
    }

    let v3_cases = [
        ("PNOEE-40504040001", &pin, "OK", None),
        ("PNOEE-30403039917", &pin, "USER_REFUSED", None),
        (
            "PNOEE-30403039928",
            &pin,
            "USER_REFUSED_INTERACTION",
            Some("displayTextAndPIN"),
        ),
        (
            "PNOEE-30403039946",
            &message,
            "USER_REFUSED_INTERACTION",
            Some("confirmationMessage"),
        ),
        ("PNOEE-30403039972", &confirm_choice, "WRONG_VC", None),
        // Locked by the v2 round: every session now ends at once.
        ("PNOEE-30403039994", &pin, "DOCUMENT_UNUSABLE", None),
    ];
    for (identity, allowed, expected, interaction) in v3_cases {
        let result = v3_login(&rp3, identity, allowed.clone());
        assert_eq!(result["endResult"], expected, "v3 {identity}: {result}");
        if let Some(interaction) = interaction {
            assert_eq!(result["details"]["interaction"], interaction, "{result}");
        }
    }
}
