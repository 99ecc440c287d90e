//! End to end: the 3/6/9 PIN policy with the test clock. Three wrong PIN1s lock PIN1 for 3
//! hours, three more for 24 hours, three more for good (the account closes); PIN2 counts
//! separately; a right PIN resets the count.

use serde_json::Value;
use splitid_testkit::*;
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

const PERSON: &str = "PNOEE-30303039914";
const PIN1: &str = "1234";
const PIN2: &str = "12345";
const WRONG_PIN1: &str = "9999";

/// A phone and a relying party on a server whose clock the test moves.
struct Setup {
    server: Server,
    phone: Phone,
    document: String,
    rp: RelyingParty,
    /// How far the server's clock has been moved forward.
    offset: Duration,
}

impl Setup {
    fn new() -> Setup {
        let server = Server::start(&[]);
        let phone = Phone::new();
        let document = phone.register(&server, PERSON, PIN1, PIN2);
        let rp = RelyingParty::new(&server);
        Setup {
            server,
            phone,
            document,
            rp,
            offset: Duration::ZERO,
        }
    }

    fn advance(&mut self, by: Duration) {
        self.server.advance_clock(by.whole_seconds());
        self.offset += by;
    }

    fn login(&self) -> String {
        self.rp.start(
            &format!("/authentication/etsi/{PERSON}"),
            &login_body(display_text_and_pin("Log in to DEMO")),
        )
    }

    fn pin1(&self) -> Value {
        self.phone.account_status(&self.document)["pin1"].clone()
    }

    fn end_result(&self, session: &str) -> Value {
        self.rp.result(session)["result"]["endResult"].clone()
    }

    /// One wrong PIN1 on the waiting login; returns the app's message.
    fn wrong_pin1(&self) -> String {
        let output = self.phone.confirm_next(&[], &format!("{WRONG_PIN1}\n"));
        assert!(!output.status.success(), "{}", stdout(&output));
        stderr(&output)
    }

    /// A login answered with three wrong PIN1s: the last one brings `next_lock` (as the app
    /// announces it: "a 3-hour lock", "a 24-hour lock", "PIN1 is locked for good").
    fn three_wrong_pin1s(&self, next_lock: &str) -> String {
        let session = self.login();
        assert_eq!(
            self.phone.wait_for_transaction(10)["transactionId"],
            session.as_str(),
            "PIN1 is usable, so the login reaches the phone"
        );
        let first = self.wrong_pin1();
        let expected = format!("wrong PIN1: 2 attempts left before {next_lock}");
        assert!(first.contains(&expected), "{first}");
        let second = self.wrong_pin1();
        let expected = format!("wrong PIN1: 1 attempt left before {next_lock}");
        assert!(second.contains(&expected), "{second}");
        let (_, running) = self.rp.status(&session, 1000);
        assert_eq!(running["state"], "RUNNING", "wrong PINs can be retried");
        let third = self.wrong_pin1();
        assert_eq!(self.end_result(&session), "DOCUMENT_UNUSABLE");
        assert!(self.phone.pending().is_empty());
        third
    }

    /// Asserts PIN1 is locked until `lock` after the server's current time (within a minute).
    fn assert_locked_for(&self, lock: Duration) {
        let pin1 = self.pin1();
        assert_eq!(pin1["state"], "locked", "{pin1}");
        let until = OffsetDateTime::parse(pin1["until"].as_str().unwrap(), &Rfc3339).unwrap();
        let server_now = OffsetDateTime::now_utc() + self.offset;
        let left = until - server_now;
        assert!(
            left > lock - Duration::minutes(1) && left <= lock,
            "locked for {left} more, expected {lock}"
        );
    }

    /// While PIN1 is locked, logins complete at once with DOCUMENT_UNUSABLE, by person and by
    /// document, and never reach the phone.
    fn assert_logins_unusable(&self) {
        for path in [
            format!("/authentication/etsi/{PERSON}"),
            format!("/authentication/document/{}", self.document),
        ] {
            let session = self
                .rp
                .start(&path, &login_body(display_text_and_pin("Log in")));
            let (_, result) = self.rp.status(&session, 1000);
            assert_eq!(
                result["result"]["endResult"], "DOCUMENT_UNUSABLE",
                "{result}"
            );
        }
        assert!(self.phone.pending().is_empty());
    }

    /// A signature with PIN2 works.
    fn assert_signing_works(&self) {
        let session = self.rp.start(
            &format!("/signature/document/{}", self.document),
            &login_body(display_text_and_pin("Sign the contract")),
        );
        assert_success(&self.phone.confirm_next(&[], &format!("{PIN2}\n")));
        assert_eq!(self.end_result(&session), "OK");
    }
}

#[test]
fn three_six_nine_wrong_pins_lock_for_three_hours_a_day_and_for_good() {
    let mut setup = Setup::new();

    // 3 wrong: locked for 3 hours.
    let message = setup.three_wrong_pin1s("a 3-hour lock");
    assert!(
        message.contains("wrong PIN1: PIN1 is locked until"),
        "{message}"
    );
    setup.assert_locked_for(Duration::hours(3));
    setup.assert_logins_unusable();
    setup.assert_signing_works();
    let pin2 = setup.phone.account_status(&setup.document)["pin2"].clone();
    assert_eq!(pin2["state"], "usable", "{pin2}");
    assert_eq!(pin2["attemptsBeforeLock"], 3);

    // Almost 3 hours later it is still locked; then usable again, 3 attempts before the next
    // lock.
    setup.advance(Duration::hours(3) - Duration::minutes(2));
    setup.assert_logins_unusable();
    setup.advance(Duration::minutes(3));
    let pin1 = setup.pin1();
    assert_eq!(pin1["state"], "usable", "{pin1}");
    assert_eq!(pin1["attemptsBeforeLock"], 3, "{pin1}");

    // 6 wrong: locked for 24 hours.
    let message = setup.three_wrong_pin1s("a 24-hour lock");
    assert!(message.contains("PIN1 is locked until"), "{message}");
    setup.assert_locked_for(Duration::hours(24));
    setup.assert_logins_unusable();
    setup.advance(Duration::hours(3) + Duration::minutes(1));
    setup.assert_logins_unusable();
    setup.advance(Duration::hours(21));
    assert_eq!(setup.pin1()["state"], "usable");

    // 9 wrong: locked for good, and the account is closed.
    let message = setup.three_wrong_pin1s("PIN1 is locked for good");
    assert!(
        message.contains("locked for good") && message.contains("closed"),
        "{message}"
    );
    let status = setup.phone.account_status(&setup.document);
    assert_eq!(status["state"], "closed", "{status}");
    assert_eq!(status["pin1"]["state"], "permanently_locked", "{status}");
    for purpose in ["authentication", "signing"] {
        let certificate = setup.phone.certificate(&setup.document, purpose);
        assert_eq!(
            setup.server.revocation_reason(&certificate).as_deref(),
            Some("privilegeWithdrawn"),
            "{purpose} certificate of a permanently locked account"
        );
    }
    // The person has no usable account any more: 404 everywhere, nothing reaches the phone.
    setup.advance(Duration::days(30));
    for kind in ["authentication", "signature"] {
        for target in [
            format!("etsi/{PERSON}"),
            format!("document/{}", setup.document),
        ] {
            let (status, answer) = setup.rp.post(
                &format!("/{kind}/{target}"),
                &login_body(display_text_and_pin("Hello")),
            );
            assert_eq!(status, 404, "{kind}/{target}: {answer}");
            assert!(answer["detail"].is_string(), "{answer}");
        }
    }
    for target in [
        format!("etsi/{PERSON}"),
        format!("document/{}", setup.document),
    ] {
        let (status, answer) = setup.rp.post(
            &format!("/certificatechoice/{target}"),
            &certificate_choice_body(),
        );
        assert_eq!(status, 404, "certificatechoice/{target}: {answer}");
    }
    assert!(setup.phone.pending().is_empty());
}

#[test]
fn a_right_pin_resets_the_count() {
    let mut setup = Setup::new();

    // Two wrong, one right, twice over: never locked.
    for _ in 0..2 {
        let session = setup.login();
        setup.wrong_pin1();
        setup.wrong_pin1();
        assert_eq!(setup.pin1()["attemptsBeforeLock"], 1);
        assert_success(&setup.phone.confirm_next(&[], &format!("{PIN1}\n")));
        assert_eq!(setup.end_result(&session), "OK");
        assert_eq!(setup.pin1()["attemptsBeforeLock"], 3);
    }

    // Wrong PIN2s count apart from PIN1.
    let session = setup.rp.start(
        &format!("/signature/etsi/{PERSON}"),
        &login_body(display_text_and_pin("Sign")),
    );
    assert!(!setup.phone.confirm_next(&[], "99999\n").status.success());
    let status = setup.phone.account_status(&setup.document);
    assert_eq!(status["pin2"]["attemptsBeforeLock"], 2, "{status}");
    assert_eq!(status["pin1"]["attemptsBeforeLock"], 3, "{status}");
    assert_success(&setup.phone.confirm_next(&[], &format!("{PIN2}\n")));
    assert_eq!(setup.end_result(&session), "OK");

    // A right PIN after a lock has passed starts the count again: the next lock is again the
    // 3-hour one, not the 24-hour one.
    setup.three_wrong_pin1s("a 3-hour lock");
    setup.assert_locked_for(Duration::hours(3));
    setup.advance(Duration::hours(3) + Duration::minutes(1));
    let session = setup.login();
    assert_success(&setup.phone.confirm_next(&[], &format!("{PIN1}\n")));
    assert_eq!(setup.end_result(&session), "OK");
    setup.three_wrong_pin1s("a 3-hour lock");
    setup.assert_locked_for(Duration::hours(3));
}
