//! The device core's flows on in-memory ports: a vault in memory, the transport straight into
//! the service's router, a clock the test sets, the OS's randomness. Registration, confirming,
//! refusing, PIN locks and deleting behave as over HTTP with a vault file; a request stamped by
//! a clock ten minutes off is refused and changes nothing; a confirmation whose answer is lost
//! is sent again and answered from the server's record.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::http::Method;
use serde_json::Value;
use splitid_app::App;
use splitid_app::flows::Registration;
use splitid_app::ports::{FixedClock, MemoryVault, OsRandom, Storage};
use splitid_domain::Service;
use splitid_proto::app_v1::{PinStatus, Proofing, TransactionOutcome};
use splitid_testkit::in_process::registered::{start_login, start_login_showing};
use splitid_testkit::in_process::transport::InProcess;
use splitid_testkit::in_process::{TestData, call, demo_service_with};
use splitkey::{HalfSize, KdfParams, Pin};

type MemoryApp = App<MemoryVault, InProcess, FixedClock, OsRandom>;

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

pub(super) fn pins() -> (Pin, Pin) {
    (Pin::new("1234").unwrap(), Pin::new("12345").unwrap())
}

/// An app on in-memory ports with one registered account, and what it runs on.
pub(super) struct Fixture {
    pub(super) app: MemoryApp,
    transport: InProcess,
    pub(super) vault: MemoryVault,
    clock: FixedClock,
    pub(super) service: Service,
    _data: TestData,
}

/// A demo service, and an app on in-memory ports with one registered account.
async fn registered_app() -> Fixture {
    registered_app_with(|_| {}).await
}

/// [`registered_app`] on a service whose configuration `adjust` changed.
pub(super) async fn registered_app_with(
    adjust: impl FnOnce(&mut splitid_domain::Config),
) -> Fixture {
    let (service, data) = demo_service_with(|config| {
        config.allow_2048_bit_halves = true;
        adjust(config);
    })
    .await;
    let vault = MemoryVault::default();
    let clock = FixedClock::at(unix_now());
    let transport = InProcess::new(service.clone());
    let app = App::with_ports(vault.clone(), transport.clone(), clock.clone(), OsRandom);
    let registration = Registration {
        server: "http://127.0.0.1:8080".into(),
        proofing: Proofing::Demo {
            semantics_identifier: "PNOEE-30303039914".into(),
            given_name: "MARY".into(),
            surname: "ÄNN".into(),
        },
        half: HalfSize::Bits2048,
        kdf: KdfParams::INSECURE_FAST,
        supported_interactions: None,
        server_key_fingerprint: None,
    };
    let (pin1, pin2) = pins();
    let account = app.register(registration, &pin1, &pin2).await.unwrap();
    assert_eq!(
        vault.load().await.unwrap().accounts,
        vec![account],
        "kept in the vault"
    );
    Fixture {
        app,
        transport,
        vault,
        clock,
        service,
        _data: data,
    }
}

/// What the relying party reads of a session through RP API v2.
async fn end_result(service: &Service, session: uuid::Uuid) -> Value {
    session_status(service, "v2", session).await["result"]["endResult"].clone()
}

/// A session's status through RP API `version` (`v2`, `v3`).
async fn session_status(service: &Service, version: &str, session: uuid::Uuid) -> Value {
    let (status, body) = call(
        service,
        Method::GET,
        &format!("/{version}/session/{session}?timeoutMs=1000"),
        "",
    )
    .await;
    assert_eq!(status, 200);
    serde_json::from_slice(&body).unwrap()
}

/// Confirms a login with the right PIN1; the app and the relying party both see it done.
async fn confirm_with_pin1(
    app: &MemoryApp,
    service: &Service,
    pending: &splitid_app::flows::Pending,
    session: uuid::Uuid,
) {
    let outcome = app.confirm(pending, Some(&pins().0), None).await.unwrap();
    assert!(
        matches!(&outcome, TransactionOutcome::Completed { end_result, .. } if end_result == "OK"),
        "{outcome:?}"
    );
    assert_eq!(end_result(service, session).await, "OK");
}

#[tokio::test]
async fn a_login_confirmed_on_in_memory_ports_reaches_the_relying_party() {
    let f = registered_app().await;
    // Held to the end: the fixture owns the service's data directory.
    let (app, vault, service) = (&f.app, &f.vault, &f.service);
    let token_before = vault.load().await.unwrap().accounts[0]
        .ratchet_token
        .clone();
    let session = start_login(service).await;
    let pending = app.pending(Duration::ZERO).await.unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].transaction.relying_party_name, "DEMO");
    confirm_with_pin1(app, service, &pending[0], session).await;
    assert_ne!(
        vault.load().await.unwrap().accounts[0].ratchet_token,
        token_before,
        "the next ratchet token is saved"
    );
}

/// A transaction whose code is not the code of what is signed (a lying server, an altered
/// answer): the app signs nothing, and the relying party hears PROTOCOL_FAILURE at once
/// (USER_REFUSED in v2, which has no such result).
#[tokio::test]
async fn an_inconsistent_transaction_is_refused_as_a_protocol_failure() {
    let f = registered_app().await;
    let (app, service) = (&f.app, &f.service);
    let session = start_login(service).await;
    let mut pending = app.pending(Duration::ZERO).await.unwrap().remove(0);
    let shown = pending.transaction.verification_code.clone().unwrap();
    let other = if shown == "0000" { "0001" } else { "0000" };
    pending.transaction.verification_code = Some(other.to_owned());
    let refused = app.confirm(&pending, Some(&pins().0), None).await;
    assert!(
        matches!(&refused, Err(splitid_app::AppError::Protocol(_))),
        "{refused:?}"
    );
    assert_eq!(end_result(service, session).await, "USER_REFUSED");
    let v3 = session_status(service, "v3", session).await;
    assert_eq!(v3["result"]["endResult"], "PROTOCOL_FAILURE", "{v3}");
    assert!(app.pending(Duration::ZERO).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_refusal_and_a_pin_lock_on_in_memory_ports() {
    let f = registered_app().await;
    // Held to the end: the fixture owns the service's data directory.
    let (app, service) = (&f.app, &f.service);

    let refused = start_login(service).await;
    let pending = app.pending(Duration::ZERO).await.unwrap();
    app.refuse(&pending[0], None).await.unwrap();
    assert_eq!(end_result(service, refused).await, "USER_REFUSED");

    start_login_showing(service, "Log in again").await;
    let pending = app.pending(Duration::ZERO).await.unwrap();
    let wrong = Pin::new("9999").unwrap();
    let mut outcomes = Vec::new();
    for _ in 0..3 {
        outcomes.push(app.confirm(&pending[0], Some(&wrong), None).await.unwrap());
    }
    assert!(
        matches!(
            &outcomes[..],
            [
                TransactionOutcome::WrongPin {
                    pin: PinStatus::Usable {
                        attempts_before_lock: 2,
                        ..
                    }
                },
                TransactionOutcome::WrongPin {
                    pin: PinStatus::Usable {
                        attempts_before_lock: 1,
                        ..
                    }
                },
                TransactionOutcome::WrongPin {
                    pin: PinStatus::Locked { .. }
                },
            ]
        ),
        "{outcomes:?}"
    );
    let account = &app.accounts().await.unwrap()[0];
    let status = app.status(account).await.unwrap();
    assert!(
        matches!(status.pin1, PinStatus::Locked { .. }),
        "{status:?}"
    );
    assert!(
        matches!(status.pin2, PinStatus::Usable { .. }),
        "{status:?}"
    );
}

#[tokio::test]
async fn deleting_on_in_memory_ports_closes_the_account_and_empties_the_vault() {
    let f = registered_app().await;
    // Held to the end: the fixture owns the service's data directory.
    let (app, vault, service) = (&f.app, &f.vault, &f.service);
    let account = app.accounts().await.unwrap().remove(0);
    app.delete(&account.document_number).await.unwrap();
    assert!(vault.load().await.unwrap().accounts.is_empty());
    let stored = service
        .store()
        .account(account.account_id.parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert!(!stored.is_usable(service.now()), "closed on the server");
}

#[tokio::test]
async fn a_request_stamped_by_a_clock_ten_minutes_off_is_refused_and_changes_nothing() {
    let f = registered_app().await;
    // Held to the end: the fixture owns the service's data directory.
    let (app, vault, clock) = (&f.app, &f.vault, &f.clock);
    let before = vault.load().await.unwrap();
    clock.set(unix_now() - 600);
    let account = before.accounts[0].clone();
    match app.delete(&account.document_number).await {
        Err(splitid_app::AppError::Server {
            status: 401,
            detail,
        }) => {
            assert!(detail.contains("clock"), "{detail}")
        }
        other => panic!("a stale request was not refused: {other:?}"),
    }
    assert_eq!(
        vault.load().await.unwrap(),
        before,
        "nothing moved on the device"
    );
    clock.set(unix_now());
    let status = app.status(&account).await.unwrap();
    assert_eq!(status.state, "active", "nor on the server");
}

#[tokio::test]
async fn a_confirmation_whose_answer_is_lost_is_sent_again_and_answered_from_the_record() {
    let f = registered_app().await;
    let (app, service) = (&f.app, &f.service);
    let session = start_login(service).await;
    let pending = app.pending(Duration::ZERO).await.unwrap();
    f.transport.lose_next_answers(1);
    confirm_with_pin1(app, service, &pending[0], session).await;
    let account = &app.accounts().await.unwrap()[0];
    assert_eq!(
        app.status(account).await.unwrap().state,
        "active",
        "the retransmission is no clone"
    );
}
