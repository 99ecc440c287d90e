//! End to end through RP API v3's notification flows: the real `splitid serve --demo`, the
//! real `splitid app` as the phone, a relying party speaking v3 over HTTP and verifying as
//! docs/spec/rp-api.md §2.10 says, with verifiers nobody here wrote (aws-lc-rs for SHA-2 PSS,
//! the `openssl` command for SHA3).

use aws_lc_rs::signature::{self, RsaPublicKeyComponents};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD as BASE64, URL_SAFE_NO_PAD as BASE64URL};
use serde_json::{Value, json};
use splitid_testkit::*;

pub(crate) const PERSON: &str = "PNOEE-30303039914";

pub(crate) fn v3(server: &Server) -> RelyingParty {
    let mut rp = RelyingParty::new(server);
    rp.base = format!("{}/v3", server.url);
    rp
}

pub(crate) fn interactions(list: Value) -> String {
    BASE64.encode(list.to_string())
}

pub(crate) fn random_challenge() -> String {
    let mut bytes = [0u8; 64];
    aws_lc_rs::rand::fill(&mut bytes).unwrap();
    BASE64.encode(bytes)
}

pub(crate) fn authentication_body(rp_challenge: &str, hash: &str, interactions: &str) -> Value {
    json!({
        "relyingPartyUUID": DEMO_RP_UUID,
        "relyingPartyName": "DEMO",
        "signatureProtocol": "ACSP_V2",
        "signatureProtocolParameters": {
            "rpChallenge": rp_challenge,
            "signatureAlgorithm": "rsassa-pss",
            "signatureAlgorithmParameters": {"hashAlgorithm": hash}
        },
        "interactions": interactions,
        "vcType": "numeric4",
    })
}

/// A RAW_DIGEST_SIGNATURE body; `algorithm` holds `signatureAlgorithm` and its parameters.
pub(crate) fn signature_body(digest: &[u8], mut algorithm: Value, interactions: &str) -> Value {
    algorithm["digest"] = json!(BASE64.encode(digest));
    json!({
        "relyingPartyUUID": DEMO_RP_UUID,
        "relyingPartyName": "DEMO",
        "signatureProtocol": "RAW_DIGEST_SIGNATURE",
        "signatureProtocolParameters": algorithm,
        "interactions": interactions,
    })
}

/// The ACSP_V2 payload of a notification, as §2.6 writes it.
fn acsp_payload(result: &Value, rp_challenge: &str, interactions: &str) -> Vec<u8> {
    acsp_payload_returning(result, rp_challenge, interactions, "")
}

/// The ACSP_V2 payload as §2.6 writes it, built here from the status fields (not with the
/// service's code); `callback` is the `initialCallbackUrl` of a Web2App or App2App flow.
pub(crate) fn acsp_payload_returning(
    result: &Value,
    rp_challenge: &str,
    interactions: &str,
    callback: &str,
) -> Vec<u8> {
    let signature = &result["signature"];
    let interactions_digest = BASE64.encode(aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA256,
        interactions.as_bytes(),
    ));
    format!(
        "smart-id-demo|ACSP_V2|{}|{rp_challenge}|{}|{}||{interactions_digest}|{}|{callback}|{}",
        signature["serverRandom"].as_str().unwrap(),
        signature["userChallenge"].as_str().unwrap(),
        BASE64.encode("DEMO"),
        result["interactionTypeUsed"].as_str().unwrap(),
        signature["flowType"].as_str().unwrap(),
    )
    .into_bytes()
}

/// The certificate's modulus, after the checks a relying party makes of a notification's
/// result.
fn checked_certificate(result: &Value, protocol: &str) -> Vec<u8> {
    checked_flow_certificate(result, protocol, "Notification")
}

/// The certificate's modulus, after the checks a relying party makes of the result of a
/// session the phone got by `flow`.
pub(crate) fn checked_flow_certificate(result: &Value, protocol: &str, flow: &str) -> Vec<u8> {
    assert_eq!(result["state"], "COMPLETE", "{result}");
    assert_eq!(result["result"]["endResult"], "OK", "{result}");
    assert_eq!(result["signatureProtocol"], protocol, "{result}");
    assert_eq!(result["signature"]["flowType"], flow, "{result}");
    let certificate = b64decode(result["cert"]["value"].as_str().unwrap());
    let identity = splitid_pki::parse_identity(&certificate).unwrap();
    assert_eq!(identity.semantics_identifier, PERSON);
    assert_eq!(
        result["result"]["documentNumber"],
        identity.document_number.as_str()
    );
    identity.rsa_modulus
}

pub(crate) fn aws_lc_verifies(
    modulus: &[u8],
    algorithm: &'static signature::RsaParameters,
    message: &[u8],
    result: &Value,
) -> bool {
    let key = RsaPublicKeyComponents {
        n: modulus,
        e: &[1u8, 0, 1][..],
    };
    let signature = b64decode(result["signature"]["value"].as_str().unwrap());
    key.verify(algorithm, message, &signature).is_ok()
}

/// `openssl dgst -verify` with the certificate's key, RSASSA-PSS with salt = digest length.
fn openssl_verifies(result: &Value, digest: &str, message: &[u8]) -> bool {
    let dir = tempfile::tempdir().unwrap();
    let certificate = b64decode(result["cert"]["value"].as_str().unwrap());
    std::fs::write(dir.path().join("cert.der"), certificate).unwrap();
    let key = std::process::Command::new("openssl")
        .args(["x509", "-inform", "DER", "-pubkey", "-noout", "-in"])
        .arg(dir.path().join("cert.der"))
        .output()
        .unwrap();
    assert!(key.status.success(), "{key:?}");
    std::fs::write(dir.path().join("key.pem"), key.stdout).unwrap();
    std::fs::write(dir.path().join("message"), message).unwrap();
    let signature = b64decode(result["signature"]["value"].as_str().unwrap());
    std::fs::write(dir.path().join("signature"), signature).unwrap();
    let verify = std::process::Command::new("openssl")
        .args(["dgst", digest, "-sigopt", "rsa_padding_mode:pss"])
        .args(["-sigopt", "rsa_pss_saltlen:digest", "-verify"])
        .arg(dir.path().join("key.pem"))
        .arg("-signature")
        .arg(dir.path().join("signature"))
        .arg(dir.path().join("message"))
        .output()
        .unwrap();
    String::from_utf8_lossy(&verify.stdout).contains("Verified OK")
}

#[test]
fn notification_login_with_acsp_v2_over_sha2_and_sha3() {
    let server = Server::start(&[]);
    let phone = Phone::new();
    let document = phone.register(&server, PERSON, "1234", "12345");
    let rp = v3(&server);
    let sent =
        interactions(json!([{"type": "displayTextAndPIN", "displayText60": "Log in to DEMO"}]));

    for (hash, by) in [
        (
            "SHA-512",
            format!("/authentication/notification/etsi/{PERSON}"),
        ),
        (
            "SHA3-256",
            format!("/authentication/notification/document/{document}"),
        ),
    ] {
        let challenge = random_challenge();
        let (status, started) = rp.post(&by, &authentication_body(&challenge, hash, &sent));
        assert_eq!(status, 200, "{started}");
        assert!(
            started.get("vc").is_none(),
            "an authentication's code is the RP's own"
        );
        let session = started["sessionID"].as_str().unwrap();

        let confirm = phone.run(&["confirm", "--next", "--wait", "10"], "1234\n");
        assert_success(&confirm);
        // §2.8: the code is computed from the decoded rpChallenge.
        let code = splitid_proto::VerificationCode::from_hash(&BASE64.decode(&challenge).unwrap());
        let shown = stdout(&confirm);
        assert!(
            shown.contains("Log in to DEMO") && shown.contains(&code.to_string()),
            "{shown}"
        );

        let result = rp.result(session);
        let modulus = checked_certificate(&result, "ACSP_V2");
        assert_eq!(result["interactionTypeUsed"], "displayTextAndPIN");
        assert_eq!(result["signature"]["signatureAlgorithm"], "rsassa-pss");
        let parameters = &result["signature"]["signatureAlgorithmParameters"];
        assert_eq!(parameters["hashAlgorithm"], hash);
        assert_eq!(
            parameters["maskGenAlgorithm"]["parameters"]["hashAlgorithm"],
            hash
        );
        assert!(result["signature"]["serverRandom"].as_str().unwrap().len() >= 24);
        let user_challenge = result["signature"]["userChallenge"].as_str().unwrap();
        assert_eq!(BASE64URL.decode(user_challenge).unwrap().len(), 32);

        let payload = acsp_payload(&result, &challenge, &sent);
        let verified = match hash {
            "SHA-512" => aws_lc_verifies(
                &modulus,
                &signature::RSA_PSS_2048_8192_SHA512,
                &payload,
                &result,
            ),
            _ => openssl_verifies(&result, "-sha3-256", &payload),
        };
        assert!(verified, "the ACSP_V2 signature over {hash} verifies");
        let mut altered = payload.clone();
        altered[0] ^= 1;
        assert!(!openssl_verifies(
            &result,
            &format!("-{}", hash.to_lowercase().replace("sha-", "sha")),
            &altered
        ));
    }
}

#[test]
fn notification_signing_with_pss_and_the_deprecated_pkcs1_name() {
    let server = Server::start(&[]);
    let phone = Phone::new();
    let document = phone.register(&server, PERSON, "1234", "12345");
    let rp = v3(&server);
    let sent = interactions(
        json!([{"type": "confirmationMessage", "displayText200": "Sign the contract?"}]),
    );
    let message = b"the contract";

    let cases: [(
        Value,
        &aws_lc_rs::digest::Algorithm,
        &'static signature::RsaParameters,
        &str,
    ); 2] = [
        (
            json!({"signatureAlgorithm": "rsassa-pss", "signatureAlgorithmParameters": {"hashAlgorithm": "SHA-256"}}),
            &aws_lc_rs::digest::SHA256,
            &signature::RSA_PSS_2048_8192_SHA256,
            "rsassa-pss",
        ),
        (
            json!({"signatureAlgorithm": "sha512WithRSAEncryption"}),
            &aws_lc_rs::digest::SHA512,
            &signature::RSA_PKCS1_2048_8192_SHA512,
            "sha512WithRSAEncryption",
        ),
    ];
    for (algorithm, digest, verifier, name) in cases {
        let digest = aws_lc_rs::digest::digest(digest, message);
        let body = signature_body(digest.as_ref(), algorithm, &sent);
        let (status, started) = rp.post(
            &format!("/signature/notification/document/{document}"),
            &body,
        );
        assert_eq!(status, 200, "{started}");
        assert_eq!(started["vc"]["type"], "numeric4");
        let code = started["vc"]["value"].as_str().unwrap().to_owned();
        assert!(
            code.len() == 4 && code.bytes().all(|b| b.is_ascii_digit()),
            "{started}"
        );

        let confirm = phone.run(&["confirm", "--next", "--wait", "10"], "12345\n");
        assert_success(&confirm);
        assert!(
            stdout(&confirm).contains(&code),
            "the phone shows the service's code"
        );

        let result = rp.result(started["sessionID"].as_str().unwrap());
        let modulus = checked_certificate(&result, "RAW_DIGEST_SIGNATURE");
        assert_eq!(result["signature"]["signatureAlgorithm"], name);
        assert!(result["signature"].get("serverRandom").is_none());
        assert_eq!(result["interactionTypeUsed"], "confirmationMessage");
        assert!(
            aws_lc_verifies(&modulus, verifier, message, &result),
            "{name} verifies"
        );
        assert!(!aws_lc_verifies(
            &modulus,
            verifier,
            b"another contract",
            &result
        ));
    }
}

#[test]
fn refusals_certificates_and_problems() {
    let server = Server::start(&[]);
    let phone = Phone::new();
    let document = phone.register(&server, PERSON, "1234", "12345");
    let rp = v3(&server);
    let sent = interactions(json!([{"type": "confirmationMessage", "displayText200": "Sign?"}]));

    // A refused interaction is one end result, with the interaction in details.
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, b"refused");
    let body = signature_body(
        digest.as_ref(),
        json!({"signatureAlgorithm": "rsassa-pss", "signatureAlgorithmParameters": {"hashAlgorithm": "SHA-256"}}),
        &sent,
    );
    let session = rp.start(&format!("/signature/notification/etsi/{PERSON}"), &body);
    let refused = phone.refuse_next(Some("confirmationMessage"));
    assert_success(&refused);
    let result = rp.result(&session);
    assert_eq!(
        result["result"]["endResult"], "USER_REFUSED_INTERACTION",
        "{result}"
    );
    assert_eq!(
        result["result"]["details"]["interaction"],
        "confirmationMessage"
    );
    assert!(result.get("signature").is_none() && result.get("ignoredProperties").is_none());

    // Certificate choice by notification, then the synchronous lookup of the same certificate.
    let choice = json!({"relyingPartyUUID": DEMO_RP_UUID, "relyingPartyName": "DEMO"});
    let session = rp.start(
        &format!("/signature/certificate-choice/notification/etsi/{PERSON}"),
        &choice,
    );
    let result = rp.result(&session);
    assert_eq!(result["result"]["endResult"], "OK");
    assert_eq!(result["signature"], json!({"flowType": "Notification"}));
    assert!(result.get("signatureProtocol").is_none());
    let (status, lookup) = rp.post(&format!("/signature/certificate/{document}"), &choice);
    assert_eq!(status, 200, "{lookup}");
    assert_eq!(lookup["state"], "OK");
    assert_eq!(lookup["cert"], result["cert"]);

    // Problems: the field as a JSON Pointer; 401 without a body; 404 for nobody.
    let mut bad = authentication_body("AAAA", "SHA-512", &sent);
    bad["vcType"] = json!("numeric4");
    let (status, problem) = rp.post(&format!("/authentication/notification/etsi/{PERSON}"), &bad);
    assert_eq!(status, 400, "{problem}");
    assert_eq!(
        problem["errors"][0]["pointer"],
        "/signatureProtocolParameters/rpChallenge"
    );
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("32 to 64 bytes"),
        "{problem}"
    );
    let mut stranger = choice.clone();
    stranger["relyingPartyUUID"] = json!("11111111-1111-4111-8111-111111111111");
    let (status, body) = rp.post(&format!("/signature/certificate/{document}"), &stranger);
    assert_eq!((status, body), (401, Value::Null));
    let (status, problem) = rp.post("/signature/certificate/PNOEE-30303039914-ZZZZ-Q", &choice);
    assert_eq!(status, 404, "{problem}");
    assert_eq!(problem["status"], 404);
    let (status, problem) = rp.get("/session/00000000-0000-4000-8000-000000000001");
    assert_eq!((status, &problem["title"]), (404, &json!("Not Found")));
    let (status, _) = rp.get(&format!("/session/{session}?timeoutMs=999"));
    assert_eq!(status, 400);
}

/// `deviceIpAddress` only for a relying party with the privilege that asked for it
/// (`requestProperties.shareMdClientIpAddress`); another's request for it comes back in
/// `ignoredProperties`. v2 reports it the same way.
#[test]
fn the_phones_address_only_for_a_relying_party_with_the_privilege() {
    let server = Server::start(&[]);
    let phone = Phone::new();
    phone.register(&server, PERSON, "1234", "12345");
    let sent = interactions(json!([{"type": "displayTextAndPIN", "displayText60": "Log in?"}]));
    let shop = server.admin_json(&["rp", "add", "--name", "Shop"]);
    assert_eq!(shop["shareDeviceIp"], false, "{shop}");
    let privileged = server.admin_json(&["rp", "add", "--name", "Bank", "--share-device-ip"]);
    assert_eq!(privileged["shareDeviceIp"], true, "{privileged}");
    let login = |rp: &RelyingParty, uuid: &str, name: &str| {
        let mut body = authentication_body(&random_challenge(), "SHA-512", &sent);
        body["relyingPartyUUID"] = json!(uuid);
        body["relyingPartyName"] = json!(name);
        body["requestProperties"] = json!({"shareMdClientIpAddress": true});
        let path = format!("/authentication/notification/etsi/{PERSON}");
        let (status, started) = rp.post(&path, &body);
        assert_eq!(status, 200, "{started}");
        assert_success(&phone.run(&["confirm", "--next", "--wait", "10"], "1234\n"));
        rp.result(started["sessionID"].as_str().unwrap())
    };
    let rp = v3(&server);
    for (uuid, name) in [
        (DEMO_RP_UUID, "DEMO"),
        (privileged["uuid"].as_str().unwrap(), "Bank"),
    ] {
        let result = login(&rp, uuid, name);
        assert_eq!(result["deviceIpAddress"], "127.0.0.1", "{result}");
        assert_eq!(result["ignoredProperties"], json!([]), "{result}");
    }
    let result = login(&rp, shop["uuid"].as_str().unwrap(), "Shop");
    assert!(result.get("deviceIpAddress").is_none(), "{result}");
    assert_eq!(
        result["ignoredProperties"],
        json!(["shareMdClientIpAddress"]),
        "{result}"
    );

    let v2 = RelyingParty::new(&server);
    let mut body = login_body(display_text_and_pin("Log in?"));
    body["requestProperties"] = json!({"shareMdClientIpAddress": true});
    let session = v2.start(&format!("/authentication/etsi/{PERSON}"), &body);
    assert_success(&phone.run(&["confirm", "--next", "--wait", "10"], "1234\n"));
    assert_eq!(v2.result(&session)["deviceIpAddress"], "127.0.0.1");
}
