//! End to end: the real `splitid serve --demo`, the real `splitid app` as the phone, and a
//! relying party speaking RP API v2 over HTTP.

use aws_lc_rs::signature::{self, RsaPublicKeyComponents};
use serde_json::json;
use splitid_testkit::*;

/// Verifies an RP API v2 result as a relying party must: OK, the certificate's key signed the
/// hash (PKCS#1 v1.5), the certificate names the person.
fn assert_signed(
    result: &serde_json::Value,
    message: &[u8],
    algorithm: &'static signature::RsaParameters,
    document: &str,
) {
    assert_eq!(result["result"]["endResult"], "OK", "{result}");
    assert_eq!(result["result"]["documentNumber"], document);
    assert_eq!(result["cert"]["certificateLevel"], "QUALIFIED");
    let certificate = b64decode(result["cert"]["value"].as_str().unwrap());
    let identity = splitid_pki::parse_identity(&certificate).unwrap();
    assert_eq!(identity.semantics_identifier, "PNOEE-30303039914");
    assert_eq!(identity.document_number, document);
    let key = RsaPublicKeyComponents {
        n: identity.rsa_modulus.as_slice(),
        e: &[1u8, 0, 1][..],
    };
    let signature = b64decode(result["signature"]["value"].as_str().unwrap());
    key.verify(algorithm, message, &signature)
        .expect("the signature verifies with the certificate's key");
}

#[test]
fn login_by_identity_and_by_document_number() {
    let server = Server::start(&[]);
    let phone = Phone::new();
    let document = phone.register(&server, "PNOEE-30303039914", "1234", "12345");
    assert!(
        document.starts_with("PNOEE-30303039914-") && document.ends_with("-Q"),
        "{document}"
    );
    let rp = RelyingParty::new(&server);

    for path in [
        "/authentication/etsi/PNOEE-30303039914".to_owned(),
        format!("/authentication/document/{document}"),
    ] {
        let message = format!("random challenge for {path}");
        let hash = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA512, message.as_bytes());
        let session = rp.start(
            &path,
            &signing_body(
                hash.as_ref(),
                "SHA512",
                display_text_and_pin("Log in to DEMO"),
            ),
        );
        let (status, running) = rp.status(&session, 1000);
        assert_eq!((status, running["state"].as_str()), (200, Some("RUNNING")));

        let confirm = phone.run(&["confirm", "--next", "--wait", "10"], "1234\n");
        assert_success(&confirm);
        let shown = stdout(&confirm);
        assert!(shown.contains("Log in to DEMO"), "{shown}");
        let code = splitid_proto::VerificationCode::from_hash(hash.as_ref()).to_string();
        assert!(
            shown.contains(&code),
            "the phone shows the verification code {code}: {shown}"
        );

        let result = rp.result(&session);
        assert_eq!(result["signature"]["algorithm"], "sha512WithRSAEncryption");
        assert_eq!(result["interactionFlowUsed"], "displayTextAndPIN");
        assert_signed(
            &result,
            message.as_bytes(),
            &signature::RSA_PKCS1_2048_8192_SHA512,
            &document,
        );
    }
}

#[test]
fn signing_with_every_hash_type_and_a_wrong_pin_first() {
    let server = Server::start(&[]);
    let phone = Phone::new();
    let document = phone.register(&server, "PNOEE-30303039914", "1234", "12345");
    let rp = RelyingParty::new(&server);
    let cases: [(
        &str,
        &aws_lc_rs::digest::Algorithm,
        &'static signature::RsaParameters,
    ); 3] = [
        (
            "SHA256",
            &aws_lc_rs::digest::SHA256,
            &signature::RSA_PKCS1_2048_8192_SHA256,
        ),
        (
            "SHA384",
            &aws_lc_rs::digest::SHA384,
            &signature::RSA_PKCS1_2048_8192_SHA384,
        ),
        (
            "SHA512",
            &aws_lc_rs::digest::SHA512,
            &signature::RSA_PKCS1_2048_8192_SHA512,
        ),
    ];
    for (hash_type, digest, verifier) in cases {
        let message = format!("document signed with {hash_type}");
        let hash = aws_lc_rs::digest::digest(digest, message.as_bytes());
        let body = signing_body(
            hash.as_ref(),
            hash_type,
            json!([{ "type": "confirmationMessage", "displayText200": "Sign the contract?" }]),
        );
        let session = rp.start(&format!("/signature/document/{document}"), &body);

        let wrong = phone.run(&["confirm", "--next", "--wait", "10"], "99999\n");
        assert!(!wrong.status.success());
        assert!(
            stderr(&wrong).contains("wrong PIN2: 2 attempts left"),
            "{}",
            stderr(&wrong)
        );

        assert_success(&phone.run(&["confirm", "--next", "--wait", "10"], "12345\n"));
        let result = rp.result(&session);
        assert_eq!(result["interactionFlowUsed"], "confirmationMessage");
        assert_signed(&result, message.as_bytes(), verifier, &document);
    }
}
