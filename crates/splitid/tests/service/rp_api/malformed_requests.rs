//! End to end: relying-party input the API must turn away (docs/spec/rp-api.md §1.3, §1.7). Every bad
//! request gets its documented 4xx with a JSON `detail` naming the problem, never a 5xx, and
//! changes nothing: no session reaches the phone, no usage is counted. Also the 15-second
//! idempotency rule.

use serde_json::{Value, json};
use splitid_testkit::*;

const PERSON: &str = "PNOEE-30303039914";
const UNKNOWN_PERSON: &str = "PNOEE-38001085718";

/// An expected refusal: the status, and words the `detail` must contain.
struct Expect {
    status: u16,
    detail: &'static str,
}

const fn expect(status: u16, detail: &'static str) -> Expect {
    Expect { status, detail }
}

fn check(what: &str, (status, answer): (u16, Value), expected: &Expect) {
    assert_eq!(status, expected.status, "{what}: {answer}");
    let detail = answer["detail"]
        .as_str()
        .unwrap_or_else(|| panic!("{what}: no JSON detail in {answer}"));
    assert!(
        detail.contains(expected.detail),
        "{what}: detail {detail:?} should mention {:?}",
        expected.detail
    );
    assert_eq!(answer["status"], status, "{what}: {answer}");
}

/// `body` with `field` (a JSON pointer) replaced, or removed when `value` is None.
fn with(body: &Value, pointer: &str, value: Option<Value>) -> Value {
    let mut body = body.clone();
    match value {
        Some(value) => {
            *body
                .pointer_mut(pointer)
                .unwrap_or_else(|| panic!("{pointer}")) = value
        }
        None => {
            let (parent, field) = pointer.rsplit_once('/').unwrap();
            body.pointer_mut(parent)
                .and_then(Value::as_object_mut)
                .unwrap()
                .remove(field);
        }
    }
    body
}

/// Bad bodies every endpoint refuses, from a valid `body`.
fn common_cases(body: &Value) -> Vec<(String, Value, Expect)> {
    let c = |what: &str, body: Value, e: Expect| (what.to_owned(), body, e);
    vec![
        c(
            "no relyingPartyUUID",
            with(body, "/relyingPartyUUID", None),
            expect(400, "relyingPartyUUID"),
        ),
        c(
            "relyingPartyUUID not a UUID",
            with(
                body,
                "/relyingPartyUUID",
                Some(json!("00000000-0000-4000-8000")),
            ),
            expect(400, "relyingPartyUUID"),
        ),
        c(
            "relyingPartyUUID a number",
            with(body, "/relyingPartyUUID", Some(json!(7))),
            expect(400, "relyingPartyUUID"),
        ),
        c(
            "unknown relyingPartyUUID",
            with(
                body,
                "/relyingPartyUUID",
                Some(json!("5d7d0d1c-8c9b-4f3e-9a55-0c6a8d0b1e2f")),
            ),
            expect(401, "relyingParty"),
        ),
        c(
            "wrong relyingPartyName",
            with(body, "/relyingPartyName", Some(json!("NOT DEMO"))),
            expect(401, "relyingParty"),
        ),
        c(
            "relyingPartyName of 33 bytes",
            with(
                body,
                "/relyingPartyName",
                Some(json!(format!("{}D", "Ä".repeat(16)))),
            ),
            expect(400, "relyingPartyName"),
        ),
        c(
            "relyingPartyName empty",
            with(body, "/relyingPartyName", Some(json!(""))),
            expect(400, "relyingPartyName"),
        ),
        c(
            "relyingPartyName a list",
            with(body, "/relyingPartyName", Some(json!(["DEMO"]))),
            expect(400, "relyingPartyName"),
        ),
        c(
            "certificateLevel ADVANCED (not allowed to the demo)",
            with(body, "/certificateLevel", Some(json!("ADVANCED"))),
            expect(403, "ADVANCED"),
        ),
        c(
            "certificateLevel unknown",
            with(body, "/certificateLevel", Some(json!("SUPREME"))),
            expect(400, "certificateLevel"),
        ),
        c(
            "certificateLevel a number",
            with(body, "/certificateLevel", Some(json!(2))),
            expect(400, "certificateLevel"),
        ),
        c(
            "nonce of 31 characters",
            with(body, "/nonce", Some(json!("n".repeat(31)))),
            expect(400, "nonce"),
        ),
        c(
            "nonce empty",
            with(body, "/nonce", Some(json!(""))),
            expect(400, "nonce"),
        ),
        c(
            "nonce a number",
            with(body, "/nonce", Some(json!(12345))),
            expect(400, "nonce"),
        ),
        c(
            "requestProperties a string",
            with(body, "/requestProperties", Some(json!("share"))),
            expect(400, "requestProperties"),
        ),
        c(
            "shareMdClientIpAddress a string",
            with(
                body,
                "/requestProperties",
                Some(json!({"shareMdClientIpAddress": "yes"})),
            ),
            expect(400, "shareMdClientIpAddress"),
        ),
        c(
            "capabilities a string",
            with(body, "/capabilities", Some(json!("ADVANCED"))),
            expect(400, "capabilities"),
        ),
        c("a JSON array", json!([body]), expect(400, "request body")),
        c("JSON null", Value::Null, expect(400, "request body")),
    ]
}

/// Bad bodies of authentication and signature requests.
fn signing_cases(body: &Value) -> Vec<(String, Value, Expect)> {
    let c = |what: &str, body: Value, e: Expect| (what.to_owned(), body, e);
    let text = |n: usize| json!("x".repeat(n));
    vec![
        c("no hash", with(body, "/hash", None), expect(400, "hash")),
        c(
            "hash not base64",
            with(body, "/hash", Some(json!("not*base64!"))),
            expect(400, "hash"),
        ),
        c(
            "hash base64url",
            with(body, "/hash", Some(json!("-_".repeat(44)))),
            expect(400, "hash"),
        ),
        c(
            "hash a number",
            with(body, "/hash", Some(json!(42))),
            expect(400, "hash"),
        ),
        c(
            "hash too short for SHA512",
            with(body, "/hash", Some(json!(b64(&[1u8; 32])))),
            expect(400, "hash"),
        ),
        c(
            "hash too long for SHA256",
            with(body, "/hashType", Some(json!("SHA256"))),
            expect(400, "hash"),
        ),
        c(
            "hash empty",
            with(body, "/hash", Some(json!(""))),
            expect(400, "hash"),
        ),
        c(
            "hashType unknown",
            with(body, "/hashType", Some(json!("MD5"))),
            expect(400, "hashType"),
        ),
        c(
            "hashType lower case",
            with(body, "/hashType", Some(json!("sha512"))),
            expect(400, "hashType"),
        ),
        c(
            "no hashType",
            with(body, "/hashType", None),
            expect(400, "hashType"),
        ),
        c(
            "no interactions",
            with(body, "/allowedInteractionsOrder", None),
            expect(400, "allowedInteractionsOrder"),
        ),
        c(
            "empty interactions",
            with(body, "/allowedInteractionsOrder", Some(json!([]))),
            expect(400, "allowedInteractionsOrder"),
        ),
        c(
            "interactions an object",
            with(
                body,
                "/allowedInteractionsOrder",
                Some(json!({"type": "displayTextAndPIN"})),
            ),
            expect(400, "allowedInteractionsOrder"),
        ),
        c(
            "displayText60 of 61 characters",
            with(
                body,
                "/allowedInteractionsOrder/0/displayText60",
                Some(text(61)),
            ),
            expect(400, "displayText60"),
        ),
        c(
            "displayText60 empty",
            with(
                body,
                "/allowedInteractionsOrder/0/displayText60",
                Some(text(0)),
            ),
            expect(400, "displayText60"),
        ),
        c(
            "displayText60 a number",
            with(
                body,
                "/allowedInteractionsOrder/0/displayText60",
                Some(json!(60)),
            ),
            expect(400, "allowedInteractionsOrder"),
        ),
        c(
            "displayText200 of 201 characters",
            with(
                body,
                "/allowedInteractionsOrder",
                Some(json!([{"type": "confirmationMessage", "displayText200": "y".repeat(201)}])),
            ),
            expect(400, "displayText200"),
        ),
        c(
            "displayText200 on displayTextAndPIN",
            with(
                body,
                "/allowedInteractionsOrder",
                Some(json!([{"type": "displayTextAndPIN", "displayText200": "Hi"}])),
            ),
            expect(400, "displayText200"),
        ),
        c(
            "unknown interaction",
            with(
                body,
                "/allowedInteractionsOrder/0/type",
                Some(json!("pushAndPray")),
            ),
            expect(400, "type"),
        ),
        c(
            "interaction listed twice",
            with(
                body,
                "/allowedInteractionsOrder",
                Some(
                    json!([{"type": "displayTextAndPIN", "displayText60": "a"}, {"type": "displayTextAndPIN", "displayText60": "b"}]),
                ),
            ),
            expect(400, "twice"),
        ),
    ]
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn signing_template() -> Value {
    let mut body = login_body(display_text_and_pin("Log in to DEMO"));
    body["certificateLevel"] = json!("QUALIFIED");
    body["nonce"] = json!("abc");
    body["requestProperties"] = json!({});
    body["capabilities"] = json!([]);
    body
}

fn choice_template() -> Value {
    let mut body = certificate_choice_body();
    body["certificateLevel"] = json!("QUALIFIED");
    body["nonce"] = json!("abc");
    body["requestProperties"] = json!({});
    body["capabilities"] = json!([]);
    body
}

#[test]
fn bad_requests_get_their_4xx_and_change_nothing() {
    let server = Server::start(&[]);
    let phone = Phone::new();
    let document = phone.register(&server, PERSON, "1234", "12345");
    let rp = RelyingParty::new(&server);
    let usage_before = server.usage_counts();

    let mut endpoints: Vec<(String, Value)> = Vec::new();
    for kind in ["authentication", "signature", "certificatechoice"] {
        for target in [format!("etsi/{PERSON}"), format!("document/{document}")] {
            let template = if kind == "certificatechoice" {
                choice_template()
            } else {
                signing_template()
            };
            endpoints.push((format!("/{kind}/{target}"), template));
        }
    }

    for (path, template) in &endpoints {
        let mut cases = common_cases(template);
        if !path.starts_with("/certificatechoice") {
            cases.extend(signing_cases(template));
        }
        for (what, body, expected) in cases {
            check(&format!("{path}: {what}"), rp.post(path, &body), &expected);
        }
        for (what, raw) in [
            ("malformed JSON", r#"{"relyingPartyUUID": "#.to_owned()),
            ("an empty body", String::new()),
            ("trailing garbage", format!("{template} x")),
            (
                "a control character in a string",
                "{\"relyingPartyName\": \"\u{0}\"}".to_owned(),
            ),
        ] {
            check(
                &format!("{path}: {what}"),
                rp.post_raw(path, &raw),
                &expect(400, "request body"),
            );
        }
        // A multi-megabyte body: refused (413, as documented) without being read to the end.
        let mut huge = template.clone();
        huge["padding"] = json!("p".repeat(3 << 20));
        check(
            &format!("{path}: 3 MB body"),
            rp.post(path, &huge),
            &expect(413, "request body"),
        );
    }

    // Identifiers in the path.
    let signing = signing_template();
    let choice = choice_template();
    for kind in ["authentication", "signature", "certificatechoice"] {
        let body = if kind == "certificatechoice" {
            &choice
        } else {
            &signing
        };
        for (target, expected) in [
            ("etsi/PNOEE", expect(400, "semantics identifier")),
            (
                "etsi/PNOE1-30303039914",
                expect(400, "semantics identifier"),
            ),
            (
                "etsi/pnoee-30303039914",
                expect(400, "semantics identifier"),
            ),
            (
                "etsi/XYZEE-30303039914",
                expect(400, "semantics identifier"),
            ),
            ("etsi/PNOEE-%FF%FE", expect(400, "")),
            (
                "etsi/PNOEE-3030%2F3039914",
                expect(400, "semantics identifier"),
            ),
            ("document/banana", expect(400, "document number")),
            ("document/PNOEE-30303039914", expect(400, "document number")),
            ("document/%C3%28", expect(400, "")),
            (
                &format!("etsi/{UNKNOWN_PERSON}"),
                expect(404, UNKNOWN_PERSON),
            ),
            (
                &format!("document/{UNKNOWN_PERSON}-ABCD-Q"),
                expect(404, UNKNOWN_PERSON),
            ),
            ("etsi/", expect(404, "")),
            ("document/", expect(404, "")),
        ] {
            check(
                &format!("{kind}/{target}"),
                rp.post(&format!("/{kind}/{target}"), body),
                &expected,
            );
        }
    }
    // Authentication has no QSCD level.
    for target in [format!("etsi/{PERSON}"), format!("document/{document}")] {
        check(
            &format!("authentication/{target} QSCD"),
            rp.post(
                &format!("/authentication/{target}"),
                &with(&signing, "/certificateLevel", Some(json!("QSCD"))),
            ),
            &expect(400, "certificateLevel"),
        );
    }

    // Session status: garbage ids and timeouts.
    let unknown = "0b5c3c4e-31bb-4a8e-9d0f-5d2f1a7c9e11";
    for (query, expected) in [
        (
            format!("/session/{unknown}?timeoutMs=1000"),
            expect(404, unknown),
        ),
        (
            "/session/garbage?timeoutMs=1000".to_owned(),
            expect(404, "garbage"),
        ),
        (
            format!("/session/{}?timeoutMs=1000", "7".repeat(5000)),
            expect(404, "no session"),
        ),
        (
            format!("/session/{}?timeoutMs=1000", unknown.to_uppercase()),
            expect(404, "no session"),
        ),
        ("/session/%FF%00?timeoutMs=1000".to_owned(), expect(400, "")),
        ("/session/?timeoutMs=1000".to_owned(), expect(404, "")),
        (
            format!("/session/{unknown}?timeoutMs=abc"),
            expect(400, "timeoutMs"),
        ),
        (
            format!("/session/{unknown}?timeoutMs=999"),
            expect(400, "timeoutMs"),
        ),
        (
            format!("/session/{unknown}?timeoutMs=120001"),
            expect(400, "timeoutMs"),
        ),
        (
            format!("/session/{unknown}?timeoutMs=-1000"),
            expect(400, "timeoutMs"),
        ),
        (
            format!("/session/{unknown}?timeoutMs="),
            expect(400, "timeoutMs"),
        ),
        (
            format!("/session/{unknown}?timeoutMs=1e4"),
            expect(400, "timeoutMs"),
        ),
        (
            format!("/session/{unknown}?timeoutMs=1000&timeoutMs=2000"),
            expect(400, "timeoutMs"),
        ),
    ] {
        check(&query, rp.get(&query), &expected);
    }
    // Wrong methods.
    check(
        "GET on a POST endpoint",
        rp.get(&format!("/authentication/etsi/{PERSON}")),
        &expect(405, ""),
    );
    check(
        "POST on the session endpoint",
        rp.post(&format!("/session/{unknown}"), &signing),
        &expect(405, ""),
    );

    // Nothing happened.
    assert!(phone.pending().is_empty(), "no session reached the phone");
    assert_eq!(server.usage_counts(), usage_before, "no session completed");
    // …and the same server still serves a good request.
    let session = rp.start(&format!("/authentication/etsi/{PERSON}"), &signing);
    assert_eq!(phone.pending().len(), 1);
    assert_success(&phone.confirm_next(&[], "1234\n"));
    assert_eq!(rp.result(&session)["result"]["endResult"], "OK");
}

#[test]
fn identical_requests_within_15_seconds_share_a_session() {
    let server = Server::start(&[]);
    let phone = Phone::new();
    let document = phone.register(&server, PERSON, "1234", "12345");
    let rp = RelyingParty::new(&server);
    let login = format!("/authentication/etsi/{PERSON}");
    let body = signing_template();

    let first = rp.start(&login, &body);
    assert_eq!(rp.start(&login, &body), first, "identical: same session");
    let mut renonced = body.clone();
    renonced["nonce"] = json!("another nonce");
    let second = rp.start(&login, &renonced);
    assert_ne!(second, first, "another nonce: a new session");
    assert_eq!(rp.start(&login, &renonced), second);
    // What differs besides the nonce also makes a new session.
    for (path, other) in [
        (format!("/signature/etsi/{PERSON}"), body.clone()),
        (format!("/authentication/document/{document}"), body.clone()),
        (
            login.clone(),
            with(&body, "/hash", Some(json!(b64(&fresh_hash("other"))))),
        ),
        (
            login.clone(),
            with(
                &body,
                "/allowedInteractionsOrder/0/displayText60",
                Some(json!("Other text")),
            ),
        ),
        (
            login.clone(),
            with(
                &body,
                "/relyingPartyUUID",
                Some(json!("00000000-0000-0000-0000-000000000000")),
            ),
        ),
    ] {
        let other_session = rp.start(&path, &other);
        assert!(
            other_session != first && other_session != second,
            "{path} {other}"
        );
    }
    let pending: Vec<String> = phone
        .pending()
        .iter()
        .map(|p| {
            p["transaction"]["transactionId"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(pending.len(), 7, "{pending:?}");
    assert!(pending.contains(&first) && pending.contains(&second));

    // 15 seconds later the same request starts a new session.
    server.advance_clock(16);
    let later = rp.start(&login, &body);
    assert_ne!(later, first);
    assert_eq!(rp.start(&login, &body), later);
}
