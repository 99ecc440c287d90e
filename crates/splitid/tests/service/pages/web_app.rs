//! The installable web app (`/app/`) in headless Chromium as the phone: the WebAssembly
//! device core registers this "phone" in demo mode, then answers the Demo Bank (in a second
//! browser) by the same protocol as `splitid app`: a login, a signed transfer, a refused
//! login, three wrong PINs and the lock's countdown, and the account's deletion.

use std::time::{Duration, Instant};

use splitid_testkit::*;

use super::browser::Browser;
use crate::rp_api::transaction_bytes::CountingProxy;

const PERSON_CODE: &str = "30303039914";
const PIN1: &str = "4719";
const PIN2: &str = "47193";

/// Registration makes two RSA-3072 keys in WebAssembly: give it time.
const KEY_GENERATION: Duration = Duration::from_secs(240);

/// Registers the app served at `base` (the server, or a proxy in front of it) in demo mode.
pub(super) fn register_in_the_app(phone: &Browser, base: &str) -> Duration {
    phone.goto(&format!("{base}/app/"));
    phone.wait_for_text("Register this phone");
    fill_demo_identity(phone);
    // Every text the progress label shows, in order.
    phone.script(
        "window.stepsShown = []; const label = document.getElementById('keygen-label');
         new MutationObserver(() => { if (label.textContent) stepsShown.push(label.textContent); })
           .observe(label, { childList: true, characterData: true, subtree: true });",
    );
    let started = Instant::now();
    enter_pins_and_register(phone);
    let took = started.elapsed();
    assert_eq!(
        phone.script("return stepsShown"),
        serde_json::json!(["Key 1 of 2", "Key 2 of 2", "Registering with the service…"])
    );
    took
}

/// The demo's self-asserted identity (Mary Änn, the Demo Bank's test person).
pub(super) fn fill_demo_identity(phone: &Browser) {
    phone.fill("input[name=code]", PERSON_CODE);
    phone.fill("input[name=givenName]", "Mary");
    phone.fill("input[name=surname]", "Änn");
}

/// Both PINs, each twice, then Register; returns the page once the phone is registered.
pub(super) fn enter_pins_and_register(phone: &Browser) -> String {
    for (field, pin) in [
        ("pin1", PIN1),
        ("pin1again", PIN1),
        ("pin2", PIN2),
        ("pin2again", PIN2),
    ] {
        phone.fill(&format!("input[name={field}]"), pin);
    }
    phone.click("#register-form button[type=submit]");
    phone.wait_for_text_within("This phone is registered", KEY_GENERATION)
}

/// The Demo Bank asks the phone for a login; returns the page (with its code).
pub(super) fn start_login(bank: &Browser, server: &Server) -> String {
    bank.goto(&format!("{}/demo", server.url));
    bank.fill("#code", PERSON_CODE);
    bank.click("form[action='/demo/login'] button");
    bank.wait_for_text("Check your phone")
}

/// From a result back to the list of accounts.
fn back_to_accounts(phone: &Browser) {
    phone.click("#result-done");
    phone.wait_for_text("Your accounts");
}

pub(super) fn enter_pin(phone: &Browser, pin: &str) {
    for digit in pin.chars() {
        phone.click(&format!(
            "#keypad button:nth-child({})",
            keypad_position(digit)
        ));
    }
}

/// The keypad's buttons: 1–9, erase, 0.
fn keypad_position(digit: char) -> usize {
    match digit {
        '0' => 11,
        d => d.to_digit(10).expect("a digit") as usize,
    }
}

#[test]
fn the_web_app_registers_and_answers_the_demo_bank() {
    let server = Server::start(&[]);
    // The phone reaches the server through a byte-counting proxy (plain HTTP/1.1, as Chromium
    // sends it: every header counted).
    let proxy = CountingProxy::start(&server.url);
    let phone = Browser::open();
    let took = register_in_the_app(&phone, &proxy.url);
    eprintln!("registration in the web app took {took:?}");
    phone.screenshot("app-1-registered");
    phone.click("#result-done");
    // The demo registers at the qualified level; the locks come from the server.
    let accounts = phone.wait_for_text("PIN2: 3 attempts left");
    assert!(accounts.contains("Level: QUALIFIED"), "{accounts}");
    assert!(accounts.contains("PIN1: 3 attempts left"), "{accounts}");
    assert!(
        accounts.contains("(1096 days left)") || accounts.contains("(1095 days left)"),
        "{accounts}"
    );

    let bank = Browser::open();
    let waiting = start_login(&bank, &server);

    proxy.reset();
    phone.click("#check");
    let transaction = phone.wait_for_text("Log in to Demo Bank");
    let code = transaction
        .lines()
        .skip_while(|line| !line.contains("Check that the e-service shows this code"))
        .nth(1)
        .unwrap_or_default()
        .trim()
        .to_owned();
    assert!(
        code.len() == 4 && waiting.contains(&code),
        "code {code:?}:\n{transaction}\n{waiting}"
    );
    phone.screenshot("app-2-login");
    enter_pin(&phone, PIN1);
    // From the PIN's last digit (and Confirm) to the relying party's page knowing the
    // answer, for docs/performance.md (the pages are polled every 200 ms).
    let confirmed = Instant::now();
    phone.click("#tx-confirm");
    bank.wait_for_text("Welcome, MARY ÄNN");
    eprintln!(
        "confirmation to the Demo Bank's answer took {:?}",
        confirmed.elapsed()
    );
    phone.wait_for_text("Confirmed");
    report_bytes("login (PIN1)", &proxy);

    // A transfer, signed with PIN2 after checking what it says.
    bank.send_transfer("12", "Order 7");
    back_to_accounts(&phone);
    proxy.reset();
    phone.click("#check");
    let shown = phone.wait_for_text("Sign for Demo Bank");
    assert!(
        shown.contains("Pay 12.00 EUR to Demo Shop, EE382200221020145685: Order 7"),
        "{shown}"
    );
    enter_pin(&phone, PIN2);
    phone.click("#tx-confirm");
    phone.wait_for_text("Confirmed");
    report_bytes("signature (PIN2)", &proxy);
    let receipt = bank.wait_for_text("Signature verified");
    assert!(receipt.contains("Order 7"), "{receipt}");
    phone.screenshot("app-3-signed");

    // A login refused on the phone: the bank says so.
    bank.goto(&format!("{}/demo", server.url));
    bank.click("form[action='/demo/logout'] button");
    start_login(&bank, &server);
    back_to_accounts(&phone);
    phone.click("#check");
    phone.wait_for_text("Log in to Demo Bank");
    phone.click("#tx-refuse");
    phone.wait_for_text("Refused");
    bank.wait_for_text("You cancelled on your phone");

    // Three wrong PIN1s: the attempts left, then the lock and its countdown.
    start_login(&bank, &server);
    back_to_accounts(&phone);
    phone.click("#check");
    phone.wait_for_text("Log in to Demo Bank");
    for attempt in 1..=3 {
        enter_pin(&phone, "0000");
        phone.click("#tx-confirm");
        if attempt < 3 {
            phone.wait_for_text(&format!("{} attempts left", 3 - attempt));
        }
    }
    let locked = phone.wait_for_text("Unlocks in");
    phone.screenshot("app-4-locked");
    let first = countdown(&locked);
    std::thread::sleep(Duration::from_millis(2100));
    let later = countdown(&phone.text());
    assert!(
        later < first && first <= 3 * 3600,
        "the countdown moves: {first} → {later}"
    );

    // Delete the account: on the server and in the app.
    back_to_accounts(&phone);
    phone.click(".card button.danger");
    phone.wait_for_text("Delete the account");
    phone.click(".card button.danger");
    phone.wait_for_text("Register this phone");
}

#[test]
fn over_https_the_web_app_speaks_http2_and_a_login_costs_fewer_bytes() {
    let tls = crate::operations::tls::TestTls::new();
    let args = tls.serve_args();
    let server = Server::start(&args.iter().map(String::as_str).collect::<Vec<_>>());
    // The proxy forwards the TLS connection as it is: it counts what a phone's network carries.
    let proxy = CountingProxy::start(&server.url);
    let base = proxy.url.replace("http://", "https://");
    let phone = Browser::trusting_server_of(&tls);
    register_in_the_app(&phone, &base);
    phone.click("#result-done");
    phone.wait_for_text("PIN2: 3 attempts left");
    let protocols = phone.script(
        "return performance.getEntriesByType('resource').map((entry) => entry.nextHopProtocol)",
    );
    let protocols = protocols.as_array().unwrap();
    assert!(
        !protocols.is_empty() && protocols.iter().all(|p| p == "h2"),
        "{protocols:?}"
    );

    // A relying party (the test kit's, trusting the test CA) asks for a login.
    let rp = RelyingParty::trusting(&server, &tls.ca_pem());
    let session = rp.start(
        &format!("/authentication/etsi/PNOEE-{PERSON_CODE}"),
        &login_body(display_text_and_pin("Log in over HTTP/2")),
    );
    proxy.reset();
    phone.click("#check");
    phone.wait_for_text("Log in over HTTP/2");
    enter_pin(&phone, PIN1);
    phone.click("#tx-confirm");
    phone.wait_for_text("Confirmed");
    report_bytes("login (PIN1) over TLS and HTTP/2", &proxy);
    assert_eq!(rp.result(&session)["result"]["endResult"], "OK");
}

/// Two tabs of the app on one phone answer the same login at once: the vault's Web Lock has
/// them take turns, one confirms, the other finds the transaction answered, and the account
/// stays in step with the server (no wrong PIN counted, the next login confirmed).
#[test]
fn two_tabs_answering_one_login_leave_the_account_in_step() {
    let server = Server::start(&[]);
    let phone = Browser::open();
    register_in_the_app(&phone, &server.url);
    phone.click("#result-done");
    phone.wait_for_text("PIN1: 3 attempts left");
    let first = phone.open_tab();
    let second = phone.tab();
    phone.goto(&format!("{}/app/", server.url));
    phone.wait_for_text("PIN1: 3 attempts left");

    let rp = RelyingParty::new(&server);
    let login = |text: &str| {
        rp.start(
            &format!("/authentication/etsi/PNOEE-{PERSON_CODE}"),
            &login_body(display_text_and_pin(text)),
        )
    };
    let session = login("Log in from two tabs");
    for tab in [&first, &second] {
        phone.switch_to(tab.clone());
        phone.click("#check");
        phone.wait_for_text("Log in from two tabs");
        enter_pin(&phone, PIN1);
    }
    // Both confirm, one right after the other (each tab's core works for a while).
    phone.switch_to(first.clone());
    phone.click("#tx-confirm");
    phone.switch_to(second.clone());
    phone.click("#tx-confirm");
    let mut results = Vec::new();
    for tab in [&first, &second] {
        phone.switch_to(tab.clone());
        let page = phone.wait_for_text("Done");
        results.push(if page.contains("Confirmed") {
            "confirmed"
        } else if page.contains("no longer waiting") {
            "gone"
        } else {
            panic!("neither confirmed nor gone:\n{page}")
        });
    }
    results.sort();
    assert_eq!(results, ["confirmed", "gone"]);
    assert_eq!(rp.result(&session)["result"]["endResult"], "OK");

    // The second tab answers the next login: the ratchet is where the server expects it.
    let next = login("And then from one");
    phone.switch_to(second);
    back_to_accounts(&phone);
    phone.wait_for_text("PIN1: 3 attempts left");
    phone.click("#check");
    phone.wait_for_text("And then from one");
    enter_pin(&phone, PIN1);
    phone.click("#tx-confirm");
    phone.wait_for_text("Confirmed");
    assert_eq!(rp.result(&next)["result"]["endResult"], "OK");
}

/// The bytes the app exchanged for one transaction, from "Check for transactions" to the
/// result (for docs/performance.md); fails past 6 KB, twice what the CLI exchanges.
fn report_bytes(transaction: &str, proxy: &CountingProxy) {
    let (up, down) = proxy.total();
    eprintln!(
        "the web app's {transaction} in Chromium: {up} B app→server + {down} B server→app = {} B",
        up + down
    );
    assert!(up + down < 6_000, "{transaction}: {} bytes", up + down);
}

/// Seconds left on the page's "Unlocks in HH:MM:SS".
fn countdown(text: &str) -> u32 {
    let at = text.find("Unlocks in ").expect("a countdown") + "Unlocks in ".len();
    let parts: Vec<u32> = text[at..at + 8]
        .split(':')
        .map(|p| p.parse().unwrap())
        .collect();
    parts[0] * 3600 + parts[1] * 60 + parts[2]
}

/// RP API v3's Web2App flow in the web app: the link lands on the service's /device-link page
/// (no app took it), whose "Open in the SplitID app" opens it in the app's scope; the person
/// confirms with PIN1 and is offered the way back to the e-service, with the digest of the
/// session secret and the verifier of the signed userChallenge.
#[test]
fn the_web_app_opens_a_device_link_and_returns_to_the_e_service() {
    use crate::rp_api::v3_device_link::CALLBACK;
    let server = Server::start(&[]);
    let phone = Browser::open();
    let (rp, session) = device_link_login(&phone, &server, "Log in to the shop?", Some(CALLBACK));
    phone.goto(&session.link("Web2App", None));
    phone.wait_for_text("Open this in the SplitID app");
    phone.click("a.button");
    phone.wait_for_text("Log in to the shop?");
    enter_pin(&phone, PIN1);
    phone.click("#tx-confirm");
    phone.wait_for_text("Back to DEMO");
    let back = phone.script("return document.getElementById('result-return').href");
    let back = back.as_str().unwrap();
    let prefix = format!(
        "{CALLBACK}&sessionSecretDigest={}&userChallengeVerifier=",
        session.secret_digest()
    );
    assert!(back.starts_with(&prefix), "{back}");
    let result = rp.result(&session.id);
    assert_eq!(result["result"]["endResult"], "OK", "{result}");
    assert_eq!(result["signature"]["flowType"], "Web2App", "{result}");
}

/// A video file Chromium plays as the camera (`--use-file-for-fake-video-capture`): the QR
/// code of `link`, as the SDK draws it, in a Y4M (4:2:0) frame.
fn camera_showing(link: &str, path: &std::path::Path) {
    let png = splitid_rp::device_link::qr_png(link).unwrap();
    let mut reader = png::Decoder::new(std::io::Cursor::new(png))
        .read_info()
        .unwrap();
    let mut grey = vec![0; reader.output_buffer_size().unwrap()];
    let frame = reader.next_frame(&mut grey).unwrap();
    let side = frame.width as usize;
    let even = side + side % 2;
    let mut luma = vec![255u8; even * even];
    for y in 0..side {
        luma[y * even..y * even + side].copy_from_slice(&grey[y * side..(y + 1) * side]);
    }
    let mut video =
        format!("YUV4MPEG2 W{even} H{even} F1:1 Ip A1:1 C420jpeg\nFRAME\n").into_bytes();
    video.extend_from_slice(&luma);
    video.extend(std::iter::repeat_n(128u8, even * even / 2));
    std::fs::write(path, video).unwrap();
}

/// RP API v3's QR flow in the web app: the person scans the e-service's code with the camera
/// (Chromium's fake camera plays the SDK's QR image) and confirms with PIN1.
#[test]
fn the_web_app_scans_a_qr_code_with_the_camera() {
    let server = Server::start(&[]);
    let camera = tempfile::tempdir().unwrap();
    let video = camera.path().join("camera.y4m");
    let phone = Browser::open_with(&[
        "--use-fake-ui-for-media-stream".to_owned(),
        "--use-fake-device-for-media-stream".to_owned(),
        format!("--use-file-for-fake-video-capture={}", video.display()),
    ]);
    let (rp, session) = device_link_login(&phone, &server, "Log in by QR?", None);
    camera_showing(&session.link("QR", Some(0)), &video);
    phone.click("#scan");
    phone.wait_for_text("Log in by QR?");
    enter_pin(&phone, PIN1);
    phone.click("#tx-confirm");
    phone.wait_for_text("Confirmed");
    let result = rp.result(&session.id);
    assert_eq!(result["result"]["endResult"], "OK", "{result}");
    assert_eq!(result["signature"]["flowType"], "QR", "{result}");
}

/// Registers the web app at `server`, then starts an anonymous RP API v3 device-link login
/// showing `text` (returning to `callback` from Web2App): the relying party and the session.
fn device_link_login(
    phone: &Browser,
    server: &Server,
    text: &str,
    callback: Option<&str>,
) -> (RelyingParty, crate::rp_api::v3_device_link::LinkSession) {
    use crate::rp_api::v3_device_link::{LinkSession, device_link_login};
    use crate::rp_api::v3_notification::{interactions, random_challenge, v3};
    register_in_the_app(phone, &server.url);
    phone.click("#result-done");
    phone.wait_for_text("PIN1: 3 attempts left");
    let rp = v3(server);
    let sent =
        interactions(serde_json::json!([{"type": "displayTextAndPIN", "displayText60": text}]));
    let session = LinkSession::start(
        &rp,
        "/authentication/device-link/anonymous",
        &device_link_login(&random_challenge(), &sent, callback),
    );
    (rp, session)
}
