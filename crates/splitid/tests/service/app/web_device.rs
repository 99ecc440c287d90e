//! The web app's device layer (`splitid_web_app::device`, what the page's worker calls) built
//! natively on in-memory ports against the in-process service: the proofing methods it is
//! offered, an identity provider's sign-in from the request it builds to the account it
//! registers (with the registration's steps reported in order), an answer for another sign-in
//! refused, and a second phone vouched for by the first.

use std::sync::Mutex;

use splitid_app::flows::RegistrationStep;
use splitid_app::ports::{FixedClock, MemoryVault};
use splitid_app::{AppError, oidc};
use splitid_domain::proofing::{Assurance, OidcClaims, OidcConfig, OidcSignIn};
use splitid_proto::app_v1::{Proofing, TransactionOutcome};
use splitid_testkit::in_process::demo_service_with;
use splitid_testkit::in_process::transport::InProcess;
use splitid_web_app::device::{Device, RegistrationRequest};
use splitkey::{HalfSize, KdfParams};
use zeroize::Zeroizing;

use crate::registration::proofing::{AUDIENCE, ISSUER, PERSON, TestIdp};

const SERVER: &str = "http://127.0.0.1:8080";
const ENDPOINT: &str = "https://id.bank.example.test/authorize";
const REDIRECT: &str = "http://127.0.0.1:8080/app/";

type MemoryDevice = Device<MemoryVault, InProcess, FixedClock>;

fn phone(transport: &InProcess) -> MemoryDevice {
    Device::new(
        SERVER,
        MemoryVault::default(),
        transport.clone(),
        FixedClock::at(now()),
    )
    .with_keys(HalfSize::Bits2048, KdfParams::INSECURE_FAST)
}

fn now() -> u64 {
    time::OffsetDateTime::now_utc().unix_timestamp() as u64
}

fn request(proofing: Proofing) -> RegistrationRequest {
    RegistrationRequest {
        proofing,
        pin1: Zeroizing::new("4719".into()),
        pin2: Zeroizing::new("47193".into()),
    }
}

/// A query parameter of a URL.
fn parameter(url: &str, name: &str) -> String {
    reqwest::Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| panic!("no {name} in {url}"))
}

#[tokio::test]
async fn the_web_apps_device_layer_registers_by_sign_in_and_by_another_phone() {
    let dir = tempfile::tempdir().unwrap();
    let idp = TestIdp::new(dir.path());
    let jwks = std::fs::read_to_string(&idp.jwks).unwrap();
    let (service, _data) = demo_service_with(|config| {
        config.allow_2048_bit_halves = true;
        config.proofing.account = true;
        config.proofing.oidc = Some(
            OidcConfig::new(
                ISSUER.into(),
                AUDIENCE.into(),
                &jwks,
                Assurance::Advanced,
                OidcClaims::default(),
            )
            .unwrap(),
        );
        config.proofing.oidc_sign_in = OidcSignIn {
            name: "Test Bank ID".into(),
            authorization_endpoint: Some(ENDPOINT.into()),
            scope: "openid profile".into(),
        };
    })
    .await;
    let transport = InProcess::new(service.clone());
    let first = phone(&transport);

    let methods = first.proofing_methods().await.unwrap();
    assert!(methods.demo && methods.account && !methods.eid_certificate);
    let provider = methods.oidc.expect("the provider is offered");
    assert_eq!(provider.name, "Test Bank ID");
    assert_eq!(provider.client_id, AUDIENCE);
    assert_eq!(provider.authorization_endpoint.as_deref(), Some(ENDPOINT));

    // The sign-in's request, and the provider's answer turned into the proof.
    let started = first.begin_oidc_sign_in(REDIRECT).await.unwrap();
    assert!(started.url.starts_with(&format!("{ENDPOINT}?")));
    assert_eq!(parameter(&started.url, "redirect_uri"), REDIRECT);
    assert_eq!(parameter(&started.url, "state"), started.pending.state);
    let nonce = parameter(&started.url, "nonce");
    let token = idp.token("RS256", &TestIdp::claims(&nonce));
    let foreign = format!("#id_token={token}&state=someone-elses");
    match first.finish_oidc_sign_in(&foreign, &started.pending) {
        Err(AppError::Usage(why)) => assert!(why.contains("not for the sign-in"), "{why}"),
        other => panic!("a foreign answer: {other:?}"),
    }
    let answer = format!("#id_token={token}&state={}", started.pending.state);
    let proofing = first
        .finish_oidc_sign_in(&answer, &started.pending)
        .unwrap();
    assert_eq!(
        proofing,
        Proofing::Oidc {
            challenge_id: started.pending.challenge_id.clone(),
            id_token: oidc::id_token_from_redirect(&answer, &started.pending.state).unwrap(),
        }
    );
    let steps = Mutex::new(Vec::new());
    let account = first
        .register(request(proofing), now(), |step| {
            steps.lock().unwrap().push(step)
        })
        .await
        .unwrap();
    assert_eq!(
        *steps.lock().unwrap(),
        [
            RegistrationStep::AuthenticationKey,
            RegistrationStep::SigningKey,
            RegistrationStep::WithTheServer
        ]
    );
    assert_eq!(account.level, "ADVANCED");
    assert!(
        account.document_number.starts_with(&format!("{PERSON}-")),
        "{}",
        account.document_number
    );

    // A second phone asks the first to vouch; the first sees the same code and confirms.
    let second = phone(&transport);
    let asked = second
        .ask_other_device(&account.document_number)
        .await
        .unwrap();
    let waiting = first
        .pending(std::time::Duration::from_secs(5))
        .await
        .unwrap();
    let [transaction] = waiting.as_slice() else {
        panic!("one transaction: {waiting:?}");
    };
    assert_eq!(
        transaction.transaction.text.as_deref(),
        Some("Add a new device to your SplitID")
    );
    assert_eq!(
        transaction.transaction.verification_code.as_deref(),
        Some(asked.verification_code.as_str())
    );
    let outcome = first
        .confirm(
            &transaction.transaction.transaction_id,
            Some(Zeroizing::new("4719".into())),
            None,
        )
        .await
        .unwrap();
    assert!(
        matches!(outcome, TransactionOutcome::Completed { .. }),
        "{outcome:?}"
    );
    let state = second
        .vouch_state(&asked.challenge, std::time::Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(state.state, "OK");
    assert_eq!(
        state.voucher.as_deref(),
        Some(account.document_number.as_str())
    );
    let added = second
        .register(
            request(Proofing::Account {
                challenge_id: asked.challenge.challenge_id.clone(),
            }),
            now(),
            |_| {},
        )
        .await
        .unwrap();
    assert!(added.document_number.starts_with(&format!("{PERSON}-")));
    assert_ne!(added.document_number, account.document_number);
    assert_eq!(added.level, "ADVANCED", "never above the voucher's level");
    assert_eq!(second.accounts(now()).await.unwrap().len(), 1);
}
