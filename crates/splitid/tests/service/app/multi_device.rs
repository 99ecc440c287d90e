//! End to end: a person with two devices. A login by ETSI identifier goes to both; the first
//! answer wins and the other device's view is withdrawn.

use splitid_proto::app_v1::TransactionOutcome;
use splitid_testkit::*;

const PERSON: &str = "PNOEE-30303039914";

#[test]
fn the_first_device_to_confirm_wins() {
    let server = Server::start(&[]);
    let first = Phone::new();
    let second = Phone::new();
    first.register(&server, PERSON, "1234", "12345");
    let second_document = second.register(&server, PERSON, "4321", "54321");
    let rp = RelyingParty::new(&server);

    let session = rp.start(
        &format!("/authentication/etsi/{PERSON}"),
        &login_body(display_text_and_pin("Log in to DEMO")),
    );
    for phone in [&first, &second] {
        assert_eq!(
            phone.wait_for_transaction(10)["transactionId"],
            session.as_str(),
            "both devices see the login"
        );
    }
    // The first device's view of the transaction, as its app holds it on screen.
    let first_app = splitid_app::App::open(first.home.path());
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let on_screen = runtime
        .block_on(first_app.pending(std::time::Duration::ZERO))
        .unwrap()
        .pop()
        .unwrap();

    let confirmed = second.confirm_next(&[], "4321\n");
    assert_success(&confirmed);
    let result = rp.result(&session);
    assert_eq!(result["result"]["endResult"], "OK", "{result}");
    assert_eq!(result["result"]["documentNumber"], second_document.as_str());

    // The first device no longer lists it, and cannot answer it by id.
    assert!(first.pending().is_empty());
    let late = first.run(
        &["confirm", "--transaction", &session, "--wait", "1"],
        "1234\n",
    );
    assert!(!late.status.success());
    let message = stderr(&late);
    assert!(
        message.contains("no longer open") || message.contains("no such pending transaction"),
        "{message}"
    );
    // Answering what was on screen (with the right PIN) reaches the server and is turned
    // away: the transaction is gone, and the result stays the winner's.
    let pin = splitkey::Pin::new("1234").unwrap();
    let answer = runtime
        .block_on(first_app.confirm(&on_screen, Some(&pin), None))
        .unwrap();
    assert_eq!(answer, TransactionOutcome::Gone);
    let refused = runtime
        .block_on(first_app.refuse(&on_screen, None))
        .unwrap();
    assert_eq!(refused, TransactionOutcome::Gone);
    let again = rp.result(&session);
    assert_eq!(again["result"], result["result"]);
    assert_eq!(again["signature"], result["signature"]);

    // Neither device has anything left, and the first one still works.
    assert!(second.pending().is_empty());
    let session = rp.start(
        &format!("/authentication/etsi/{PERSON}"),
        &login_body(display_text_and_pin("Log in again")),
    );
    assert_success(&first.confirm_next(&[], "1234\n"));
    assert_eq!(rp.result(&session)["result"]["endResult"], "OK");
    assert!(second.pending().is_empty());
}

#[test]
fn a_pin_locked_on_one_device_leaves_the_login_to_the_other() {
    let server = Server::start(&[]);
    let first = Phone::new();
    let second = Phone::new();
    first.register(&server, "PNOEE-30303039914", "1234", "12345");
    let winner = second.register(&server, "PNOEE-30303039914", "4321", "54321");
    let rp = RelyingParty::new(&server);
    let hash = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, b"one locks, one answers");
    let session = rp.start(
        "/authentication/etsi/PNOEE-30303039914",
        &signing_body(hash.as_ref(), "SHA256", display_text_and_pin("Log in")),
    );
    for _ in 0..3 {
        assert!(
            !first
                .run(&["confirm", "--next", "--wait", "10"], "9999\n")
                .status
                .success()
        );
    }
    let (_, running) = rp.status(&session, 1000);
    assert_eq!(
        running["state"], "RUNNING",
        "the other device can still answer: {running}"
    );
    assert_success(&second.run(&["confirm", "--next", "--wait", "10"], "4321\n"));
    let result = rp.result(&session);
    assert_eq!(result["result"]["endResult"], "OK");
    assert_eq!(result["result"]["documentNumber"], winner.as_str());
}
