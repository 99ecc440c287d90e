//! Account and session lifetimes, end to end with the test clock: accounts last three years,
//! completed sessions stay readable for five minutes, one device holds several accounts.

use splitid_testkit::*;

fn login_body(text: &str) -> serde_json::Value {
    let hash = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, text.as_bytes());
    signing_body(hash.as_ref(), "SHA256", display_text_and_pin(text))
}

#[test]
fn a_completed_session_is_readable_for_five_minutes_then_gone() {
    let server = Server::start(&[]);
    let phone = Phone::new();
    phone.register(&server, "PNOEE-30303039914", "1234", "12345");
    let rp = RelyingParty::new(&server);
    let session = rp.start("/authentication/etsi/PNOEE-30303039914", &login_body("ttl"));
    assert_success(&phone.run(&["confirm", "--next", "--wait", "10"], "1234\n"));
    assert_eq!(rp.result(&session)["result"]["endResult"], "OK");

    server.advance_clock(4 * 60);
    let (status, again) = rp.status(&session, 1000);
    assert_eq!(
        (status, again["result"]["endResult"].as_str()),
        (200, Some("OK"))
    );
    server.advance_clock(2 * 60);
    let (status, gone) = rp.status(&session, 1000);
    assert_eq!(status, 404, "{gone}");
}

#[test]
fn an_account_expires_after_three_years() {
    let server = Server::start(&[]);
    let phone = Phone::new();
    let document = phone.register(&server, "PNOEE-30303039914", "1234", "12345");
    let rp = RelyingParty::new(&server);
    let accounts_text = || stdout(&phone.run(&["accounts"], ""));
    assert!(
        !accounts_text().contains("expires in"),
        "no warning early on"
    );

    // In the last 30 days the app warns and says how to register a replacement.
    server.advance_clock((3 * 365 - 30) * 24 * 3600);
    assert_eq!(phone.account_status(&document)["daysLeft"], 30);
    let warning = accounts_text();
    assert!(warning.contains("expires in 30 day(s)"), "{warning}");
    assert!(
        warning.contains(&format!("--proof account --with {document}")),
        "{warning}"
    );

    server.advance_clock(29 * 24 * 3600);
    let session = rp.start(
        &format!("/authentication/document/{document}"),
        &login_body("day before"),
    );
    assert_success(&phone.run(&["confirm", "--next", "--wait", "10"], "1234\n"));
    assert_eq!(rp.result(&session)["result"]["endResult"], "OK");

    server.advance_clock(2 * 24 * 3600);
    assert!(accounts_text().contains("EXPIRED"));
    let (status, answer) = rp.post(
        &format!("/authentication/document/{document}"),
        &login_body("expired"),
    );
    assert_eq!(status, 404, "{answer}");
    let (status, _) = rp.post(
        "/authentication/etsi/PNOEE-30303039914",
        &login_body("expired"),
    );
    assert_eq!(status, 404);
}

#[test]
fn one_device_holds_accounts_of_two_people_and_answers_each() {
    let server = Server::start(&[]);
    let phone = Phone::new();
    let mary = phone.register(&server, "PNOEE-30303039914", "1234", "12345");
    let john = phone.register(&server, "PNOLV-030303-10012", "4321", "54321");
    let listed = stdout(&phone.run(&["--json", "accounts"], ""));
    assert!(listed.contains(&mary) && listed.contains(&john), "{listed}");

    let rp = RelyingParty::new(&server);
    let session = rp.start(
        "/authentication/etsi/PNOLV-030303-10012",
        &login_body("John logs in"),
    );
    // Mary's PIN1 does not open John's key: the server counts it against John's account only.
    let wrong = phone.run(&["confirm", "--next", "--wait", "10"], "1234\n");
    assert!(!wrong.status.success());
    assert_success(&phone.run(&["confirm", "--next", "--wait", "10"], "4321\n"));
    let result = rp.result(&session);
    assert_eq!(result["result"]["documentNumber"], john.as_str());
    assert!(john.starts_with("PNOLV-030303-10012-"), "{john}");
}

#[test]
fn deleting_an_account_closes_it_revokes_its_certificates_and_forgets_it_on_the_device() {
    let server = Server::start(&[]);
    let phone = Phone::new();
    let document = phone.register(&server, "PNOEE-30303039914", "1234", "12345");
    let certificates: Vec<Vec<u8>> = ["authentication", "signing"]
        .iter()
        .map(|p| phone.certificate(&document, p))
        .collect();
    for certificate in &certificates {
        assert_eq!(
            server.revocation_reason(certificate),
            None,
            "good while the account lives"
        );
    }
    let rp = RelyingParty::new(&server);
    let waiting = rp.start(
        "/authentication/etsi/PNOEE-30303039914",
        &login_body("before deletion"),
    );

    assert_success(&phone.run(&["delete", &document], ""));
    for certificate in &certificates {
        assert_eq!(
            server.revocation_reason(certificate).as_deref(),
            Some("cessationOfOperation")
        );
    }
    // The session the deleted account was to answer ends at once; new ones find nobody.
    assert_eq!(
        rp.result(&waiting)["result"]["endResult"],
        "DOCUMENT_UNUSABLE"
    );
    let (status, _) = rp.post(
        &format!("/authentication/document/{document}"),
        &login_body("after"),
    );
    assert_eq!(status, 404);
    assert!(stdout(&phone.run(&["accounts"], "")).contains("No accounts on this device"));
}
