//! End to end: every way to refuse (docs/spec/rp-api.md §1.6) and the verification-code choice
//! (§1.4, §1.8): the phone picks among three codes, a wrong one ends the session with WRONG_VC
//! without costing a PIN attempt.

use serde_json::{Value, json};
use splitid_testkit::*;

const PERSON: &str = "PNOEE-30303039914";

fn interaction(kind: &str) -> Value {
    let field = if kind.starts_with("confirmationMessage") {
        "displayText200"
    } else {
        "displayText60"
    };
    json!([{ "type": kind, field: format!("Shown with {kind}") }])
}

#[test]
fn each_refusal_screen_has_its_end_result() {
    let server = Server::start(&[]);
    let phone = Phone::new();
    phone.register(&server, PERSON, "1234", "12345");
    let rp = RelyingParty::new(&server);
    let login = format!("/authentication/etsi/{PERSON}");
    let cases = [
        ("displayTextAndPIN", None, "USER_REFUSED"),
        (
            "displayTextAndPIN",
            Some("displayTextAndPIN"),
            "USER_REFUSED_DISPLAYTEXTANDPIN",
        ),
        (
            "verificationCodeChoice",
            Some("verificationCodeChoice"),
            "USER_REFUSED_VC_CHOICE",
        ),
        // The PIN screen follows every interaction, so it can be refused in every one.
        (
            "verificationCodeChoice",
            Some("displayTextAndPIN"),
            "USER_REFUSED_DISPLAYTEXTANDPIN",
        ),
        (
            "confirmationMessage",
            Some("confirmationMessage"),
            "USER_REFUSED_CONFIRMATIONMESSAGE",
        ),
        (
            "confirmationMessageAndVerificationCodeChoice",
            Some("confirmationMessageAndVerificationCodeChoice"),
            "USER_REFUSED_CONFIRMATIONMESSAGE_WITH_VC_CHOICE",
        ),
    ];
    for (kind, screen, expected) in cases {
        let session = rp.start(&login, &login_body(interaction(kind)));
        let refused = phone.refuse_next(screen);
        assert_success(&refused);
        assert_eq!(
            outcome(&refused)["endResult"],
            expected,
            "{kind} {screen:?}"
        );
        let result = rp.result(&session);
        assert_eq!(result["result"]["endResult"], expected, "{result}");
        assert!(result.get("signature").is_none() && result.get("cert").is_none());
        assert!(phone.pending().is_empty());
    }
}

#[test]
fn a_screen_the_transaction_does_not_show_cannot_be_refused() {
    let server = Server::start(&[]);
    let phone = Phone::new();
    phone.register(&server, PERSON, "1234", "12345");
    let rp = RelyingParty::new(&server);

    let session = rp.start(
        &format!("/authentication/etsi/{PERSON}"),
        &login_body(interaction("displayTextAndPIN")),
    );
    for screen in [
        "confirmationMessage",
        "verificationCodeChoice",
        "certificateChoice",
        "noSuchScreen",
    ] {
        let refused = phone.refuse_next(Some(screen));
        assert!(!refused.status.success(), "{screen} refused");
        let message = stderr(&refused);
        assert!(
            message.contains("screen") && message.contains("displayTextAndPIN"),
            "the app says which screens there are: {message}"
        );
    }
    let (_, running) = rp.status(&session, 1000);
    assert_eq!(running["state"], "RUNNING", "{running}");
    assert_eq!(phone.pending().len(), 1);

    // The channel is still in step: the transaction can be answered.
    assert_success(&phone.confirm_next(&[], "1234\n"));
    assert_eq!(rp.result(&session)["result"]["endResult"], "OK");
}

/// Starts a verification-code-choice login; returns the session, the right code and the codes
/// the phone offers.
fn code_choice_login(
    rp: &RelyingParty,
    phone: &Phone,
    kind: &str,
) -> (String, String, Vec<String>) {
    let hash = fresh_hash(kind);
    let session = rp.start(
        &format!("/authentication/etsi/{PERSON}"),
        &signing_body(&hash, "SHA512", interaction(kind)),
    );
    let shown = phone.wait_for_transaction(10);
    assert_eq!(shown["transactionId"], session.as_str());
    assert_eq!(shown["interaction"], kind);
    assert!(
        shown["verificationCode"].is_null(),
        "with code choice the phone is not told the right code: {shown}"
    );
    let choices: Vec<String> = shown["codeChoices"]
        .as_array()
        .unwrap_or_else(|| panic!("codeChoices: {shown}"))
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    let right = splitid_proto::VerificationCode::from_hash(&hash).to_string();
    (session, right, choices)
}

fn attempts_before_lock(phone: &Phone, document: &str) -> Value {
    phone.account_status(document)["pin1"]["attemptsBeforeLock"].clone()
}

#[test]
fn verification_code_choice_right_and_wrong() {
    let server = Server::start(&[]);
    let phone = Phone::new();
    let document = phone.register(&server, PERSON, "1234", "12345");
    let rp = RelyingParty::new(&server);

    for kind in [
        "verificationCodeChoice",
        "confirmationMessageAndVerificationCodeChoice",
    ] {
        // The right code and the PIN: OK.
        let (session, right, choices) = code_choice_login(&rp, &phone, kind);
        assert_eq!(choices.len(), 3, "{choices:?}");
        let mut distinct = choices.clone();
        distinct.sort();
        distinct.dedup();
        assert_eq!(distinct.len(), 3, "three different codes: {choices:?}");
        assert_eq!(choices.iter().filter(|c| **c == right).count(), 1);
        assert!(
            choices
                .iter()
                .all(|c| c.len() == 4 && c.bytes().all(|b| b.is_ascii_digit()))
        );
        let confirmed = phone.confirm_next(&["--vc", &right], "1234\n");
        assert_success(&confirmed);
        let result = rp.result(&session);
        assert_eq!(result["result"]["endResult"], "OK", "{result}");
        assert_eq!(result["interactionFlowUsed"], kind);

        // Another offered code: WRONG_VC, even with the right PIN, and no attempt counted.
        let (session, right, choices) = code_choice_login(&rp, &phone, kind);
        let wrong = choices.iter().find(|c| **c != right).unwrap();
        let confirmed = phone.confirm_next(&["--vc", wrong], "1234\n");
        assert_success(&confirmed);
        assert_eq!(outcome(&confirmed)["endResult"], "WRONG_VC");
        let result = rp.result(&session);
        assert_eq!(result["result"]["endResult"], "WRONG_VC", "{result}");
        assert!(result.get("signature").is_none());
        assert!(phone.pending().is_empty());

        // A wrong code with a wrong PIN: still WRONG_VC, and the PIN was never judged.
        let (session, right, choices) = code_choice_login(&rp, &phone, kind);
        let wrong = choices.iter().find(|c| **c != right).unwrap();
        let confirmed = phone.confirm_next(&["--vc", wrong], "9999\n");
        assert_eq!(outcome(&confirmed)["endResult"], "WRONG_VC");
        assert_eq!(rp.result(&session)["result"]["endResult"], "WRONG_VC");
        assert_eq!(attempts_before_lock(&phone, &document), 3);

        // A code that was not offered is refused by the app itself.
        let (session, _, choices) = code_choice_login(&rp, &phone, kind);
        let unoffered = (0..10_000)
            .map(|n| format!("{n:04}"))
            .find(|c| !choices.contains(c))
            .unwrap();
        let confirmed = phone.confirm_next(&["--vc", &unoffered], "1234\n");
        assert!(!confirmed.status.success());
        assert!(stderr(&confirmed).contains("not one of the offered codes"));
        let (_, running) = rp.status(&session, 1000);
        assert_eq!(running["state"], "RUNNING");
        assert_success(&phone.refuse_next(None));
    }
}
