//! Web Push, the server's side: an account's device gives its browser's subscription; each new
//! transaction is posted to a push-service stand-in, whose message an independent
//! implementation (PyPI's http_ece and py_vapid, in push_check.py) decrypts and whose VAPID
//! token it verifies. The message says only what the notification shows. A push service that
//! hangs delays no session; one that answers 410 makes the service forget the subscription;
//! subscriptions to other origins or with bad keys are refused and change nothing; a deleted
//! account's subscription goes with it.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use splitid_app::AppError;
use splitid_domain::push::PushOrigins;
use splitid_proto::app_v1::{PushSubscription, PushSubscriptionKeys};
use splitid_testkit::in_process::call;
use splitid_testkit::in_process::registered::{start_login, start_login_showing};
use splitid_testkit::push::{HANG, PushMessage, PushService, browser_keys};

use super::device_core::registered_app_with;

async fn next_push(push_service: &PushService) -> PushMessage {
    push_service
        .next_within(Duration::from_secs(10))
        .await
        .expect("the push service was sent a message")
}

fn subscription(endpoint: &str, keys: &Value) -> PushSubscription {
    PushSubscription {
        endpoint: endpoint.to_owned(),
        expiration_time: None,
        keys: PushSubscriptionKeys {
            p256dh: keys["p256dh"].as_str().unwrap().to_owned(),
            auth: keys["auth"].as_str().unwrap().to_owned(),
        },
    }
}

fn assert_refused(result: Result<(), AppError>, detail: &str) {
    match result {
        Err(AppError::Server {
            status: 400,
            detail: said,
        }) => {
            assert!(said.contains(detail), "{said}")
        }
        other => panic!("expected a 400 saying {detail:?}, got {other:?}"),
    }
}

#[tokio::test]
async fn transactions_are_pushed_encrypted_to_the_devices_subscription() {
    let push_service = PushService::start();
    let origin = push_service.origin.clone();
    let allowed = origin.clone();
    let f = registered_app_with(move |config| {
        config.push.origins = PushOrigins::parse([allowed]).unwrap();
        config.push.contact = Some("mailto:ops@example.org".into());
    })
    .await;
    let (app, vault, service) = (&f.app, &f.vault, &f.service);
    let account = splitid_app::ports::Storage::load(vault)
        .await
        .unwrap()
        .accounts[0]
        .clone();
    let keys = browser_keys();
    let endpoint = push_service.endpoint("device-1");

    // Refused, and nothing stored: another origin, keys that are not keys.
    let elsewhere = subscription("https://push.example/push/1", &keys);
    assert_refused(
        app.set_push_subscription(&account, Some(&elsewhere)).await,
        "origin is not allowed",
    );
    let mut bad_key = subscription(&endpoint, &keys);
    bad_key.keys.p256dh = "AAAA".into();
    assert_refused(
        app.set_push_subscription(&account, Some(&bad_key)).await,
        "keys.p256dh",
    );
    let stored = |id: &str| {
        let id = id.parse().unwrap();
        async move { service.store().push_subscription(id).await.unwrap() }
    };
    assert!(stored(&account.account_id).await.is_none());

    app.set_push_subscription(&account, Some(&subscription(&endpoint, &keys)))
        .await
        .unwrap();
    start_login(service).await;
    let push = next_push(&push_service).await;
    assert_eq!(push.header("content-encoding"), "aes128gcm");
    assert_eq!(push.header("urgency"), "high");
    let ttl: u64 = push.header("ttl").parse().unwrap();
    assert!(
        (1..=90).contains(&ttl),
        "TTL {ttl}: the session's time left"
    );
    // RFC 8188's header (salt, record size, the sender's 65-byte key), the message padded to
    // 256 bytes, the delimiter and the 16-byte tag: every e-service's name gives one length.
    assert_eq!(push.body.len(), 16 + 4 + 1 + 65 + 256 + 1 + 16, "padded");

    let opened = push.open(&keys);
    assert_eq!(
        opened["message"],
        json!({"kind": "authentication", "relyingPartyName": "DEMO"}),
        "only what the notification shows"
    );
    assert_eq!(opened["claims"]["aud"], origin.as_str());
    assert_eq!(opened["claims"]["sub"], "mailto:ops@example.org");
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let expires = opened["claims"]["exp"].as_i64().unwrap();
    assert!(expires > now && expires <= now + 24 * 3600, "exp {expires}");
    assert_eq!(opened["tamperedVerifies"], false);
    let (status, body) = call(service, axum::http::Method::GET, "/app/v1/push-key", "").await;
    assert_eq!(status, 200);
    let push_key: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        opened["k"], push_key["applicationServerKey"],
        "signed with the key the app subscribes with"
    );

    // "Too many requests, retry after 2 s": that message is sent again after the wait, and
    // another one meanwhile is not sent at all (the service backs off from that push service).
    push_service.answer_once(429, Some(2));
    let asked_to_wait = Instant::now();
    start_login_showing(service, "Push service says slow down").await;
    let refused = next_push(&push_service).await;
    start_login_showing(service, "During the back-off").await;
    let retried = push_service
        .next_within(Duration::from_secs(4))
        .await
        .expect("the throttled message is sent again");
    let waited = asked_to_wait.elapsed();
    assert!(
        waited >= Duration::from_millis(1900),
        "retried after {waited:?}"
    );
    let ttl = |push: &PushMessage| push.header("ttl").parse::<u64>().unwrap();
    assert!(
        ttl(&retried) < ttl(&refused),
        "the retry's TTL counts the wait"
    );
    let during = push_service.next_within(Duration::from_millis(500)).await;
    assert!(during.is_none(), "a message was sent during the back-off");

    // A push service that does not answer delays no session.
    push_service.answer_with(HANG);
    let started = Instant::now();
    start_login_showing(service, "Push service hangs").await;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    next_push(&push_service).await;

    // "Gone": the service forgets the subscription, and sends nothing more.
    push_service.answer_with(410);
    start_login_showing(service, "Push service says gone").await;
    next_push(&push_service).await;
    let deadline = Instant::now() + Duration::from_secs(5);
    while stored(&account.account_id).await.is_some() {
        assert!(Instant::now() < deadline, "the gone subscription is kept");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    start_login_showing(service, "No subscription").await;
    let nothing = push_service.next_within(Duration::from_secs(1)).await;
    assert!(nothing.is_none(), "sent to a forgotten subscription");

    // Given again, then taken back by the device; then given, and gone with the account.
    let again = subscription(&endpoint, &keys);
    app.set_push_subscription(&account, Some(&again))
        .await
        .unwrap();
    assert!(stored(&account.account_id).await.is_some());
    app.set_push_subscription(&account, None).await.unwrap();
    assert!(stored(&account.account_id).await.is_none());
    app.set_push_subscription(&account, Some(&again))
        .await
        .unwrap();
    app.delete(&account.document_number).await.unwrap();
    assert!(
        stored(&account.account_id).await.is_none(),
        "a deleted account keeps no subscription"
    );
    // And a closed account takes none (the copy of its credentials still signs requests).
    match app.set_push_subscription(&account, Some(&again)).await {
        Err(AppError::Server { status: 409, .. }) => {}
        other => panic!("a closed account's subscription: {other:?}"),
    }
    assert!(stored(&account.account_id).await.is_none());
}
