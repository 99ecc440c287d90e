//! End to end: the relying-party SDK (`splitid-rp`) against the real server, with the real
//! app confirming: logins, signatures and certificate choices come back validated, every end
//! result maps to its typed error, and tampered answers are refused.

use std::time::{Duration, SystemTime};

use splitid_rp::proto::rp_v2::{CertificateLevel, EndResult, HashType, Interaction, SessionStatus};
use splitid_rp::{
    PendingSession, RevocationPolicy, RpClient, RpConfig, RpError, SignableData, Target,
    TrustConfig,
};
use splitid_testkit::*;

const PERSON: &str = "PNOEE-30303039914";
const PIN1: &str = "1234";
const PIN2: &str = "12345";

fn download(server: &Server, path: &str) -> Vec<u8> {
    reqwest::blocking::get(format!("{}{path}", server.url))
        .unwrap()
        .bytes()
        .unwrap()
        .to_vec()
}

fn trust_of(server: &Server) -> TrustConfig {
    TrustConfig::new(vec![download(server, "/pki/root-ca.crt")])
        .unwrap()
        .with_intermediates(vec![download(server, "/pki/issuing-ca.crt")])
}

fn client(server: &Server, trust: TrustConfig) -> RpClient {
    let mut config = RpConfig::new(format!("{}/v2", server.url), DEMO_RP_UUID, "DEMO");
    config.long_poll = Duration::from_secs(5);
    RpClient::new(config, trust).unwrap()
}

/// The SDK configured for `serve --demo`'s RP API v3 (scheme name `smart-id-demo`).
fn v3_client(server: &Server) -> RpClient {
    let mut config = RpConfig::new(format!("{}/v2", server.url), DEMO_RP_UUID, "DEMO");
    config.long_poll = Duration::from_secs(5);
    config.scheme_name = "smart-id-demo".into();
    RpClient::new(config, trust_of(server)).unwrap()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn pin_text(text: &str) -> Vec<Interaction> {
    vec![Interaction::DisplayTextAndPin { text: text.into() }]
}

struct Setup {
    server: Server,
    phone: Phone,
    document: String,
    client: RpClient,
    runtime: tokio::runtime::Runtime,
}

impl Setup {
    fn new() -> Setup {
        let server = Server::start(&[]);
        let phone = Phone::new();
        let document = phone.register(&server, PERSON, PIN1, PIN2);
        let client = client(&server, trust_of(&server));
        Setup {
            server,
            phone,
            document,
            client,
            runtime: runtime(),
        }
    }

    fn login(&self) -> PendingSession {
        self.runtime
            .block_on(self.client.start_authentication(
                &Target::Person(PERSON.into()),
                CertificateLevel::Qualified,
                &pin_text("Log in to DEMO"),
            ))
            .unwrap()
    }

    /// The phone sees the session with the same code, and confirms it with `pin`.
    fn confirm(&self, pending: &PendingSession, pin: &str) {
        let shown = self.phone.wait_for_transaction(10);
        if let Some(code) = pending.verification_code {
            assert_eq!(shown["verificationCode"], code.to_string(), "{shown}");
        }
        assert_success(&self.phone.confirm_next(&[], &format!("{pin}\n")));
    }

    /// The session's raw completed status, as the service sends it.
    fn raw_status(&self, pending: &PendingSession) -> SessionStatus {
        let rp = RelyingParty::new(&self.server);
        serde_json::from_value(rp.result(&pending.session_id)).unwrap()
    }
}

#[test]
fn a_login_and_a_signature_come_back_validated_with_the_identity_from_the_certificate() {
    let setup = Setup::new();
    let login = setup.login();
    setup.confirm(&login, PIN1);
    let logged_in = setup.runtime.block_on(setup.client.wait(&login)).unwrap();
    let person = &logged_in.certificate.identity;
    assert_eq!(person.semantics_identifier, PERSON);
    assert_eq!(person.identity_code, "30303039914");
    assert_eq!(
        (person.given_name.as_str(), person.surname.as_str()),
        ("MARY", "ÄNN")
    );
    assert_eq!(person.country, "EE");
    assert_eq!(person.date_of_birth.unwrap().to_string(), "1903-03-03");
    assert_eq!(logged_in.document_number, setup.document);
    assert_eq!(logged_in.certificate.level, CertificateLevel::Qualified);

    let transfer = SignableData::new("Pay 25.00 EUR to Demo Shop, order 1042", HashType::Sha256);
    let signing = setup
        .runtime
        .block_on(setup.client.start_signature(
            &Target::Document(setup.document.clone()),
            CertificateLevel::Qualified,
            transfer,
            &pin_text("Pay 25.00 EUR to Demo Shop"),
        ))
        .unwrap();
    setup.confirm(&signing, PIN2);
    let signed = setup.runtime.block_on(setup.client.wait(&signing)).unwrap();
    assert!(signed.signature.is_some());
    assert_ne!(
        signed.certificate.der, logged_in.certificate.der,
        "signing certificate"
    );

    let choice =
        setup
            .runtime
            .block_on(setup.client.start_certificate_choice(
                &Target::Person(PERSON.into()),
                CertificateLevel::Qualified,
            ))
            .unwrap();
    let chosen = setup.runtime.block_on(setup.client.wait(&choice)).unwrap();
    assert_eq!(chosen.certificate.der, signed.certificate.der);
    assert!(chosen.signature.is_none());
}

#[test]
fn end_results_and_http_errors_become_typed_errors() {
    let setup = Setup::new();
    let refused = setup.login();
    setup.phone.wait_for_transaction(10);
    assert_success(&setup.phone.run(&["--json", "refuse", "--next"], ""));
    let error = setup
        .runtime
        .block_on(setup.client.wait(&refused))
        .unwrap_err();
    assert!(
        matches!(error, RpError::UserRefused(EndResult::UserRefused)),
        "{error:?}"
    );

    let nobody = setup.runtime.block_on(setup.client.start_authentication(
        &Target::Person("PNOEE-60001019906".into()),
        CertificateLevel::Qualified,
        &pin_text("Log in"),
    ));
    assert!(
        matches!(nobody, Err(RpError::AccountNotFound)),
        "{nobody:?}"
    );

    let mut stranger = RpConfig::new(
        format!("{}/v2", setup.server.url),
        "6f1c1f7e-0000-4000-8000-000000000000",
        "DEMO",
    );
    stranger.long_poll = Duration::from_secs(1);
    let stranger = RpClient::new(stranger, trust_of(&setup.server)).unwrap();
    let refused = setup.runtime.block_on(stranger.start_authentication(
        &Target::Person(PERSON.into()),
        CertificateLevel::Qualified,
        &pin_text("Log in"),
    ));
    assert!(
        matches!(
            refused,
            Err(RpError::RelyingPartyNotAllowed { status: 401, .. })
        ),
        "{refused:?}"
    );
}

#[test]
fn tampered_or_untrusted_answers_are_refused() {
    let setup = Setup::new();
    let login = setup.login();
    setup.confirm(&login, PIN1);
    let genuine = setup.raw_status(&login);
    let now = SystemTime::now();
    let check = |status: SessionStatus| setup.client.check(&login, status, now);
    check(genuine.clone()).expect("the genuine answer validates");

    let mut forged = genuine.clone();
    let signature = forged.signature.as_mut().unwrap();
    let mut bytes = b64decode(&signature.value);
    bytes[10] ^= 1;
    signature.value = base64_encode(&bytes);
    assert!(matches!(check(forged), Err(RpError::InvalidSignature(_))));

    let mut other_algorithm = genuine.clone();
    other_algorithm.signature.as_mut().unwrap().algorithm = "sha256WithRSAEncryption".into();
    assert!(matches!(
        check(other_algorithm),
        Err(RpError::InvalidSignature(_))
    ));

    let mut lower = genuine.clone();
    lower.cert.as_mut().unwrap().certificate_level = CertificateLevel::Advanced;
    assert!(matches!(check(lower), Err(RpError::LevelTooLow { .. })));

    let in_four_years = now + Duration::from_secs(4 * 365 * 24 * 3600);
    let expired = setup.client.check(&login, genuine.clone(), in_four_years);
    assert!(
        matches!(expired, Err(RpError::UntrustedCertificate(_))),
        "{expired:?}"
    );

    // Another SplitID installation's CA is not this relying party's anchor.
    let elsewhere = Server::start(&[]);
    let stranger = client(&setup.server, trust_of(&elsewhere));
    let untrusted = stranger.check(&login, genuine.clone(), now);
    assert!(
        matches!(untrusted, Err(RpError::UntrustedCertificate(_))),
        "{untrusted:?}"
    );

    // A signing certificate where a login needs an authentication one.
    let signing_certificate = setup.phone.certificate(&setup.document, "signing");
    let mut swapped = genuine;
    swapped.cert.as_mut().unwrap().value = base64_encode(&signing_certificate);
    assert!(matches!(check(swapped), Err(RpError::InvalidResponse(_))));
}

fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[test]
fn revoked_certificates_are_refused_and_the_policy_decides_when_no_responder_answers() {
    let setup = Setup::new();
    let login = setup.login();
    setup.confirm(&login, PIN1);
    // `wait` asked the responder (the default policy requires a good answer).
    let logged_in = setup.runtime.block_on(setup.client.wait(&login)).unwrap();
    let certificate = logged_in.certificate;

    assert_success(&setup.phone.run(&["--json", "delete", &setup.document], ""));
    let fresh = client(&setup.server, trust_of(&setup.server));
    let revoked = setup.runtime.block_on(fresh.check_revocation(&certificate));
    assert!(
        matches!(revoked, Err(RpError::CertificateRevoked(_))),
        "{revoked:?}"
    );
    let cached = setup
        .runtime
        .block_on(setup.client.check_revocation(&certificate));
    assert!(
        cached.is_ok(),
        "a good answer is reused for a while: {cached:?}"
    );
    let uncached = client(
        &setup.server,
        trust_of(&setup.server).with_ocsp_cache(Duration::ZERO),
    );
    let asked_again = setup
        .runtime
        .block_on(uncached.check_revocation(&certificate));
    assert!(matches!(asked_again, Err(RpError::CertificateRevoked(_))));
    let unchecked = client(
        &setup.server,
        trust_of(&setup.server).with_revocation(RevocationPolicy::Off),
    );
    assert!(
        setup
            .runtime
            .block_on(unchecked.check_revocation(&certificate))
            .is_ok()
    );

    // A service whose certificates name a responder nobody answers at.
    let silent = Server::start(&["--public-url", "http://127.0.0.1:9"]);
    let phone = Phone::new();
    phone.register(&silent, PERSON, PIN1, PIN2);
    let session = |trust: TrustConfig| {
        let client = client(&silent, trust);
        let runtime = runtime();
        let login = runtime
            .block_on(client.start_authentication(
                &Target::Person(PERSON.into()),
                CertificateLevel::Qualified,
                &pin_text("Log in"),
            ))
            .unwrap();
        phone.wait_for_transaction(10);
        assert_success(&phone.confirm_next(&[], &format!("{PIN1}\n")));
        runtime.block_on(client.wait(&login))
    };
    let required = session(trust_of(&silent));
    assert!(
        matches!(required, Err(RpError::RevocationUnknown(_))),
        "{required:?}"
    );
    let lenient = session(trust_of(&silent).with_revocation(RevocationPolicy::IfAvailable));
    assert!(lenient.is_ok(), "{lenient:?}");
}

/// RP API v3 through the SDK: a push login (ACSP_V2) and a push signature (RAW_DIGEST), both
/// RSASSA-PSS, come back verified; an answer whose payload or flow differs from what was
/// asked is refused.
#[test]
fn v3_push_login_and_signature_come_back_verified_and_tampering_is_refused() {
    let mut setup = Setup::new();
    setup.client = v3_client(&setup.server);
    let login = setup
        .runtime
        .block_on(setup.client.start_notification_authentication(
            &Target::Person(PERSON.into()),
            CertificateLevel::Qualified,
            &pin_text("Log in to DEMO"),
        ))
        .unwrap();
    let shown = setup.phone.wait_for_transaction(10);
    assert_eq!(
        shown["verificationCode"],
        login.verification_code.unwrap().to_string()
    );
    assert_success(&setup.phone.confirm_next(&[], &format!("{PIN1}\n")));
    let mut rp = RelyingParty::new(&setup.server);
    rp.base = format!("{}/v3", setup.server.url);
    let status: splitid_rp::proto::rp_v3::responses::SessionStatus =
        serde_json::from_value(rp.result(&login.session_id)).unwrap();
    let logged_in = setup
        .client
        .check_v3(&login, status.clone(), SystemTime::now())
        .unwrap();
    assert_eq!(logged_in.certificate.identity.semantics_identifier, PERSON);
    assert_eq!(logged_in.document_number, setup.document);

    let mut other_random = status.clone();
    other_random.signature.as_mut().unwrap().server_random = Some("A".repeat(32));
    let mut other_flow = status.clone();
    other_flow.signature.as_mut().unwrap().flow_type = "QR".into();
    let mut other_interaction = status;
    other_interaction.interaction_type_used = Some("confirmationMessage".into());
    for tampered in [other_random, other_flow, other_interaction] {
        let refused = setup.client.check_v3(&login, tampered, SystemTime::now());
        assert!(
            matches!(
                refused,
                Err(RpError::InvalidSignature(_) | RpError::InvalidResponse(_))
            ),
            "{refused:?}"
        );
    }

    let contract = SignableData::new("the contract", HashType::Sha384);
    let signing = setup
        .runtime
        .block_on(setup.client.start_notification_signature(
            &Target::Document(setup.document.clone()),
            CertificateLevel::Qualified,
            contract,
            &pin_text("Sign the contract"),
        ))
        .unwrap();
    let shown = setup.phone.wait_for_transaction(10);
    assert_eq!(
        shown["verificationCode"],
        signing.verification_code.unwrap().to_string()
    );
    assert_success(&setup.phone.confirm_next(&[], &format!("{PIN2}\n")));
    let signed = setup
        .runtime
        .block_on(setup.client.wait_v3(&signing))
        .unwrap();
    assert!(signed.signature.is_some());
}

/// RP API v3's device links through the SDK: a QR login the phone reads from the PNG the SDK
/// drew, a Web2App login whose callback the SDK verifies (and refuses altered), and a
/// certificate choice by QR followed by its linked signature.
#[test]
fn v3_device_links_through_the_sdk_from_a_qr_image_a_web2app_callback_and_a_linked_signature() {
    use splitid_rp::device_link::{qr_png, qr_svg};
    use splitid_rp::proto::rp_v3::device_link::DeviceLinkType;
    const CALLBACK: &str = "https://bank.example/return?state=xyz";
    let mut setup = Setup::new();
    setup.client = v3_client(&setup.server);
    let (client, runtime, phone) = (&setup.client, &setup.runtime, &setup.phone);
    let images = tempfile::tempdir().unwrap();

    let login = runtime
        .block_on(client.start_device_link_authentication(
            None,
            CertificateLevel::Qualified,
            &pin_text("Log in to DEMO"),
            None,
        ))
        .unwrap();
    assert!(login.verification_code.is_none());
    let link = client.qr_link(&login, SystemTime::now()).unwrap();
    assert!(
        link.contains("deviceLinkType=QR&elapsedSeconds=0&"),
        "{link}"
    );
    assert!(qr_svg(&link).unwrap().contains("<svg"));
    let look = |pending| {
        runtime
            .block_on(client.status_v3(pending, Duration::from_secs(1), None))
            .unwrap()
    };
    assert!(look(&login).is_none(), "running until a phone scans");
    let image = images.path().join("qr.png");
    std::fs::write(&image, qr_png(&link).unwrap()).unwrap();
    let opened = phone.run(
        &[
            "open",
            "--linked-wait",
            "0",
            "--qr",
            image.to_str().unwrap(),
        ],
        &format!("{PIN1}\n"),
    );
    assert_success(&opened);
    let done = look(&login).expect("complete once the phone answered");
    assert_eq!(done.certificate.identity.semantics_identifier, PERSON);
    assert!(matches!(
        client.same_device_link(&login, DeviceLinkType::Web2App),
        Err(RpError::Usage(_))
    ));

    let login = runtime
        .block_on(client.start_device_link_authentication(
            Some(&Target::Person(PERSON.into())),
            CertificateLevel::Qualified,
            &pin_text("Log in to DEMO"),
            Some(CALLBACK),
        ))
        .unwrap();
    let link = client
        .same_device_link(&login, DeviceLinkType::Web2App)
        .unwrap();
    let opened = phone.run(&["--json", "open", &link], &format!("{PIN1}\n"));
    assert_success(&opened);
    let answer: serde_json::Value = serde_json::from_slice(&opened.stdout).unwrap();
    let callback = answer["callbackUrl"].as_str().unwrap();
    for altered in [
        callback.replace("sessionSecretDigest=", "sessionSecretDigest=A"),
        callback.replace("state=xyz", "state=abc"),
        callback
            .split("&userChallengeVerifier")
            .next()
            .unwrap()
            .to_owned(),
    ] {
        assert!(
            matches!(
                client.verify_callback(&login, &altered),
                Err(RpError::InvalidResponse(_))
            ),
            "{altered}"
        );
    }
    let returned = client.verify_callback(&login, callback).unwrap();
    let mut rp = RelyingParty::new(&setup.server);
    rp.base = format!("{}/v3", setup.server.url);
    let status: splitid_rp::proto::rp_v3::responses::SessionStatus =
        serde_json::from_value(rp.result(&login.session_id)).unwrap();
    assert!(
        matches!(
            client.check_v3(&login, status, SystemTime::now()),
            Err(RpError::InvalidResponse(_))
        ),
        "a same-device login is not accepted without its callback"
    );
    let done = runtime
        .block_on(client.wait_v3_returned(&login, Some(&returned)))
        .unwrap();
    assert_eq!(done.document_number, setup.document);

    let choice = runtime
        .block_on(client.start_device_link_certificate_choice(CertificateLevel::Qualified, None))
        .unwrap();
    let link = client.qr_link(&choice, SystemTime::now()).unwrap();
    let waiting = phone.spawn(&["open", &link], &format!("{PIN2}\n"));
    let chosen = runtime.block_on(client.wait_v3(&choice)).unwrap();
    assert_eq!(chosen.document_number, setup.document);
    let signing = runtime
        .block_on(client.start_linked_signature(
            &choice,
            &chosen.document_number,
            SignableData::new("the contract", HashType::Sha256),
            &pin_text("Sign the contract"),
        ))
        .unwrap();
    let signed = runtime.block_on(client.wait_v3(&signing)).unwrap();
    assert!(signed.signature.is_some());
    let output = waiting.join().unwrap();
    assert_success(&output);
    assert!(
        stdout(&output).contains("Sign the contract"),
        "{}",
        stdout(&output)
    );
}
