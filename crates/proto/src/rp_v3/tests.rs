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
        protected.replace("https://", "http://"),
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
