//! SK's published test vectors (docs/spec/rp-api.md §2.5, §2.6, §2.8, §2.9), reproduced, and
//! the strictness of link parsing.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use proptest::prelude::*;
use sha2::{Digest, Sha512};

use super::acsp::AcspV2;
use super::device_link::{
    AuthCode, DeviceLink, DeviceLinkType, LinkContext, SessionType, session_secret_digest,
    user_challenge,
};
use super::{FlowType, SessionTexts};
use crate::VerificationCode;

const SESSION_SECRET: &str = "B98ODiVCebRedSwdTk51zFSaGYyHtY1H2A0ocAi3/Ps=";
const INTERACTIONS: &str = "W3sidHlwZSI6ImNvbmZpcm1hdGlvbk1lc3NhZ2UiLCJkaXNwbGF5VGV4dDIwMCI6IkxvbmdlciBkZXNjcmlwdGlvbiBvZiB0aGUgdHJhbnNhY3Rpb24gY29udGV4dCJ9LHsidHlwZSI6ImRpc3BsYXlUZXh0QW5kUElOIiwiZGlzcGxheVRleHQ2MCI6IlNob3J0IGRlc2NyaXB0aW9uIG9mIHRoZSB0cmFuc2FjdGlvbiBjb250ZXh0In1d";
const CALLBACK: &str = "https://rp.example.com/callback-url?value=RrKjjT4aggzu27YBddX1bQ";
const RP_CHALLENGE: &str =
    "GYS+yoah6emAcVDNIajwSs6UB/M95XrDxMzXBUkwQJ9YFDipXXzGpPc7raWcuc2+TEoRc7WvIZ/7dU/iRXenYg==";
const DIGEST: &str =
    "FNZFFya5wGLv9b27fZngaWrOBqle4tGwxZuDFRBdPl1RQvxJsfoqvTbjafd+8BcehMOQGvak6zlP+F8tga4bfQ==";
const TOKEN: &str = "wGIrqveE6AuGDATZKmR1mtAZ";
const BASE: &str = "https://smart-id.com/device-link";

fn secret() -> Vec<u8> {
    BASE64.decode(SESSION_SECRET).unwrap()
}

fn link(link_type: DeviceLinkType, session_type: SessionType) -> DeviceLink {
    DeviceLink {
        base: BASE.into(),
        link_type,
        elapsed_seconds: (link_type == DeviceLinkType::Qr).then_some(22),
        session_token: TOKEN.into(),
        session_type,
        lang: "eng".into(),
    }
}

/// The vectors' session: SK's names, with the broker SK's vectors carry.
fn context(session_type: SessionType, callback: &'static str) -> LinkContext<'static> {
    let (signature_protocol, challenge, interactions) = match session_type {
        SessionType::Authentication => ("ACSP_V2", RP_CHALLENGE, INTERACTIONS),
        SessionType::Signature => ("RAW_DIGEST_SIGNATURE", DIGEST, INTERACTIONS),
        SessionType::CertificateChoice => ("", "", ""),
    };
    LinkContext {
        session: session(interactions, callback),
        signature_protocol,
        challenge,
    }
}

fn session(interactions: &'static str, callback: &'static str) -> SessionTexts<'static> {
    SessionTexts {
        scheme_name: "smart-id",
        relying_party_name: "DEMO",
        brokered_rp_name: "Example RP",
        interactions,
        initial_callback_url: callback,
    }
}

#[test]
fn auth_codes_match_sks_vectors() {
    use DeviceLinkType::*;
    use SessionType::*;
    let vectors = [
        (
            Web2App,
            Authentication,
            CALLBACK,
            "aegUh6gCKkXBJhhvtJqSTWB5_2W8TDQt5eZ7db6krv0",
        ),
        (
            Web2App,
            Signature,
            CALLBACK,
            "R0iNcUp8nK1nqrcVFWerXUfWMSjwDOMC6MAHKrckaH8",
        ),
        (
            Web2App,
            CertificateChoice,
            CALLBACK,
            "PI1qYa9_l6zR-v6Pkre6ycSm7S3BGiOQSe5OQlw4UJg",
        ),
        (
            App2App,
            Signature,
            CALLBACK,
            "8QZ16rkBW_ffkq6osT7UH1DbUlF9gEOZevgj-A0VNbM",
        ),
        (
            App2App,
            CertificateChoice,
            CALLBACK,
            "AtayuRPP3N59wXF8Cijwjt3pQ16knW2L-5VLDTRD_KU",
        ),
        (
            Qr,
            Authentication,
            "",
            "OY1eHaD4UYedrBwtqUbSkpa0w7ttm4FllPkCD_3wlE0",
        ),
    ];
    for (link_type, session_type, callback, expected) in vectors {
        let (link, context) = (
            link(link_type, session_type),
            context(session_type, callback),
        );
        let code = AuthCode::compute(&secret(), &context, &link);
        assert_eq!(code.as_str(), expected, "{link_type:?} {session_type:?}");
        assert!(AuthCode::verify(&secret(), &context, &link, expected));
    }
}

#[test]
fn the_qr_link_is_sks_and_reads_back() {
    let (link, context) = (
        link(DeviceLinkType::Qr, SessionType::Authentication),
        context(SessionType::Authentication, ""),
    );
    let protected = link.protect(&AuthCode::compute(&secret(), &context, &link));
    assert_eq!(
        protected,
        "https://smart-id.com/device-link?deviceLinkType=QR&elapsedSeconds=22&sessionToken=wGIrqveE6AuGDATZKmR1mtAZ&sessionType=auth&version=1.0&lang=eng&authCode=OY1eHaD4UYedrBwtqUbSkpa0w7ttm4FllPkCD_3wlE0"
    );
    let (read, code) = DeviceLink::parse(&protected).unwrap();
    assert_eq!(read, link);
    assert!(AuthCode::verify(&secret(), &context, &read, &code));
}

#[test]
fn the_acsp_v2_payload_matches_sks_vector() {
    let payload = AcspV2 {
        session: session(INTERACTIONS, CALLBACK),
        server_random: "MTlop6EXCrQ6FOErcKjxUhbV",
        rp_challenge: RP_CHALLENGE,
        user_challenge: "GnsWXXEjTCKR89fj9uo5u5ReBZ9JR7_pezLAI5jMS00",
        interaction_type_used: "confirmationMessage",
        flow_type: FlowType::Web2App,
    }
    .payload();
    assert_eq!(
        BASE64.encode(Sha512::digest(&payload)),
        "pKOjbNl/5Fy8NfrFqsj6pSn8W8O+Ik8rM33QSsbyD3J9qDJvEm90SboUciuY4wHGWa0Pnq8BgT3NJKmJiUDfKg=="
    );
}

#[test]
fn callback_values_match_sks_vectors() {
    assert_eq!(
        session_secret_digest(&secret()),
        "U4CKK13H1XFiyBofev9asqrzIrY5_Gszi_nL_zDKkBc"
    );
    assert_eq!(
        user_challenge("XtPfaGa8JnGtYrJjboooUf0KfY9sMEHrWFpSQrsUv9c"),
        "GnsWXXEjTCKR89fj9uo5u5ReBZ9JR7_pezLAI5jMS00"
    );
}

/// The notification login's code is the v2 formula over the decoded rpChallenge.
#[test]
fn the_notification_verification_code_matches_sks_vector() {
    let challenge = BASE64.decode(RP_CHALLENGE).unwrap();
    assert_eq!(VerificationCode::from_hash(&challenge).to_string(), "7180");
}

#[test]
fn links_that_break_the_format_are_refused() {
    let good = link(DeviceLinkType::Web2App, SessionType::Signature);
    let code = AuthCode::compute(&secret(), &context(SessionType::Signature, CALLBACK), &good);
    let protected = good.protect(&code);
    assert!(DeviceLink::parse(&protected).is_ok());
    let broken = [
        protected.replace("https://", "ftp://"),
        protected.replace("?", "#?"),
        protected.replace(
            "deviceLinkType=Web2App&",
            "deviceLinkType=Web2App&elapsedSeconds=3&",
        ),
        protected.replace("version=1.0", "version=1.1"),
        protected.replace("lang=eng", "lang=EN"),
        protected.replace("sessionType=sign", "sessionType=SIGN"),
        protected.replace("&sessionToken", "&sessiontoken"),
        format!("{protected}&extra=1"),
        protected.replace("authCode=", "authCode=x"),
        protected.replace(
            &format!("sessionToken={TOKEN}&sessionType=sign"),
            "sessionType=sign",
        ),
        protected.replace(TOKEN, "short"),
        format!("{}{}", protected, "a".repeat(1_024)),
    ];
    for link in &broken {
        assert!(DeviceLink::parse(link).is_err(), "{link}");
    }
    let qr = link(DeviceLinkType::Qr, SessionType::Authentication).to_string();
    for seconds in ["", "-1", "01", "+1", "1.5", "99999999999"] {
        let altered = qr.replace("elapsedSeconds=22", &format!("elapsedSeconds={seconds}"));
        let code = "A".repeat(AuthCode::LEN);
        assert!(
            DeviceLink::parse(&format!("{altered}&authCode={code}")).is_err(),
            "{seconds:?}"
        );
    }
}

fn any_link() -> impl Strategy<Value = DeviceLink> {
    (
        prop_oneof![
            Just(DeviceLinkType::Qr),
            Just(DeviceLinkType::Web2App),
            Just(DeviceLinkType::App2App)
        ],
        0u64..100_000,
        "[A-Za-z0-9]{24,40}",
        prop_oneof![
            Just(SessionType::Authentication),
            Just(SessionType::Signature),
            Just(SessionType::CertificateChoice)
        ],
        "[a-z]{3}",
    )
        .prop_map(
            |(link_type, seconds, token, session_type, lang)| DeviceLink {
                base: BASE.into(),
                link_type,
                elapsed_seconds: (link_type == DeviceLinkType::Qr).then_some(seconds),
                session_token: token,
                session_type,
                lang,
            },
        )
}

proptest! {
    /// A link the relying party made reads back as itself, and its code verifies.
    #[test]
    fn a_protected_link_reads_back_and_verifies(link in any_link()) {
        let context = context(link.session_type, CALLBACK);
        let protected = link.protect(&AuthCode::compute(&secret(), &context, &link));
        let (read, code) = DeviceLink::parse(&protected).unwrap();
        prop_assert_eq!(&read, &link);
        prop_assert!(AuthCode::verify(&secret(), &context, &read, &code));
    }

    /// Any one character changed anywhere in the link makes it unreadable or its code wrong.
    #[test]
    fn an_altered_link_is_refused(link in any_link(), at in any::<prop::sample::Index>(), by in 1u8..127) {
        let context = context(link.session_type, CALLBACK);
        let protected = link.protect(&AuthCode::compute(&secret(), &context, &link));
        let mut bytes = protected.into_bytes();
        let at = at.index(bytes.len());
        bytes[at] = (bytes[at] + by) % 128;
        let altered = String::from_utf8(bytes).unwrap();
        if let Ok((read, code)) = DeviceLink::parse(&altered) {
            prop_assert!(!AuthCode::verify(&secret(), &context, &read, &code), "{}", altered);
        }
    }
}

mod interactions {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD as BASE64;

    use super::INTERACTIONS;
    use crate::rp_v2::Interaction;
    use crate::rp_v3::interactions::{InteractionFlow, Interactions};

    fn encoded(json: &str) -> String {
        BASE64.encode(json)
    }

    #[test]
    fn sks_example_reads_and_encodes_back_byte_for_byte() {
        let read = Interactions::decode(INTERACTIONS, InteractionFlow::DeviceLink).unwrap();
        assert_eq!(
            read.list,
            [
                Interaction::ConfirmationMessage {
                    text: "Longer description of the transaction context".into()
                },
                Interaction::DisplayTextAndPin {
                    text: "Short description of the transaction context".into()
                },
            ]
        );
        assert_eq!(read.as_sent, INTERACTIONS);
        assert_eq!(Interactions::encode(&read.list), INTERACTIONS);
    }

    #[test]
    fn each_flow_allows_only_its_interactions() {
        let choice = encoded(
            r#"[{"type":"confirmationMessageAndVerificationCodeChoice","displayText200":"Pay 5 EUR"}]"#,
        );
        assert!(Interactions::decode(&choice, InteractionFlow::Notification).is_ok());
        for flow in [
            InteractionFlow::DeviceLink,
            InteractionFlow::LinkedNotification,
        ] {
            let refused = Interactions::decode(&choice, flow).unwrap_err();
            assert_eq!(refused.field, "interactions[0].type", "{refused}");
            assert!(refused.problem.contains("not allowed"), "{refused}");
        }
        // RP API v2's verificationCodeChoice is gone from v3.
        let v2_only = encoded(r#"[{"type":"verificationCodeChoice","displayText60":"Log in"}]"#);
        assert!(Interactions::decode(&v2_only, InteractionFlow::Notification).is_err());
    }

    #[test]
    fn malformed_interactions_say_what_is_wrong() {
        let cases = [
            ("not base64!".to_owned(), "interactions", "base64"),
            (encoded("{\"type\":1}"), "interactions", "JSON array"),
            (encoded("[]"), "interactions", "at least one"),
            (
                encoded(
                    r#"[{"type":"displayTextAndPIN","displayText60":"a"},{"type":"displayTextAndPIN","displayText60":"b"}]"#,
                ),
                "interactions[1].type",
                "twice",
            ),
            (
                encoded(
                    r#"[{"type":"displayTextAndPIN","displayText60":"a","displayText200":"b"}]"#,
                ),
                "interactions[0].displayText200",
                "does not belong",
            ),
            (
                encoded(&format!(
                    r#"[{{"type":"displayTextAndPIN","displayText60":"{}"}}]"#,
                    "x".repeat(61)
                )),
                "interactions[0].displayText60",
                "1 to 60",
            ),
            ("A".repeat(8_193), "interactions", "longer"),
        ];
        for (text, field, problem) in cases {
            let refused = Interactions::decode(&text, InteractionFlow::Notification).unwrap_err();
            assert_eq!(refused.field, field, "{refused}");
            assert!(refused.problem.contains(problem), "{refused}");
        }
    }
}

mod requests {
    use serde_json::{Value, json};

    use super::{DIGEST, INTERACTIONS, RP_CHALLENGE};
    use crate::rp_v2::CertificateLevel;
    use crate::rp_v3::requests::{
        Delivery, Endpoint, HashAlgorithm, Protocol, Purpose, RequestBody, SignatureScheme,
        StartRequest,
    };

    const AUTH_LINK: Endpoint = Endpoint {
        purpose: Purpose::Authentication,
        delivery: Delivery::DeviceLink,
    };
    const AUTH_PUSH: Endpoint = Endpoint {
        purpose: Purpose::Authentication,
        delivery: Delivery::Notification,
    };
    const SIGN_PUSH: Endpoint = Endpoint {
        purpose: Purpose::Signature,
        delivery: Delivery::Notification,
    };
    const SIGN_LINKED: Endpoint = Endpoint {
        purpose: Purpose::Signature,
        delivery: Delivery::LinkedNotification,
    };
    const CERT_LINK: Endpoint = Endpoint {
        purpose: Purpose::CertificateChoice,
        delivery: Delivery::DeviceLink,
    };

    /// The spec's DeviceLinkAuthentication example.
    fn authentication() -> Value {
        json!({
            "relyingPartyUUID": "00000000-0000-4000-8000-000000000000",
            "relyingPartyName": "DEMO",
            "initialCallbackUrl": "https://rp.example.com/callback-url?value=RrKjjT4aggzu27YBddX1bQ",
            "certificateLevel": "QUALIFIED",
            "signatureProtocol": "ACSP_V2",
            "signatureProtocolParameters": {
                "rpChallenge": RP_CHALLENGE,
                "signatureAlgorithm": "rsassa-pss",
                "signatureAlgorithmParameters": {"hashAlgorithm": "SHA3-512"}
            },
            "interactions": INTERACTIONS,
            "requestProperties": {"shareMdClientIpAddress": true},
            "capabilities": []
        })
    }

    fn signature() -> Value {
        json!({
            "relyingPartyUUID": "00000000-0000-4000-8000-000000000000",
            "relyingPartyName": "DEMO",
            "certificateLevel": "QSCD",
            "signatureProtocol": "RAW_DIGEST_SIGNATURE",
            "signatureProtocolParameters": {
                "digest": DIGEST,
                "signatureAlgorithm": "rsassa-pss",
                "signatureAlgorithmParameters": {"hashAlgorithm": "SHA-512"}
            },
            "nonce": "d8XkbEnA0WsE0PvBZZoxGnPI4ml9qk",
            "interactions": INTERACTIONS,
        })
    }

    fn validate(body: Value, endpoint: Endpoint) -> Result<StartRequest, String> {
        serde_json::from_value::<RequestBody>(body)
            .unwrap()
            .validate(endpoint)
            .map_err(|e| e.to_string())
    }

    fn refusal(mut body: Value, change: impl FnOnce(&mut Value), endpoint: Endpoint) -> String {
        change(&mut body);
        validate(body, endpoint).expect_err("must be refused")
    }

    #[test]
    fn the_specs_examples_are_read_as_meant() {
        let auth = validate(authentication(), AUTH_LINK).unwrap();
        assert_eq!(auth.relying_party.name, "DEMO");
        assert_eq!(auth.options.certificate_level, CertificateLevel::Qualified);
        assert!(auth.options.share_device_ip_address);
        assert_eq!(auth.interactions.as_ref().unwrap().as_sent, INTERACTIONS);
        let Some(Protocol::AcspV2 {
            rp_challenge,
            rp_challenge_bytes,
            algorithm,
        }) = &auth.protocol
        else {
            panic!("ACSP_V2 expected: {:?}", auth.protocol);
        };
        assert_eq!(rp_challenge, RP_CHALLENGE);
        assert_eq!(rp_challenge_bytes.len(), 64);
        assert_eq!(algorithm.scheme, SignatureScheme::RsassaPss);
        assert_eq!(algorithm.hash, HashAlgorithm::Sha3_512);
        assert!(auth.initial_callback_url.is_some());

        let sign = validate(signature(), SIGN_PUSH).unwrap();
        assert_eq!(sign.options.certificate_level, CertificateLevel::Qscd);
        assert_eq!(sign.protocol.as_ref().unwrap().challenge_text(), DIGEST);
        assert_eq!(sign.protocol.unwrap().algorithm().api_name(), "rsassa-pss");
    }

    #[test]
    fn the_deprecated_pkcs1_names_are_accepted_with_their_hash() {
        let mut body = signature();
        body["signatureProtocolParameters"] = json!({
            "digest": DIGEST, "signatureAlgorithm": "sha512WithRSAEncryption"
        });
        let algorithm = validate(body.clone(), SIGN_PUSH)
            .unwrap()
            .protocol
            .unwrap()
            .algorithm();
        assert_eq!(algorithm.scheme, SignatureScheme::Pkcs1v15);
        assert_eq!(algorithm.hash, HashAlgorithm::Sha512);
        assert_eq!(algorithm.api_name(), "sha512WithRSAEncryption");
        body["signatureProtocolParameters"]["signatureAlgorithm"] =
            json!("sha256WithRSAEncryption");
        assert!(
            validate(body, SIGN_PUSH)
                .unwrap_err()
                .contains("digest: must be the base64 of 32 bytes")
        );
    }

    /// A valid body, a change that breaks it, where it is sent, and what the refusal says.
    type Case = (Value, fn(&mut Value), Endpoint, &'static str);

    #[test]
    fn each_rule_of_the_spec_refuses_with_the_field_named() {
        let cases: [Case; 14] = [
            (
                authentication(),
                |b| b["nonce"] = json!("abc"),
                AUTH_LINK,
                "nonce: is not allowed",
            ),
            (
                authentication(),
                |b| b["signatureProtocol"] = json!("RAW_DIGEST_SIGNATURE"),
                AUTH_LINK,
                "signatureProtocol: must be ACSP_V2",
            ),
            (
                authentication(),
                |b| b["signatureProtocolParameters"]["rpChallenge"] = json!("AAAA"),
                AUTH_LINK,
                "rpChallenge: must be the base64 of 32 to 64 bytes (got 3 bytes)",
            ),
            (
                authentication(),
                |b| b["signatureProtocolParameters"]["rpChallenge"] = json!("not base64!"),
                AUTH_LINK,
                "rpChallenge: must be standard base64",
            ),
            (
                authentication(),
                |b| b["signatureProtocolParameters"]["signatureAlgorithmParameters"] = json!({}),
                AUTH_LINK,
                "hashAlgorithm: is required for rsassa-pss",
            ),
            (
                authentication(),
                |b| {
                    b["signatureProtocolParameters"]["signatureAlgorithmParameters"]["hashAlgorithm"] =
                        json!("SHA512")
                },
                AUTH_LINK,
                "hashAlgorithm: must be one of SHA-256",
            ),
            (
                authentication(),
                |b| b["signatureProtocolParameters"]["signatureAlgorithm"] = json!("ecdsa"),
                AUTH_LINK,
                "signatureAlgorithm: must be rsassa-pss",
            ),
            (
                authentication(),
                |b| b["certificateLevel"] = json!("QSCD"),
                AUTH_LINK,
                "certificateLevel: must be one of ADVANCED, QUALIFIED",
            ),
            (
                authentication(),
                |b| b["initialCallbackUrl"] = json!("http://rp.example.com/cb"),
                AUTH_LINK,
                "initialCallbackUrl: must be an https:// address",
            ),
            (
                authentication(),
                |b| b["initialCallbackUrl"] = json!("https://rp.example.com/cb#top"),
                AUTH_LINK,
                "initialCallbackUrl: must not contain '#'",
            ),
            (
                authentication(),
                |b| {
                    b.as_object_mut().unwrap().remove("initialCallbackUrl");
                },
                AUTH_PUSH,
                "vcType: is required",
            ),
            (
                signature(),
                |b| b["initialCallbackUrl"] = json!("https://rp.example.com/cb"),
                SIGN_PUSH,
                "initialCallbackUrl: is for device links only",
            ),
            (
                signature(),
                |_| {},
                SIGN_LINKED,
                "linkedSessionID: is required",
            ),
            (
                signature(),
                |b| b["linkedSessionID"] = json!("00000000-0000-4000-8000-000000000000"),
                SIGN_PUSH,
                "linkedSessionID: belongs to /signature/notification/linked only",
            ),
        ];
        for (body, change, endpoint, expected) in cases {
            let message = refusal(body, change, endpoint);
            assert!(
                message.contains(expected),
                "{message:?} should say {expected:?}"
            );
        }
    }

    #[test]
    fn a_certificate_choice_carries_nothing_to_sign() {
        let body = json!({
            "relyingPartyUUID": "00000000-0000-4000-8000-000000000000",
            "relyingPartyName": "DEMO",
            "nonce": "abc",
            "initialCallbackUrl": "https://rp.example.com/cb?x=1",
        });
        let request = validate(body.clone(), CERT_LINK).unwrap();
        assert!(request.protocol.is_none() && request.interactions.is_none());
        assert_eq!(request.options.nonce.as_deref(), Some("abc"));
        let message = refusal(body, |b| b["interactions"] = json!(INTERACTIONS), CERT_LINK);
        assert_eq!(
            message,
            "interactions: does not belong to a certificate choice"
        );
    }

    #[test]
    fn the_code_choice_is_for_notifications_only() {
        let choice = base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            r#"[{"type":"confirmationMessageAndVerificationCodeChoice","displayText200":"Pay 10 EUR?"}]"#,
        );
        let mut body = authentication();
        body["interactions"] = json!(choice);
        body["vcType"] = json!("numeric4");
        body.as_object_mut().unwrap().remove("initialCallbackUrl");
        assert!(validate(body.clone(), AUTH_PUSH).is_ok());
        assert!(
            validate(body, AUTH_LINK)
                .unwrap_err()
                .contains("is not allowed here")
        );
    }
}

mod responses {
    use serde_json::json;

    use crate::rp_v3::FlowType;
    use crate::rp_v3::requests::{HashAlgorithm, SignatureAlgorithm, SignatureScheme};
    use crate::rp_v3::responses::{SessionSignature, SessionStatus, json_pointer};

    #[test]
    fn a_pss_signature_spells_out_its_parameters_as_the_spec_shows() {
        let algorithm = SignatureAlgorithm {
            scheme: SignatureScheme::RsassaPss,
            hash: HashAlgorithm::Sha512,
        };
        let signature = SessionSignature::signed("AAEC".into(), algorithm, FlowType::Qr);
        assert_eq!(
            serde_json::to_value(&signature).unwrap(),
            json!({
                "value": "AAEC",
                "flowType": "QR",
                "signatureAlgorithm": "rsassa-pss",
                "signatureAlgorithmParameters": {
                    "hashAlgorithm": "SHA-512",
                    "maskGenAlgorithm": {"algorithm": "id-mgf1", "parameters": {"hashAlgorithm": "SHA-512"}},
                    "saltLength": 64,
                    "trailerField": "0xbc"
                }
            })
        );
        let legacy = SignatureAlgorithm {
            scheme: SignatureScheme::Pkcs1v15,
            hash: HashAlgorithm::Sha256,
        };
        let signature = SessionSignature::signed("AAEC".into(), legacy, FlowType::Notification);
        assert_eq!(
            serde_json::to_value(&signature).unwrap(),
            json!({"value": "AAEC", "flowType": "Notification", "signatureAlgorithm": "sha256WithRSAEncryption"})
        );
    }

    #[test]
    fn the_specs_status_example_reads() {
        let example = json!({ "state": "COMPLETE",
          "result": { "endResult": "USER_REFUSED_INTERACTION", "details": { "interaction": "displayTextAndPIN" } },
          "signatureProtocol": "ACSP_V2",
          "interactionTypeUsed": "displayTextAndPIN",
          "deviceIpAddress": "203.0.113.34",
          "ignoredProperties": [] });
        let status: SessionStatus = serde_json::from_value(example.clone()).unwrap();
        assert_eq!(serde_json::to_value(&status).unwrap(), example);
        assert_eq!(
            serde_json::to_value(SessionStatus::running()).unwrap(),
            json!({"state": "RUNNING"})
        );
    }

    #[test]
    fn fields_become_json_pointers() {
        assert_eq!(json_pointer("nonce"), "/nonce");
        assert_eq!(
            json_pointer("signatureProtocolParameters.signatureAlgorithmParameters.hashAlgorithm"),
            "/signatureProtocolParameters/signatureAlgorithmParameters/hashAlgorithm"
        );
        assert_eq!(json_pointer("interactions[1].type"), "/interactions/1/type");
        assert_eq!(json_pointer("a/b~c"), "/a~1b~0c");
    }
}
