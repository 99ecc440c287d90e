//! End to end in a real browser: headless Chromium (Debian's `chromium` and
//! `chromium-driver`, installed by .ci/run) drives the demo bank and the self-service portal
//! of the real binary while `splitid app` answers on the "phone". Screenshots of each step are
//! saved under target/tmp/screenshots for people to look at.

use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use splitid_testkit::*;

const PERSON_CODE: &str = "30303039914";
const PERSON: &str = "PNOEE-30303039914";
const PIN1: &str = "1234";
const PIN2: &str = "12345";

/// chromedriver on a free port, killed when dropped.
struct Driver {
    child: Child,
    url: String,
}

impl Driver {
    fn start() -> Driver {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver must be installed (Debian package chromium-driver; .ci/run installs it)");
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "chromedriver did not start"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Driver {
            child,
            url: format!("http://127.0.0.1:{port}"),
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A browser the size of a phone.
pub(super) struct Browser {
    runtime: tokio::runtime::Runtime,
    client: Client,
    driver: Driver,
}

/// Ends the WebDriver session, which quits Chromium: killing chromedriver alone leaves the
/// browser processes running after the test.
impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.runtime.block_on(self.client.clone().close());
    }
}

impl Browser {
    pub(super) fn open() -> Browser {
        Self::open_with(&[])
    }

    /// A browser that accepts the TLS certificate with this SPKI hash (SHA-256, base64), as
    /// a browser that trusts its CA would: that certificate only, no other.
    /// A browser that trusts the server certificate of `tls` (by its key, as Chromium's
    /// `--ignore-certificate-errors-spki-list` does: the page is then a secure context).
    pub(super) fn trusting_server_of(tls: &crate::operations::tls::TestTls) -> Browser {
        let spki = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!(
                "openssl x509 -in {} -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64",
                tls.path("server.pem").display()
            ))
            .output()
            .unwrap();
        Self::open_with(&[format!(
            "--ignore-certificate-errors-spki-list={}",
            stdout(&spki).trim()
        )])
    }

    pub(super) fn open_with(extra_args: &[String]) -> Browser {
        let driver = Driver::start();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let mut args: Vec<String> = [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--window-size=412,915",
        ]
        .map(String::from)
        .to_vec();
        args.extend_from_slice(extra_args);
        let capabilities = serde_json::json!({
            "goog:chromeOptions": { "binary": "/usr/bin/chromium", "args": args }
        });
        let serde_json::Value::Object(capabilities) = capabilities else {
            unreachable!()
        };
        let client = runtime
            .block_on(
                ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
                    .capabilities(capabilities)
                    .connect(&driver.url),
            )
            .expect("start headless Chromium");
        Browser {
            runtime,
            client,
            driver,
        }
    }

    /// A DevTools protocol command on the current page (through chromedriver); its result.
    pub(super) fn devtools(
        &self,
        command: &str,
        params: serde_json::Value,
    ) -> Result<serde_json::Value, String> {
        let session = self
            .runtime
            .block_on(self.client.session_id())
            .unwrap()
            .expect("a WebDriver session");
        let answer: serde_json::Value = reqwest::blocking::Client::new()
            .post(format!(
                "{}/session/{session}/goog/cdp/execute",
                self.driver.url
            ))
            .json(&serde_json::json!({ "cmd": command, "params": params }))
            .send()
            .unwrap()
            .json()
            .unwrap();
        match answer["value"].get("error") {
            Some(error) => Err(format!("{command}: {error} {}", answer["value"]["message"])),
            None => Ok(answer["value"].clone()),
        }
    }

    /// Starts `expression` in the page's service worker, without waiting for it: the DevTools
    /// protocol reaches a worker only through a session attached to it, whose answers come
    /// back as events that chromedriver's command channel does not pass on, so the test
    /// watches the expression's effects instead.
    pub(super) fn in_service_worker(&self, expression: &str) {
        let targets = self
            .devtools("Target.getTargets", serde_json::json!({}))
            .unwrap();
        let worker = targets["targetInfos"]
            .as_array()
            .unwrap()
            .iter()
            .find(|target| target["type"] == "service_worker")
            .unwrap_or_else(|| panic!("no service worker in {targets}"));
        let attached = self
            .devtools(
                "Target.attachToTarget",
                serde_json::json!({ "targetId": worker["targetId"], "flatten": false }),
            )
            .unwrap();
        let message = serde_json::json!({
            "id": 1,
            "method": "Runtime.evaluate",
            "params": { "expression": expression },
        });
        self.devtools(
            "Target.sendMessageToTarget",
            serde_json::json!({ "sessionId": attached["sessionId"], "message": message.to_string() }),
        )
        .unwrap();
    }

    /// Runs `script` (a function body; a promise it returns is awaited) in the page.
    pub(super) fn script(&self, script: &str) -> serde_json::Value {
        self.runtime
            .block_on(self.client.execute(script, Vec::new()))
            .unwrap()
    }

    /// Opens a new tab of the same profile and switches to it; returns the tab it left.
    pub(super) fn open_tab(&self) -> fantoccini::wd::WindowHandle {
        let left = self.runtime.block_on(self.client.window()).unwrap();
        let opened = self.runtime.block_on(self.client.new_window(true)).unwrap();
        self.switch_to(opened.handle);
        left
    }

    /// The tab now driven.
    pub(super) fn tab(&self) -> fantoccini::wd::WindowHandle {
        self.runtime.block_on(self.client.window()).unwrap()
    }

    pub(super) fn switch_to(&self, tab: fantoccini::wd::WindowHandle) {
        self.runtime
            .block_on(self.client.switch_to_window(tab))
            .unwrap();
    }

    pub(super) fn goto(&self, url: &str) {
        self.runtime.block_on(self.client.goto(url)).unwrap();
    }

    pub(super) fn fill(&self, css: &str, text: &str) {
        self.runtime.block_on(async {
            let field = self.client.find(Locator::Css(css)).await.unwrap();
            field.clear().await.unwrap();
            field.send_keys(text).await.unwrap();
        });
    }

    pub(super) fn click(&self, css: &str) {
        self.runtime.block_on(async {
            self.client
                .find(Locator::Css(css))
                .await
                .unwrap()
                .click()
                .await
                .unwrap();
        });
    }

    /// On the Demo Bank's account page: sends a transfer to Demo Shop for signing and waits
    /// for "Check your phone".
    pub(super) fn send_transfer(&self, amount: &str, description: &str) {
        self.fill("#recipient", "Demo Shop");
        self.fill("#iban", "EE38 2200 2210 2014 5685");
        self.fill("#amount", amount);
        self.fill("#description", description);
        self.click("form[action='/demo/transfer'] button");
        self.wait_for_text("Check your phone");
    }

    /// Waits (up to 30 s) until the page's text contains `text`; returns the text.
    pub(super) fn wait_for_text(&self, text: &str) -> String {
        self.wait_for_text_within(text, Duration::from_secs(30))
    }

    /// Waits up to `limit` until the page's text contains `text`; returns the text.
    pub(super) fn wait_for_text_within(&self, text: &str, limit: Duration) -> String {
        let started = Instant::now();
        loop {
            let body = self.text();
            if body.contains(text) {
                return body;
            }
            assert!(
                started.elapsed() < limit,
                "no {text:?} on the page:\n{body}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// The value of a cookie (HttpOnly ones too: WebDriver sees them).
    fn cookie(&self, name: &str) -> String {
        self.cookie_secure(name).0
    }

    /// The value of a cookie and whether it is `Secure` (sent over https only).
    fn cookie_secure(&self, name: &str) -> (String, bool) {
        let cookie = self
            .runtime
            .block_on(self.client.get_named_cookie(name))
            .unwrap();
        (cookie.value().to_owned(), cookie.secure() == Some(true))
    }

    pub(super) fn text(&self) -> String {
        self.runtime.block_on(async {
            match self.client.find(Locator::Css("body")).await {
                Ok(body) => body.text().await.unwrap_or_default(),
                Err(_) => String::new(),
            }
        })
    }

    /// Saves a screenshot as target/tmp/screenshots/NAME.png.
    pub(super) fn screenshot(&self, name: &str) -> PathBuf {
        let png = self.runtime.block_on(self.client.screenshot()).unwrap();
        let directory = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
        std::fs::create_dir_all(&directory).unwrap();
        let path = directory.join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap();
        path
    }
}

/// The phone waits for the transaction, checks it, and confirms it with `pin`.
fn phone_confirms(phone: &Phone, pin: &str) -> serde_json::Value {
    let transaction = phone.wait_for_transaction(20);
    assert_success(&phone.confirm_next(&[], &format!("{pin}\n")));
    transaction
}

fn log_in(browser: &Browser, base: &str, phone: &Phone) {
    browser.goto(base);
    browser.fill("#code", PERSON_CODE);
    browser.click("form[action$='/login'] button");
    let waiting = browser.wait_for_text("Check your phone");
    let transaction = phone_confirms(phone, PIN1);
    let code = transaction["verificationCode"].as_str().unwrap();
    assert!(
        waiting.contains(code),
        "the page shows the phone's code {code}:\n{waiting}"
    );
}

#[test]
fn a_person_logs_in_to_the_demo_bank_and_signs_a_transfer() {
    let server = Server::start(&[]);
    let phone = Phone::new();
    let document = phone.register(&server, PERSON, PIN1, PIN2);
    let browser = Browser::open();
    let bank = format!("{}/demo", server.url);

    browser.goto(&bank);
    browser.screenshot("bank-1-login");
    let before_login = browser.cookie("demo_bank");
    browser.fill("#code", PERSON_CODE);
    browser.click("form[action='/demo/login'] button");
    browser.wait_for_text("Check your phone");
    browser.screenshot("bank-2-check-your-phone");
    let login = phone_confirms(&phone, PIN1);
    assert_eq!(login["relyingPartyName"], "Demo Bank", "{login}");
    let account = browser.wait_for_text("Welcome, MARY ÄNN");
    assert!(
        account.contains(PERSON_CODE) && account.contains("1903-03-03"),
        "{account}"
    );
    assert!(account.contains(&document), "{account}");
    browser.screenshot("bank-3-logged-in");
    assert_ne!(
        browser.cookie("demo_bank"),
        before_login,
        "a new session id at login"
    );

    browser.send_transfer("25,5", "Order 1042");
    let details = "Pay 25.50 EUR to Demo Shop, EE382200221020145685: Order 1042";
    let signing = phone_confirms(&phone, PIN2);
    assert_eq!(signing["kind"], "signature", "{signing}");
    assert!(
        signing.to_string().contains(details),
        "the phone shows the details: {signing}"
    );
    let receipt = browser.wait_for_text("Signature verified");
    assert!(receipt.contains(details), "{receipt}");
    browser.screenshot("bank-4-transfer-signed");
}

/// The Demo Bank's QR login (RP API v3): the page shows a code its backend rebuilds every
/// second, and the phone reads the link from a screenshot of the page, as a camera would.
#[test]
fn a_person_logs_in_to_the_demo_bank_by_scanning_its_qr_code() {
    let server = Server::start(&[]);
    let phone = Phone::new();
    phone.register(&server, PERSON, PIN1, PIN2);
    let browser = Browser::open();
    browser.goto(&format!("{}/demo", server.url));
    browser.click("form[action='/demo/qr'] button");
    browser.wait_for_text("Scan with SplitID");
    let first = std::fs::read(browser.screenshot("bank-7-qr")).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(2_500));
    let later = browser.screenshot("bank-8-qr-later");
    assert_ne!(
        first,
        std::fs::read(&later).unwrap(),
        "the code changes as the seconds pass"
    );
    let opened = phone.run(
        &[
            "--json",
            "open",
            "--linked-wait",
            "0",
            "--qr",
            later.to_str().unwrap(),
        ],
        &format!("{PIN1}\n"),
    );
    assert_success(&opened);
    let account = browser.wait_for_text("Welcome, MARY ÄNN");
    assert!(account.contains(PERSON_CODE), "{account}");
}

#[test]
fn refusals_locked_keys_and_bad_input_get_clear_messages() {
    let server = Server::start(&[]);
    let phone = Phone::new();
    phone.register(&server, PERSON, PIN1, PIN2);
    let browser = Browser::open();
    let bank = format!("{}/demo", server.url);

    browser.goto(&bank);
    browser.fill("#code", "123");
    browser.click("form[action='/demo/login'] button");
    browser.wait_for_text("That is not a personal identification code");

    browser.fill("#code", PERSON_CODE);
    browser.click("form[action='/demo/login'] button");
    browser.wait_for_text("Check your phone");
    phone.wait_for_transaction(20);
    assert_success(&phone.run(&["--json", "refuse", "--next"], ""));
    browser.wait_for_text("You cancelled on your phone");
    browser.screenshot("bank-5-refused");

    log_in(&browser, &bank, &phone);
    browser.wait_for_text("Welcome");
    browser.fill("#recipient", "Demo Shop");
    browser.fill("#iban", "EE38 2200 2210 2014 5684");
    browser.fill("#amount", "10");
    browser.click("form[action='/demo/transfer'] button");
    browser.wait_for_text("not a valid IBAN");
    assert!(phone.pending().is_empty(), "nothing was sent to the phone");

    // Three wrong PIN2s lock the signing key: the transfer ends with a clear message.
    browser.fill("#recipient", "Demo Shop");
    browser.fill("#iban", "EE38 2200 2210 2014 5685");
    browser.fill("#amount", "10");
    browser.click("form[action='/demo/transfer'] button");
    browser.wait_for_text("Check your phone");
    phone.wait_for_transaction(20);
    for _ in 0..3 {
        assert!(!phone.confirm_next(&[], "99999\n").status.success());
    }
    let locked = browser.wait_for_text("The transfer was not signed");
    assert!(locked.contains("cannot be used right now"), "{locked}");
    browser.screenshot("bank-6-pin2-locked");
}

#[test]
fn a_person_logs_in_to_the_portal_and_deletes_a_lost_phone_s_account() {
    let server = Server::start(&[]);
    let phone = Phone::new();
    let lost_phone = Phone::new();
    let kept = phone.register(&server, PERSON, PIN1, PIN2);
    let lost = lost_phone.register(&server, PERSON, "4321", "54321");
    let browser = Browser::open();
    let portal = format!("{}/portal", server.url);

    // Both phones are asked; the one at hand answers.
    log_in(&browser, &portal, &phone);
    let overview = browser.wait_for_text("Your accounts and devices");
    assert!(
        overview.contains(&kept) && overview.contains(&lost),
        "{overview}"
    );
    assert!(
        overview.contains("SplitID self-service portal"),
        "the login is listed: {overview}"
    );
    browser.screenshot("portal-1-accounts");

    browser.click(&format!(
        "form[action='/portal/delete'] input[value='{lost}'] ~ button"
    ));
    browser.wait_for_text("Check your phone");
    let confirmation = phone_confirms(&phone, PIN1);
    assert!(
        confirmation.to_string().contains("Delete SplitID account"),
        "{confirmation}"
    );
    let after = browser.wait_for_text("is deleted and its certificates are revoked");
    assert!(after.contains("closed (deleted by the person)"), "{after}");
    browser.screenshot("portal-2-deleted");
    let certificate = lost_phone.certificate(&lost, "authentication");
    assert_eq!(
        server.revocation_reason(&certificate).as_deref(),
        Some("cessationOfOperation")
    );
}

/// The portal over the service's own HTTPS (a test CA): a person logs in with the phone, which
/// talks https too, and sees the accounts; the session cookie is Secure.
#[test]
fn the_portal_works_over_https() {
    let tls = crate::operations::tls::TestTls::new();
    let args = tls.serve_args();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let server = Server::start(&args);
    let phone = Phone::trusting(&tls.path("ca.pem"));
    let document = phone.register(&server, PERSON, PIN1, PIN2);
    let browser = Browser::trusting_server_of(&tls);
    let portal = format!("{}/portal", server.url);
    assert!(portal.starts_with("https://"));
    log_in(&browser, &portal, &phone);
    let overview = browser.wait_for_text("Your accounts and devices");
    assert!(overview.contains(&document), "{overview}");
    let (_, secure) = browser.cookie_secure("portal");
    assert!(secure, "the portal's session cookie is Secure over https");
    browser.screenshot("portal-over-https");
}
