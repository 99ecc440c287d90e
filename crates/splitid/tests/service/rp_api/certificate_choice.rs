//! End to end: RP API v2 certificate choice (docs/spec/rp-api.md §1.1, §1.5) by person and by document,
//! with one device (answered at once) and with two (the person picks a device, or refuses).

use serde_json::Value;
use splitid_testkit::*;

const PERSON: &str = "PNOEE-30303039914";

/// An OK certificate choice: the document's signing certificate, QUALIFIED, no signature.
fn assert_chose(result: &Value, document: &str) {
    assert_eq!(result["state"], "COMPLETE", "{result}");
    assert_eq!(result["result"]["endResult"], "OK", "{result}");
    assert_eq!(result["result"]["documentNumber"], document, "{result}");
    assert_eq!(result["cert"]["certificateLevel"], "QUALIFIED", "{result}");
    assert!(result.get("signature").is_none(), "no signature: {result}");
    let certificate = b64decode(result["cert"]["value"].as_str().unwrap());
    let identity = splitid_pki::parse_identity(&certificate).unwrap();
    assert_eq!(identity.semantics_identifier, PERSON);
    assert_eq!(identity.document_number, document);
}

/// The signing certificate the phone stored for `document` at registration.
fn signing_certificate_on(phone: &Phone, document: &str) -> String {
    splitid_app::desktop::VaultFile::new(phone.home.path())
        .load()
        .unwrap()
        .accounts
        .into_iter()
        .find(|a| a.document_number == document)
        .unwrap()
        .signing_certificate
}

#[test]
fn one_device_answers_at_once_by_person_and_by_document() {
    let server = Server::start(&[]);
    let phone = Phone::new();
    let document = phone.register(&server, PERSON, "1234", "12345");
    let rp = RelyingParty::new(&server);

    for path in [
        format!("/certificatechoice/etsi/{PERSON}"),
        format!("/certificatechoice/document/{document}"),
    ] {
        let session = rp.start(&path, &certificate_choice_body());
        // Complete at once: even the shortest long poll answers COMPLETE.
        let (status, result) = rp.status(&session, 1000);
        assert_eq!(status, 200);
        assert_chose(&result, &document);
        assert_eq!(
            result["cert"]["value"].as_str().unwrap(),
            signing_certificate_on(&phone, &document),
            "the signing certificate, not the authentication one"
        );
        assert!(phone.pending().is_empty(), "nothing to ask the person");
    }
}

#[test]
fn two_devices_wait_for_the_person_to_choose_or_refuse() {
    let server = Server::start(&[]);
    let first = Phone::new();
    let second = Phone::new();
    let first_document = first.register(&server, PERSON, "1234", "12345");
    let second_document = second.register(&server, PERSON, "4321", "54321");
    assert_ne!(first_document, second_document);
    let rp = RelyingParty::new(&server);
    let path = format!("/certificatechoice/etsi/{PERSON}");

    // The second device confirms: no PIN is needed to share a certificate.
    let session = rp.start(&path, &certificate_choice_body());
    let (_, running) = rp.status(&session, 1000);
    assert_eq!(running["state"], "RUNNING", "{running}");
    let shown = first.wait_for_transaction(10);
    assert_eq!(shown["kind"], "certificate_choice", "{shown}");
    assert_eq!(shown["transactionId"], session.as_str());
    let confirm = second.confirm_next(&[], "");
    assert_success(&confirm);
    assert_eq!(outcome(&confirm)["endResult"], "OK");
    assert_chose(&rp.result(&session), &second_document);
    assert!(
        first.pending().is_empty(),
        "withdrawn from the other device"
    );

    // The first device refuses on the certificate-choice screen.
    let mut body = certificate_choice_body();
    body["nonce"] = "second choice".into();
    let session = rp.start(&path, &body);
    let refuse = first.refuse_next(Some("certificateChoice"));
    assert_success(&refuse);
    let result = rp.result(&session);
    assert_eq!(
        result["result"]["endResult"], "USER_REFUSED_CERT_CHOICE",
        "{result}"
    );
    assert!(result.get("cert").is_none(), "{result}");
    assert!(second.pending().is_empty());

    // By document number only that device is asked, even though the person has two.
    let session = rp.start(
        &format!("/certificatechoice/document/{first_document}"),
        &certificate_choice_body(),
    );
    assert_chose(&rp.result(&session), &first_document);
    assert!(first.pending().is_empty() && second.pending().is_empty());
}
