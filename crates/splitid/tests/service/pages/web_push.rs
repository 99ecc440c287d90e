//! A push notification in the installable app: the service's Web Push message for a Demo Bank
//! login reaches a push-service stand-in, PyPI's http_ece decrypts it and py_vapid verifies its
//! VAPID token; the decrypted message is delivered to the app's service worker through the
//! DevTools protocol (as a browser's push service would deliver it), which shows the
//! notification ("Log in to Demo Bank") and makes the open app show the transaction, which is
//! then confirmed; the next login's notification, tapped, opens its transaction. On the way:
//! Chromium's installability check reports no errors, and the app is served with its strict
//! content security policy. The browser's own push service is replaced at both ends: its
//! `PushManager` hands the app a subscription at the stand-in (headless Chromium has none).
//! And a phone whose language is Estonian gets the notification in Estonian.

use serde_json::json;
use splitid_testkit::push::{PushService, browser_keys};
use splitid_testkit::*;

use super::browser::Browser;
use super::web_app::{enter_pin, register_in_the_app, start_login};

const PIN1: &str = "4719";

/// Makes the page's `PushManager` hand out a subscription at `endpoint` with `keys`.
fn push_manager_at(endpoint: &str, keys: &serde_json::Value) -> String {
    let json = json!({
        "endpoint": endpoint,
        "expirationTime": null,
        "keys": { "p256dh": keys["p256dh"], "auth": keys["auth"] },
    });
    format!(
        "(() => {{ const subscription = {{ endpoint: {endpoint:?}, toJSON: () => ({json}) }};
           PushManager.prototype.getSubscription = async () => subscription;
           PushManager.prototype.subscribe = async () => subscription; }})();"
    )
}

/// Delivers a push message to the page's service worker. The DevTools protocol names a
/// registration by an id it reports only in events, which chromedriver's command channel
/// does not pass on; a new profile's first registration is "0". (Chromium accepts any id here:
/// a wrong one shows as the transaction never appearing.)
fn deliver_push(phone: &Browser, origin: &str, data: &str) {
    phone.devtools("ServiceWorker.enable", json!({})).unwrap();
    let params = json!({ "origin": origin, "registrationId": "0", "data": data });
    phone
        .devtools("ServiceWorker.deliverPushMessage", params)
        .unwrap();
}

/// Chromium's own installability check (manifest, icons, service worker) finds nothing, and
/// the page came with the strict content security policy.
fn assert_installable(phone: &Browser) {
    let errors = phone
        .devtools("Page.getInstallabilityErrors", json!({}))
        .unwrap();
    assert_eq!(errors["installabilityErrors"], json!([]), "{errors}");
    let manifest = phone.devtools("Page.getAppManifest", json!({})).unwrap();
    assert_eq!(manifest["errors"], json!([]), "{manifest}");
}

fn assert_strict_policy(server: &Server) {
    let page = reqwest::blocking::get(format!("{}/app/", server.url)).unwrap();
    let policy = page.headers()["content-security-policy"].to_str().unwrap();
    for directive in [
        "default-src 'none'",
        "script-src 'self' 'wasm-unsafe-eval'",
        "worker-src 'self'",
        "connect-src 'self'",
    ] {
        assert!(policy.contains(directive), "{directive} in {policy}");
    }
    assert!(
        !policy.contains("unsafe-inline") && !policy.contains("http"),
        "{policy}"
    );
}

#[test]
fn a_push_shows_the_notification_and_opens_the_transaction() {
    let push_service = PushService::start();
    let server = Server::start(&["--push-origin", &push_service.origin]);
    assert_strict_policy(&server);
    let keys = browser_keys();
    let phone = Browser::open();
    phone
        .devtools(
            "Browser.grantPermissions",
            json!({ "origin": server.url, "permissions": ["notifications"] }),
        )
        .unwrap();
    phone
        .devtools(
            "Page.addScriptToEvaluateOnNewDocument",
            json!({ "source": push_manager_at(&push_service.endpoint("phone"), &keys) }),
        )
        .unwrap();
    register_in_the_app(&phone, &server.url);
    assert_installable(&phone);
    phone.click("#result-done");
    phone.wait_for_text("Your accounts");

    let bank = Browser::open();
    start_login(&bank, &server);
    let pushed = push_service.next_blocking();
    let opened = pushed.open(&keys);
    assert_eq!(
        opened["message"],
        json!({ "kind": "authentication", "relyingPartyName": "Demo Bank" })
    );
    assert_eq!(opened["tamperedVerifies"], false);
    assert_eq!(opened["claims"]["aud"], push_service.origin.as_str());
    let push_key: serde_json::Value =
        reqwest::blocking::get(format!("{}/app/v1/push-key", server.url))
            .unwrap()
            .json()
            .unwrap();
    assert_eq!(opened["k"], push_key["applicationServerKey"]);
    assert!(
        !phone.text().contains("Log in to Demo Bank"),
        "the app found the transaction without the push"
    );

    deliver_push(&phone, &server.url, &opened["message"].to_string());
    let shown = phone.wait_for_text("Log in to Demo Bank");
    assert!(
        shown.contains("Check that the e-service shows this code"),
        "{shown}"
    );
    let titles = phone.script(
        "return navigator.serviceWorker.ready
           .then((registration) => registration.getNotifications())
           .then((notifications) => notifications.map((n) => [n.title, n.body]));",
    );
    assert_eq!(
        titles,
        json!([[
            "Log in to Demo Bank",
            "Open SplitID to see the request and answer it."
        ]])
    );
    phone.screenshot("app-push-opened");
    enter_pin(&phone, PIN1);
    phone.click("#tx-confirm");
    phone.wait_for_text("Confirmed");
    bank.wait_for_text("Welcome, MARY ÄNN");

    tapping_the_notification_opens_the_next_transaction(&phone, &server, &push_service, &keys);
}

/// The app stays on the result a person is reading when the next push arrives; tapping that
/// push's notification opens its transaction. The tap is a `notificationclick` dispatched in
/// the service worker (headless Chromium has no notification to tap): a synthetic event
/// carries no user activation, so this covers the open app being told, not the browser
/// focusing it or opening a closed app (`clients.openWindow` needs a real tap).
fn tapping_the_notification_opens_the_next_transaction(
    phone: &Browser,
    server: &Server,
    push_service: &PushService,
    keys: &serde_json::Value,
) {
    let bank = Browser::open();
    start_login(&bank, server);
    let pushed = push_service.next_blocking().open(keys);
    deliver_push(phone, &server.url, &pushed["message"].to_string());
    std::thread::sleep(std::time::Duration::from_secs(2));
    let reading = phone.text();
    assert!(
        reading.contains("Confirmed") && !reading.contains("Log in to Demo Bank"),
        "a push does not take the person away from the result:\n{reading}"
    );

    phone.in_service_worker(
        "self.registration.getNotifications().then(([tapped]) =>
           self.dispatchEvent(new NotificationEvent('notificationclick', { notification: tapped })))",
    );
    phone.wait_for_text("Log in to Demo Bank");
    let left = phone.script(
        "return navigator.serviceWorker.ready
           .then((registration) => registration.getNotifications())
           .then((notifications) => notifications.length);",
    );
    assert_eq!(left, 0, "the tapped notification is closed");
    enter_pin(phone, PIN1);
    phone.click("#tx-confirm");
    phone.wait_for_text("Confirmed");
    bank.wait_for_text("Welcome, MARY ÄNN");
}

/// The notification is written in the phone's language (the first of its languages the app
/// has a file for), by the service worker, from a message that names only the kind of request
/// and the e-service.
#[test]
fn a_phone_in_estonian_gets_its_notification_in_estonian() {
    let server = Server::start(&[]);
    let phone = Browser::open_with(&["--lang=et".into(), "--accept-lang=et,en".into()]);
    phone
        .devtools(
            "Browser.grantPermissions",
            json!({ "origin": server.url, "permissions": ["notifications"] }),
        )
        .unwrap();
    phone.goto(&format!("{}/app/", server.url));
    phone.wait_for_text("Registreeri see telefon");
    assert_eq!(
        phone.script("return navigator.serviceWorker.ready.then(() => navigator.languages[0])"),
        "et"
    );
    let message = json!({ "kind": "signature", "relyingPartyName": "Demo $& Bank" });
    deliver_push(&phone, &server.url, &message.to_string());
    let shown = (0..50)
        .map(|_| {
            std::thread::sleep(std::time::Duration::from_millis(100));
            phone.script(
                "return navigator.serviceWorker.ready
                   .then((registration) => registration.getNotifications())
                   .then((notifications) => notifications.map((n) => [n.title, n.body]));",
            )
        })
        .find(|shown| shown != &json!([]))
        .expect("a notification");
    assert_eq!(
        shown,
        json!([[
            "Allkirjasta: Demo $& Bank",
            "Ava SplitID, et päringut näha ja sellele vastata."
        ]])
    );
}
