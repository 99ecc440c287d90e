//! Parallel wrong PINs cannot win extra guesses: attempts on one account are judged one at a
//! time (under the account's lock, which holds across nodes on PostgreSQL) and counted before
//! the check, so a burst of wrong partial signatures gets exactly the three the policy allows
//! before the 3-hour lock, and the rest are refused uncounted; also when the burst is spread
//! over two nodes on one database. A right PIN that loses the race for its session to
//! another device still resets its counter; and the answer, the reset and the app channel's
//! move commit together or not at all.

use splitid_domain::Service;
use splitid_domain::accounts::pin_policy::PinState;
use splitid_domain::accounts::{PinAttempt, PinOutcome};
use splitid_domain::store::{
    AccountLock, AccountRecord, AuditEvent, AuditKind, ChannelAdvance, ChannelState, KeyPurpose,
    KeyRecord, RightPin, SessionCompletion, SessionState, StoreError,
};
use splitid_testkit::in_process::registered::{HALF, Registered, register, start_login};
use splitkey::{HashAlgorithm, Padding, PartialSignature, Pin, SignRequest};

async fn stored_key(service: &Service, account: &AccountRecord, purpose: KeyPurpose) -> KeyRecord {
    service
        .store()
        .key(account.id, purpose)
        .await
        .unwrap()
        .unwrap()
}

/// One PIN attempt, under the account's lock, as the app channel makes it: the key read
/// under the lock, and a right PIN's reset written.
async fn attempt(
    service: &Service,
    account: &AccountRecord,
    purpose: KeyPurpose,
    request: &SignRequest,
    partial: PartialSignature,
) -> PinOutcome {
    let lock = service.store().lock_account(account.id).await.unwrap();
    let key = stored_key(service, account, purpose).await;
    let outcome = service
        .sign_with_pin(PinAttempt {
            account,
            serialised: lock.proof(),
            key,
            request,
            partial,
        })
        .await
        .unwrap();
    if let PinOutcome::Signed { right_pin, .. } = &outcome {
        service.store().record_right_pin(right_pin).await.unwrap();
    }
    lock.release().await;
    outcome
}

/// Ten parallel wrong PIN1 attempts, spread over `nodes`; then the checks.
async fn burst_of_wrong_pins(nodes: &[Service], registered: &Registered) {
    let Registered {
        account,
        auth,
        sign,
        pin1,
        pin2,
        ..
    } = registered;
    let service = &nodes[0];
    let digest = HashAlgorithm::Sha256.digest(b"burst");
    let request =
        SignRequest::new(HALF, HashAlgorithm::Sha256, Padding::Pkcs1v15, &digest).unwrap();
    let wrong = auth
        .partial_sign(&Pin::new("0000").unwrap(), &request)
        .unwrap();
    let attempts: Vec<_> = (0..10)
        .map(|i| {
            let node = nodes[i % nodes.len()].clone();
            let (account, request) = (account.clone(), request.clone());
            let partial = PartialSignature::from_bytes(wrong.as_bytes());
            tokio::spawn(async move {
                attempt(
                    &node,
                    &account,
                    KeyPurpose::Authentication,
                    &request,
                    partial,
                )
                .await
            })
        })
        .collect();
    let mut counted = 0;
    let mut refused_while_locked = 0;
    for attempt in attempts {
        match attempt.await.unwrap() {
            PinOutcome::WrongPin(_) => counted += 1,
            PinOutcome::Locked(PinState::Locked { .. }) => refused_while_locked += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!((counted, refused_while_locked), (3, 7));
    let key = stored_key(service, account, KeyPurpose::Authentication).await;
    assert_eq!(key.pin.wrong_in_a_row, 3);
    assert!(matches!(service.pin_state(&key), PinState::Locked { .. }));

    // Even the right PIN is refused now, and PIN2 counts on its own.
    let right = auth.partial_sign(pin1, &request).unwrap();
    let outcome = attempt(
        service,
        account,
        KeyPurpose::Authentication,
        &request,
        right,
    )
    .await;
    assert!(matches!(outcome, PinOutcome::Locked(_)));
    let signing = sign.partial_sign(pin2, &request).unwrap();
    let before = service.now();
    let outcome = attempt(service, account, KeyPurpose::Signing, &request, signing).await;
    assert!(matches!(outcome, PinOutcome::Signed { .. }));
    // The right PIN left the signing counter at zero and recorded the account's use.
    let signing_key = stored_key(service, account, KeyPurpose::Signing).await;
    assert_eq!(signing_key.pin.wrong_in_a_row, 0);
    // Registration kept the CRT coefficient, so that signature was completed with it.
    assert!(signing_key.crt_coefficient.is_some());
    let used = service.store().account(account.id).await.unwrap().unwrap();
    assert!(used.last_used_at.is_some_and(|at| at >= before), "{used:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_burst_of_wrong_pins_gets_exactly_three_attempts() {
    let (service, _data) = splitid_testkit::in_process::demo_service_with(|config| {
        config.allow_2048_bit_halves = true
    })
    .await;
    let registered = register(&service).await;
    burst_of_wrong_pins(&[service], &registered).await;
}

/// Two nodes on one PostgreSQL database (whatever the other tests run on): the account's
/// lock is the database's, so the nodes cannot race each other past the counter.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_burst_spread_over_two_nodes_gets_exactly_three_attempts() {
    let data = splitid_testkit::in_process::TestData::new(true).await;
    let first = data
        .open(|config| config.allow_2048_bit_halves = true)
        .await;
    let second = data
        .open(|config| config.allow_2048_bit_halves = true)
        .await;
    let registered = register(&first).await;
    burst_of_wrong_pins(&[first, second], &registered).await;
}

/// A login for a fresh account whose right PIN1 has just been checked after `wrong_pins`
/// wrong ones, with the account's lock still held: where `confirm_transaction` is just before
/// it completes the session.
struct AboutToComplete {
    service: Service,
    _data: splitid_testkit::in_process::TestData,
    account: AccountRecord,
    session: uuid::Uuid,
    audit: AuditEvent,
    lock: AccountLock,
    right_pin: RightPin,
}

async fn about_to_complete(wrong_pins: usize) -> AboutToComplete {
    let (service, _data) = splitid_testkit::in_process::demo_service_with(|config| {
        config.allow_2048_bit_halves = true
    })
    .await;
    let Registered {
        account,
        auth,
        pin1,
        ..
    } = register(&service).await;
    let digest = HashAlgorithm::Sha256.digest(b"about to complete");
    let request =
        SignRequest::new(HALF, HashAlgorithm::Sha256, Padding::Pkcs1v15, &digest).unwrap();
    for _ in 0..wrong_pins {
        let wrong = auth
            .partial_sign(&Pin::new("0000").unwrap(), &request)
            .unwrap();
        let outcome = attempt(
            &service,
            &account,
            KeyPurpose::Authentication,
            &request,
            wrong,
        )
        .await;
        assert!(matches!(outcome, PinOutcome::WrongPin(_)), "{outcome:?}");
    }
    let session = start_login(&service).await;
    let audit = AuditEvent::new(AuditKind::Login, "test", service.now());
    let lock = service.store().lock_account(account.id).await.unwrap();
    let key = stored_key(&service, &account, KeyPurpose::Authentication).await;
    let right = auth.partial_sign(&pin1, &request).unwrap();
    let PinOutcome::Signed { right_pin, .. } = service
        .sign_with_pin(PinAttempt {
            account: &account,
            serialised: lock.proof(),
            key,
            request: &request,
            partial: right,
        })
        .await
        .unwrap()
    else {
        panic!("the right PIN was refused");
    };
    AboutToComplete {
        service,
        _data,
        account,
        session,
        audit,
        lock,
        right_pin,
    }
}

impl AboutToComplete {
    /// A device's answer completing the session, as the session flow writes it: this one's
    /// (with its right PIN), or another device's.
    fn completion<'a>(
        &'a self,
        result: &'a serde_json::Value,
        this_device: bool,
    ) -> SessionCompletion<'a> {
        let right_pin = this_device.then_some(&self.right_pin);
        SessionCompletion {
            session_id: self.session,
            result,
            end_result: result["endResult"].as_str().unwrap(),
            answered_by: right_pin.map(|right| right.account),
            now: self.service.now(),
            audit: &self.audit,
            right_pin,
            channel: None,
        }
    }

    async fn key(&self) -> KeyRecord {
        stored_key(&self.service, &self.account, KeyPurpose::Authentication).await
    }
}

/// The race a right PIN can lose: after two wrong PINs, the person enters the right one on
/// this device, and between its check and its commit another device answers the session
/// (here: refuses). The first answer stays the session's result, and the right PIN still
/// counts: its reset is committed, so the two wrong PINs before it are forgotten.
#[tokio::test]
async fn a_right_pin_that_loses_its_session_still_resets_the_counter() {
    // This device's right PIN is checked under the account's lock...
    let ready = about_to_complete(2).await;
    let store = ready.service.store();
    // ...when another device's refusal completes the session first.
    let refused = serde_json::json!({ "endResult": "USER_REFUSED" });
    let first = store
        .complete_session(&ready.completion(&refused, false))
        .await
        .unwrap();
    assert!(first.is_some(), "the refusal completes the session");
    let signed = serde_json::json!({ "endResult": "OK" });
    let second = store
        .complete_session(&ready.completion(&signed, true))
        .await
        .unwrap();
    assert!(second.is_none(), "the first answer wins");
    let stored = store.session(ready.session).await.unwrap().unwrap();
    assert_eq!(stored.result, Some(refused));
    let key = ready.key().await;
    assert_eq!(key.pin.wrong_in_a_row, 0, "the right PIN's reset was lost");
    ready.lock.release().await;
}

/// A confirmed login commits the session's result, the right PIN's reset and the app
/// channel's move in one transaction. If the channel has moved on (another request of the
/// same app won), none of the three is written; with the channel where it was, all three are.
#[tokio::test]
async fn an_answer_commits_with_its_channel_move_or_not_at_all() {
    let ready = about_to_complete(1).await;
    let store = ready.service.store();
    let channel_before = ready.account.channel.clone();
    let signed = serde_json::json!({ "endResult": "OK" });
    let next = ChannelState {
        ratchet_token: vec![7; 32],
        previous_token: Some(channel_before.ratchet_token.clone()),
        last_request: Some(vec![8; 32]),
        last_response: Some(b"{\"result\":\"the answer\"}".to_vec()),
    };
    let stale = ChannelAdvance {
        account: ready.account.id,
        expected_token: vec![9; 32],
        next: next.clone(),
    };
    let refused = store
        .complete_session(&SessionCompletion {
            channel: Some(&stale),
            ..ready.completion(&signed, true)
        })
        .await;
    assert!(
        matches!(refused, Err(StoreError::ChannelMoved)),
        "{refused:?}"
    );
    let running = store.session(ready.session).await.unwrap().unwrap();
    assert_eq!(running.state, SessionState::Running);
    // One wrong PIN, and this attempt, counted before its check and not reset.
    assert_eq!(
        ready.key().await.pin.wrong_in_a_row,
        2,
        "the reset was written without its answer"
    );
    let unmoved = store.account(ready.account.id).await.unwrap().unwrap();
    assert_eq!(unmoved.channel, channel_before);

    let current = ChannelAdvance {
        expected_token: channel_before.ratchet_token.clone(),
        ..stale
    };
    let completed = store
        .complete_session(&SessionCompletion {
            channel: Some(&current),
            ..ready.completion(&signed, true)
        })
        .await
        .unwrap();
    assert!(completed.is_some());
    let done = store.session(ready.session).await.unwrap().unwrap();
    assert_eq!(done.state, SessionState::Complete);
    assert_eq!(done.result, Some(signed));
    assert_eq!(ready.key().await.pin.wrong_in_a_row, 0);
    let moved = store.account(ready.account.id).await.unwrap().unwrap();
    assert_eq!(moved.channel, next);
    ready.lock.release().await;
}
