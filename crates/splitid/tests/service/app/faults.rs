//! A channel that survives faults, end to end through a proxy that loses answers: answers lost
//! after the server committed (confirm, refuse, delete, vouch), an app killed while it waits,
//! a recorded request replayed after the app moved on, a server crash between the ninth wrong
//! PIN's count and its judgement. None of them closes a genuine account as a clone, and the
//! next operation works.

use std::time::{Duration, Instant};

use serde_json::Value;
use splitid_domain::store::{KeyPurpose, PinCounter};
use splitid_testkit::*;

const PERSON: &str = "PNOEE-30303039914";
const PIN1: &str = "1234";
const PIN2: &str = "12345";

/// A server that lets accounts vouch, a lossy proxy in front of it, and a phone registered
/// through the proxy (so that all its requests cross it); the relying party talks to the
/// server directly.
struct Lossy {
    server: Server,
    proxy: RecordingProxy,
    phone: Phone,
    document: String,
    rp: RelyingParty,
    _config: tempfile::TempDir,
}

impl Lossy {
    fn start() -> Lossy {
        let config = tempfile::tempdir().unwrap();
        let file = config.path().join("splitid.toml");
        std::fs::write(&file, "[proofing.account]\nenabled = true\n").unwrap();
        let server = Server::start(&["--config", file.to_str().unwrap()]);
        let proxy = RecordingProxy::start(&server.url);
        let phone = Phone::new();
        let registered =
            phone.try_register_at(&proxy.url, PERSON, &[], &format!("{PIN1}\n{PIN2}\n"));
        let document = outcome(&registered)["documentNumber"]
            .as_str()
            .unwrap()
            .to_owned();
        let rp = RelyingParty::new(&server);
        Lossy {
            server,
            proxy,
            phone,
            document,
            rp,
            _config: config,
        }
    }

    fn login(&self) -> String {
        self.rp.start(
            &format!("/authentication/document/{}", self.document),
            &login_body(display_text_and_pin("Log in")),
        )
    }

    fn end_result(&self, session: &str) -> Value {
        self.rp.result(session)["result"]["endResult"].clone()
    }

    fn in_flight(&self) -> Value {
        let vault = self.phone.vault();
        let account = vault["accounts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["documentNumber"] == self.document.as_str())
            .cloned()
            .unwrap_or(Value::Null);
        account["inFlight"].clone()
    }

    /// The account is active and a login goes through.
    fn assert_active_and_working(&self) {
        let status = self.phone.account_status(&self.document);
        assert_eq!(status["state"], "active", "{status}");
        assert!(self.in_flight().is_null(), "nothing left in flight");
        let session = self.login();
        assert_success(&self.phone.confirm_next(&[], &format!("{PIN1}\n")));
        assert_eq!(self.end_result(&session), "OK");
    }

    /// Registers a second account on the phone, vouched for by the first.
    fn register_vouched(&self) -> std::process::Output {
        self.phone.run(
            &[
                "--json",
                "register",
                "--server",
                &self.proxy.url,
                "--half-bits",
                "2048",
                "--proof",
                "account",
                "--with",
                &self.document,
            ],
            &format!("{PIN1}\n4321\n54321\n"),
        )
    }
}

fn assert_no_answer(output: &std::process::Output) {
    assert!(!output.status.success(), "{}", stdout(output));
    assert!(
        stderr(output).contains("cannot reach the server"),
        "{}",
        stderr(output)
    );
}

#[test]
fn answers_lost_after_the_server_committed_leave_the_account_working() {
    let lossy = Lossy::start();

    // Confirm: every answer of the call is lost; the server carried it out, the phone keeps
    // the request and sends it again, byte for byte, at its next command.
    let session = lossy.login();
    lossy.proxy.fault("POST", "/confirm", Fault::DropAnswer, 3);
    assert_no_answer(&lossy.phone.confirm_next(&[], &format!("{PIN1}\n")));
    assert_eq!(lossy.end_result(&session), "OK");
    assert!(lossy.in_flight().is_object(), "the request is kept");
    lossy.assert_active_and_working();

    // Two answers lost within one call: the third sending gets the stored answer.
    let session = lossy.login();
    lossy.proxy.fault("POST", "/confirm", Fault::DropAnswer, 2);
    assert_success(&lossy.phone.confirm_next(&[], &format!("{PIN1}\n")));
    assert_eq!(lossy.end_result(&session), "OK");
    assert_eq!(lossy.proxy.faults_left(), 0);

    // Refuse.
    let session = lossy.login();
    lossy.proxy.fault("POST", "/refuse", Fault::DropAnswer, 3);
    assert_no_answer(
        &lossy
            .phone
            .run(&["--json", "refuse", "--next", "--wait", "10"], ""),
    );
    assert_eq!(lossy.end_result(&session), "USER_REFUSED");
    lossy.assert_active_and_working();

    // Vouch (adding an account on this phone): the lost vouch goes first next time, then a
    // new one for the new challenge.
    lossy.proxy.fault("POST", "/vouch", Fault::DropAnswer, 3);
    assert_no_answer(&lossy.register_vouched());
    let second = outcome(&lossy.register_vouched());
    assert!(second["documentNumber"].is_string(), "{second}");
    lossy.assert_active_and_working();

    // Delete: the server closed the account; the phone learns it at its next command and
    // forgets the account then.
    let certificate = lossy.phone.certificate(&lossy.document, "authentication");
    lossy
        .proxy
        .fault("DELETE", "/app/v1/accounts/", Fault::DropAnswer, 3);
    assert_no_answer(&lossy.phone.run(&["delete", &lossy.document], ""));
    assert_eq!(
        lossy.server.revocation_reason(&certificate).as_deref(),
        Some("cessationOfOperation")
    );
    let left: Vec<Value> = lossy.phone.accounts();
    assert_eq!(left.len(), 1, "{left:?}");
    assert_eq!(left[0]["documentNumber"], second["documentNumber"]);
    assert_eq!(left[0]["status"]["state"], "active");
}

#[test]
fn an_app_killed_while_waiting_for_its_answer_sends_the_request_again_when_started() {
    let lossy = Lossy::start();
    let session = lossy.login();
    lossy.proxy.fault("POST", "/confirm", Fault::HoldAnswer, 1);
    let mut app = lossy.phone.start(
        &["--json", "confirm", "--next", "--wait", "10"],
        &format!("{PIN1}\n"),
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while !lossy
        .proxy
        .exchanges()
        .iter()
        .any(|e| e.target.ends_with("/confirm"))
    {
        assert!(
            Instant::now() < deadline,
            "the confirmation never reached the server"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    app.kill().unwrap();
    app.wait().unwrap();
    assert_eq!(
        lossy.end_result(&session),
        "OK",
        "the server carried it out"
    );
    assert!(
        lossy.in_flight().is_object(),
        "the killed app kept its request"
    );
    lossy.assert_active_and_working();
}

#[test]
fn a_recorded_request_replayed_after_the_app_moved_on_is_refused_and_changes_nothing() {
    let lossy = Lossy::start();
    let session = lossy.login();
    assert_success(&lossy.phone.confirm_next(&[], &format!("{PIN1}\n")));
    assert_eq!(lossy.end_result(&session), "OK");
    let recorded: Vec<Exchange> = lossy
        .proxy
        .exchanges()
        .into_iter()
        .filter(|e| e.target.ends_with("/confirm") || e.target.contains("/transactions?"))
        .collect();
    assert_eq!(recorded.len(), 2, "{recorded:?}");
    lossy.assert_active_and_working();

    for exchange in &recorded {
        let (status, body) = exchange.replay_to(&lossy.server.url);
        assert_eq!(
            status, 401,
            "{} {}: {body}",
            exchange.method, exchange.target
        );
        assert!(body.contains("replayed"), "{body}");
    }
    lossy.assert_active_and_working();
}

#[test]
fn a_crash_between_the_ninth_count_and_its_judgement_still_closes_the_account() {
    let mut server = Server::start_with_env(&[], &[("SPLITID_TEST_CRASH_AT", "after-pin-count-9")]);
    let phone = Phone::new();
    let document = phone.register(&server, PERSON, PIN1, PIN2);
    let account: uuid::Uuid = phone.vault()["accounts"][0]["accountId"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    // Eight wrong PIN1s so far (the 3- and 24-hour locks are over).
    server.with_store(async |store| {
        let eight = PinCounter {
            wrong_in_a_row: 8,
            locked_until: None,
        };
        store
            .set_pin_counter(account, KeyPurpose::Authentication, eight)
            .await
            .unwrap()
    });
    let certificates = [
        phone.certificate(&document, "authentication"),
        phone.certificate(&document, "signing"),
    ];
    let rp = RelyingParty::new(&server);
    rp.start(
        &format!("/authentication/document/{document}"),
        &login_body(display_text_and_pin("Log in")),
    );
    let output = phone.confirm_next(&[], "9999\n");
    assert!(!output.status.success(), "{}", stdout(&output));
    let deadline = Instant::now() + Duration::from_secs(10);
    while !server.has_exited() {
        assert!(Instant::now() < deadline, "the crash point did not fire");
        std::thread::sleep(Duration::from_millis(50));
    }

    server.restart();
    for certificate in &certificates {
        assert_eq!(
            server.revocation_reason(certificate).as_deref(),
            Some("privilegeWithdrawn")
        );
    }
    let status = phone.account_status(&document);
    assert_eq!(status["state"], "closed", "{status}");
    assert_eq!(status["closedReason"], "PIN permanently locked");
}
