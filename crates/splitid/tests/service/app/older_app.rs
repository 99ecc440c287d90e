//! An app that runs only some interactions (as an older app would) is only sent transactions
//! it can show; when none of the relying party's interactions fit, the relying party hears
//! REQUIRED_INTERACTION_NOT_SUPPORTED_BY_APP at once.

use serde_json::{Value, json};
use splitid_testkit::*;

fn register_older_app(server: &Server, phone: &Phone) -> String {
    let output = phone.try_register(
        server,
        "PNOEE-30303039914",
        &["--interactions", "displayTextAndPIN"],
        "1234\n12345\n",
    );
    assert_success(&output);
    let value: Value = serde_json::from_slice(&output.stdout).unwrap();
    value["documentNumber"].as_str().unwrap().to_owned()
}

fn login(interactions: Value) -> Value {
    let hash = aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA256,
        interactions.to_string().as_bytes(),
    );
    signing_body(hash.as_ref(), "SHA256", interactions)
}

#[test]
fn an_app_is_sent_only_interactions_it_can_run() {
    let server = Server::start(&[]);
    let phone = Phone::new();
    register_older_app(&server, &phone);
    let rp = RelyingParty::new(&server);

    let only_code_choice =
        json!([{ "type": "verificationCodeChoice", "displayText60": "Pick the code" }]);
    let session = rp.start(
        "/authentication/etsi/PNOEE-30303039914",
        &login(only_code_choice),
    );
    let (status, result) = rp.status(&session, 1000);
    assert_eq!(status, 200);
    assert_eq!(
        result["result"]["endResult"], "REQUIRED_INTERACTION_NOT_SUPPORTED_BY_APP",
        "{result}"
    );
    let check = phone.run(&["--json", "check"], "");
    assert_eq!(stdout(&check).trim(), "[]", "nothing reaches the phone");

    let preferred_then_fallback = json!([
        { "type": "confirmationMessage", "displayText200": "A long message the app cannot show" },
        { "type": "displayTextAndPIN", "displayText60": "Log in" }
    ]);
    let session = rp.start(
        "/authentication/etsi/PNOEE-30303039914",
        &login(preferred_then_fallback),
    );
    assert_success(&phone.run(&["confirm", "--next", "--wait", "10"], "1234\n"));
    let result = rp.result(&session);
    assert_eq!(result["result"]["endResult"], "OK");
    assert_eq!(result["interactionFlowUsed"], "displayTextAndPIN");
}

#[test]
fn an_unknown_interaction_name_is_refused_at_registration() {
    let server = Server::start(&[]);
    let phone = Phone::new();
    let output = phone.try_register(
        &server,
        "PNOEE-30303039914",
        &["--interactions", "displayTextAndPIN,telepathy"],
        "1234\n12345\n",
    );
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("unknown interaction \"telepathy\""),
        "{}",
        stderr(&output)
    );
}
