//! End to end through RP API v3's device links: the real `splitid serve --demo`, the real
//! `splitid app open LINK` as the phone, and a relying party that builds its QR, Web2App and
//! App2App links here (HMAC-SHA256 from aws-lc-rs over docs/spec/rp-api.md §2.5's payload,
//! not with the service's code) and checks callbacks and signatures as §2.9–§2.10 say.

use aws_lc_rs::signature;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD as BASE64, URL_SAFE_NO_PAD as BASE64URL};
use serde_json::{Value, json};
use splitid_testkit::*;

use super::v3_notification::{
    PERSON, acsp_payload_returning, authentication_body, aws_lc_verifies, checked_flow_certificate,
    interactions, random_challenge, signature_body, v3,
};

pub(crate) const CALLBACK: &str = "https://rp.example.com/callback?state=RrKjjT4aggzu27YBddX1bQ";

/// A device-link session as the relying party's backend keeps it.
pub(crate) struct LinkSession {
    pub(crate) id: String,
    token: String,
    secret: Vec<u8>,
    base: String,
    /// What the authCode binds besides the link: protocol, challenge, interactions, callback.
    protocol: &'static str,
    challenge: String,
    interactions: String,
    callback: String,
    session_type: &'static str,
}

impl LinkSession {
    pub(crate) fn start(rp: &RelyingParty, path: &str, body: &Value) -> LinkSession {
        let (status, started) = rp.post(path, body);
        assert_eq!(status, 200, "{started}");
        let token = started["sessionToken"].as_str().unwrap().to_owned();
        assert!(token.len() >= 24, "{started}");
        let secret = BASE64
            .decode(started["sessionSecret"].as_str().unwrap())
            .unwrap();
        assert!(secret.len() >= 18, "{started}");
        let parameters = &body["signatureProtocolParameters"];
        let (protocol, challenge, session_type) = match body["signatureProtocol"].as_str() {
            Some("ACSP_V2") => ("ACSP_V2", parameters["rpChallenge"].clone(), "auth"),
            Some(_) => ("RAW_DIGEST_SIGNATURE", parameters["digest"].clone(), "sign"),
            None => ("", json!(""), "cert"),
        };
        LinkSession {
            id: started["sessionID"].as_str().unwrap().to_owned(),
            token,
            secret,
            base: started["deviceLinkBase"].as_str().unwrap().to_owned(),
            protocol,
            challenge: challenge.as_str().unwrap().to_owned(),
            interactions: body["interactions"].as_str().unwrap_or_default().to_owned(),
            callback: body["initialCallbackUrl"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            session_type,
        }
    }

    /// The protected link of `link_type` (`QR` with `elapsed` seconds, `Web2App`, `App2App`).
    pub(crate) fn link(&self, link_type: &str, elapsed: Option<u64>) -> String {
        let elapsed = elapsed
            .map(|seconds| format!("&elapsedSeconds={seconds}"))
            .unwrap_or_default();
        let unprotected = format!(
            "{}?deviceLinkType={link_type}{elapsed}&sessionToken={}&sessionType={}&version=1.0&lang=eng",
            self.base, self.token, self.session_type
        );
        let callback = if link_type == "QR" {
            ""
        } else {
            &self.callback
        };
        let payload = [
            "smart-id-demo",
            self.protocol,
            &self.challenge,
            &BASE64.encode("DEMO"),
            "",
            &self.interactions,
            callback,
            &unprotected,
        ]
        .join("|");
        let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &self.secret);
        let code = BASE64URL.encode(aws_lc_rs::hmac::sign(&key, payload.as_bytes()));
        format!("{unprotected}&authCode={code}")
    }

    /// `sessionSecretDigest` as §2.9 defines it.
    pub(crate) fn secret_digest(&self) -> String {
        BASE64URL.encode(aws_lc_rs::digest::digest(
            &aws_lc_rs::digest::SHA256,
            &self.secret,
        ))
    }
}

pub(crate) fn device_link_login(rp_challenge: &str, sent: &str, callback: Option<&str>) -> Value {
    let mut body = authentication_body(rp_challenge, "SHA-512", sent);
    body.as_object_mut().unwrap().remove("vcType");
    if let Some(callback) = callback {
        body["initialCallbackUrl"] = json!(callback);
    }
    body
}

/// `splitid app --json open LINK` with `stdin` as the PIN, not waiting for a linked
/// signature: its JSON answer.
fn open(phone: &Phone, link: &str, stdin: &str) -> Value {
    let output = phone.run(&["--json", "open", "--linked-wait", "0", link], stdin);
    assert_success(&output);
    serde_json::from_slice(&output.stdout).unwrap()
}

#[test]
fn qr_login_by_person_and_web2app_login_with_its_callback_verified() {
    let server = Server::start(&[]);
    let phone = Phone::new();
    phone.register(&server, PERSON, "1234", "12345");
    let rp = v3(&server);
    let sent = interactions(json!([{"type": "displayTextAndPIN", "displayText60": "Log in?"}]));

    // QR: by the person, nobody asked until the phone scans.
    let challenge = random_challenge();
    let session = LinkSession::start(
        &rp,
        &format!("/authentication/device-link/etsi/{PERSON}"),
        &device_link_login(&challenge, &sent, None),
    );
    assert_eq!(session.base, format!("{}/device-link", server.url));
    assert!(phone.pending().is_empty(), "a device link is not pushed");
    assert_eq!(rp.status(&session.id, 1000).1["state"], "RUNNING");
    let answer = open(&phone, &session.link("QR", Some(0)), "1234\n");
    assert_eq!(answer["endResult"], "OK", "{answer}");
    assert!(
        answer.get("callbackUrl").is_none(),
        "a QR code does not return"
    );
    let result = rp.result(&session.id);
    let modulus = checked_flow_certificate(&result, "ACSP_V2", "QR");
    let payload = acsp_payload_returning(&result, &challenge, &sent, "");
    assert!(aws_lc_verifies(
        &modulus,
        &signature::RSA_PSS_2048_8192_SHA512,
        &payload,
        &result
    ));

    // Web2App: anonymous, back to the relying party with the secret's digest and the verifier
    // of the signed userChallenge.
    let challenge = random_challenge();
    let session = LinkSession::start(
        &rp,
        "/authentication/device-link/anonymous",
        &device_link_login(&challenge, &sent, Some(CALLBACK)),
    );
    let answer = open(&phone, &session.link("Web2App", None), "1234\n");
    let callback = answer["callbackUrl"].as_str().unwrap();
    let prefix = format!(
        "{CALLBACK}&sessionSecretDigest={}&userChallengeVerifier=",
        session.secret_digest()
    );
    let verifier = callback
        .strip_prefix(&prefix)
        .unwrap_or_else(|| panic!("{callback} does not start with {prefix}"));
    let result = rp.result(&session.id);
    let modulus = checked_flow_certificate(&result, "ACSP_V2", "Web2App");
    let user_challenge = BASE64URL.encode(aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA256,
        verifier.as_bytes(),
    ));
    assert_eq!(
        result["signature"]["userChallenge"],
        user_challenge.as_str()
    );
    let payload = acsp_payload_returning(&result, &challenge, &sent, CALLBACK);
    assert!(aws_lc_verifies(
        &modulus,
        &signature::RSA_PSS_2048_8192_SHA512,
        &payload,
        &result
    ));
}

#[test]
fn app2app_signature_by_document_and_an_anonymous_certificate_choice_by_qr() {
    let server = Server::start(&[]);
    let phone = Phone::new();
    let document = phone.register(&server, PERSON, "1234", "12345");
    let rp = v3(&server);

    let choice = LinkSession::start(
        &rp,
        "/signature/certificate-choice/device-link/anonymous",
        &json!({"relyingPartyUUID": DEMO_RP_UUID, "relyingPartyName": "DEMO"}),
    );
    let answer = open(&phone, &choice.link("QR", Some(1)), "");
    assert_eq!(answer["endResult"], "OK", "{answer}");
    let chosen = rp.result(&choice.id);
    assert_eq!(chosen["result"]["documentNumber"], document.as_str());
    assert_eq!(chosen["signature"], json!({"flowType": "QR"}));
    assert!(chosen["cert"]["value"].is_string());

    let sent = interactions(
        json!([{"type": "confirmationMessage", "displayText200": "Pay 10 EUR to Demo Shop?"}]),
    );
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, b"the payment");
    let mut body = signature_body(
        digest.as_ref(),
        json!({"signatureAlgorithm": "rsassa-pss", "signatureAlgorithmParameters": {"hashAlgorithm": "SHA-256"}}),
        &sent,
    );
    body["initialCallbackUrl"] = json!(CALLBACK);
    let session = LinkSession::start(
        &rp,
        &format!("/signature/device-link/document/{document}"),
        &body,
    );
    let output = phone.run(&["open", &session.link("App2App", None)], "12345\n");
    assert_success(&output);
    let shown = stdout(&output);
    assert!(shown.contains("Pay 10 EUR to Demo Shop?"), "{shown}");
    let expected = format!("{CALLBACK}&sessionSecretDigest={}", session.secret_digest());
    assert!(
        shown.contains(&format!("Return to the e-service: {expected}\n")),
        "a signature returns without a verifier: {shown}"
    );
    let result = rp.result(&session.id);
    let modulus = checked_flow_certificate(&result, "RAW_DIGEST_SIGNATURE", "App2App");
    let key = signature::RsaPublicKeyComponents {
        n: &modulus[..],
        e: &[1u8, 0, 1][..],
    };
    let value = b64decode(result["signature"]["value"].as_str().unwrap());
    key.verify(&signature::RSA_PSS_2048_8192_SHA256, b"the payment", &value)
        .expect("the PSS signature verifies");
}

#[test]
fn altered_stale_foreign_and_spent_links_are_refused_and_change_nothing() {
    let server = Server::start(&[]);
    let phone = Phone::new();
    let document = phone.register(&server, PERSON, "1234", "12345");
    let stranger = Phone::new();
    stranger.register(&server, "PNOEE-39912319997", "1234", "12345");
    let rp = v3(&server);
    let sent = interactions(json!([{"type": "displayTextAndPIN", "displayText60": "Log in?"}]));
    let session = LinkSession::start(
        &rp,
        &format!("/authentication/device-link/document/{document}"),
        &device_link_login(&random_challenge(), &sent, Some(CALLBACK)),
    );
    let good = session.link("Web2App", None);
    let refused = |phone: &Phone, link: &str, message: &str| {
        assert_fails_with(&phone.run(&["open", link], "1234\n"), message);
    };

    let mut altered = good.clone();
    let last = altered.pop().unwrap();
    altered.push(if last == 'A' { 'B' } else { 'A' });
    refused(&phone, &altered, "authCode does not match");
    // The link rebuilt for another type keeps a code made for the first.
    refused(
        &phone,
        &good.replace("deviceLinkType=Web2App", "deviceLinkType=App2App"),
        "authCode does not match",
    );
    refused(
        &phone,
        &good.replace("sessionType=auth", "sessionType=sign"),
        "not its session's",
    );
    refused(
        &phone,
        &good.replace("version=1.0", "version=2.0"),
        "version",
    );
    refused(&stranger, &good, "another person's account");
    refused(
        &phone,
        &session.link("QR", Some(60)),
        "ahead of its session",
    );
    server.advance_clock(30);
    refused(&phone, &session.link("QR", Some(0)), "seconds old");
    // A browser that lands on the link (no app took it) gets a page that says what to do,
    // and claims nothing.
    let page = reqwest::blocking::get(&good).unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().unwrap();
    assert!(html.contains("Open this in the SplitID app"), "{html}");
    assert!(
        html.contains(&good.replace('&', "&amp;")),
        "the page shows the link: {html}"
    );
    assert_eq!(rp.status(&session.id, 1000).1["state"], "RUNNING");

    // The right phone with the right link: once.
    let answer = open(&phone, &good, "1234\n");
    assert_eq!(answer["endResult"], "OK", "{answer}");
    refused(&phone, &good, "opens no session");
    checked_flow_certificate(&rp.result(&session.id), "ACSP_V2", "Web2App");

    // Another service's link is not sent anywhere.
    refused(
        &phone,
        &good.replace(&server.url, "https://id.example.org"),
        "no account on this device at https://id.example.org",
    );
}

#[test]
fn a_certificate_choice_by_web2app_then_its_linked_signature_with_another_session_refused() {
    let server = Server::start(&[]);
    let phone = Phone::new();
    let document = phone.register(&server, PERSON, "1234", "12345");
    let rp = v3(&server);
    let mut body = json!({"relyingPartyUUID": DEMO_RP_UUID, "relyingPartyName": "DEMO"});
    body["initialCallbackUrl"] = json!(CALLBACK);
    let choice = LinkSession::start(
        &rp,
        "/signature/certificate-choice/device-link/anonymous",
        &body,
    );
    // The phone chooses, then waits for the signature that follows.
    let opened = phone.spawn(
        &["--json", "open", &choice.link("Web2App", None)],
        "12345\n",
    );
    let chosen = rp.result(&choice.id);
    assert_eq!(chosen["result"]["documentNumber"], document.as_str());
    assert_eq!(chosen["signature"], json!({"flowType": "Web2App"}));

    // A session that is not the linked one, meanwhile: the waiting app refuses it.
    let sent = interactions(json!([{"type": "displayTextAndPIN", "displayText60": "Log in?"}]));
    let (status, other) = rp.post(
        &format!("/authentication/notification/document/{document}"),
        &authentication_body(&random_challenge(), "SHA-256", &sent),
    );
    assert_eq!(status, 200, "{other}");
    let other = rp.result(other["sessionID"].as_str().unwrap());
    assert_eq!(
        other["result"]["endResult"], "EXPECTED_LINKED_SESSION",
        "{other}"
    );

    let sent = interactions(json!([{"type": "displayTextAndPIN", "displayText60": "Sign?"}]));
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA512, b"the contract");
    let mut body = signature_body(
        digest.as_ref(),
        json!({"signatureAlgorithm": "rsassa-pss", "signatureAlgorithmParameters": {"hashAlgorithm": "SHA-512"}}),
        &sent,
    );
    let path = format!("/signature/notification/linked/{document}");
    for (linked, problem) in [
        (json!(uuid::Uuid::new_v4().to_string()), "no such session"),
        (
            json!(other_session_of(&rp)),
            "not a device-link certificate choice",
        ),
    ] {
        body["linkedSessionID"] = linked;
        let (status, refused) = rp.post(&path, &body);
        assert_eq!(status, 400, "{refused}");
        assert!(
            refused["detail"].as_str().unwrap().contains(problem),
            "{refused}"
        );
    }
    body["linkedSessionID"] = json!(choice.id);
    let (status, started) = rp.post(&path, &body);
    assert_eq!(status, 200, "{started}");
    assert!(
        started.get("vc").is_none(),
        "a linked signature shows no code: {started}"
    );

    let output = opened.join().unwrap();
    assert_success(&output);
    let answer: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(answer["endResult"], "OK", "{answer}");
    let expected = format!("{CALLBACK}&sessionSecretDigest={}", choice.secret_digest());
    assert_eq!(
        answer["callbackUrl"],
        expected.as_str(),
        "returns after the signature"
    );
    let result = rp.result(started["sessionID"].as_str().unwrap());
    let modulus = checked_flow_certificate(&result, "RAW_DIGEST_SIGNATURE", "Web2App");
    assert!(aws_lc_verifies(
        &modulus,
        &signature::RSA_PSS_2048_8192_SHA512,
        b"the contract",
        &result
    ));
}

/// A finished notification certificate choice of this relying party: not one a signature can
/// be linked to.
fn other_session_of(rp: &RelyingParty) -> String {
    let (status, started) = rp.post(
        &format!("/signature/certificate-choice/notification/etsi/{PERSON}"),
        &json!({"relyingPartyUUID": DEMO_RP_UUID, "relyingPartyName": "DEMO"}),
    );
    assert_eq!(status, 200, "{started}");
    let id = started["sessionID"].as_str().unwrap().to_owned();
    rp.result(&id);
    id
}
