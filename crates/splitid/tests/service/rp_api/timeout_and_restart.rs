//! End to end: a session nobody answers times out (docs/spec/rp-api.md §1.6 TIMEOUT), and a server
//! restart in the middle of a session loses nothing.

use std::time::{Duration, Instant};

use splitid_testkit::*;

const PERSON: &str = "PNOEE-30303039914";

#[test]
fn an_unanswered_session_times_out() {
    let server = Server::start(&["--session-timeout", "2"]);
    let phone = Phone::new();
    phone.register(&server, PERSON, "1234", "12345");
    let rp = RelyingParty::new(&server);

    let started = Instant::now();
    let session = rp.start(
        &format!("/authentication/etsi/{PERSON}"),
        &login_body(display_text_and_pin("Log in to DEMO")),
    );
    assert_eq!(
        phone.wait_for_transaction(5)["transactionId"],
        session.as_str()
    );
    // One long poll, longer than the timeout: it must come back COMPLETE at the deadline.
    let (status, result) = rp.status(&session, 10_000);
    assert_eq!(status, 200);
    assert_eq!(result["state"], "COMPLETE", "{result}");
    assert_eq!(result["result"]["endResult"], "TIMEOUT", "{result}");
    assert!(result.get("signature").is_none());
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(1500) && waited < Duration::from_secs(8),
        "timed out after {waited:?}"
    );
    assert!(phone.pending().is_empty());
    let late = phone.run(&["confirm", "--transaction", &session], "1234\n");
    assert!(!late.status.success());
}

#[test]
fn sessions_time_out_even_if_nobody_polls() {
    let server = Server::start(&["--session-timeout", "2"]);
    let phone = Phone::new();
    phone.register(&server, PERSON, "1234", "12345");
    let rp = RelyingParty::new(&server);
    let before = server.usage_counts();

    let session = rp.start(
        &format!("/signature/etsi/{PERSON}"),
        &login_body(display_text_and_pin("Sign it")),
    );
    std::thread::sleep(Duration::from_secs(4));
    // The housekeeping completed (and counted) it without any poll.
    let after = server.usage_counts();
    assert!(
        after.contains(&("signature".into(), "TIMEOUT".into(), 1)),
        "{before:?} -> {after:?}"
    );
    assert!(phone.pending().is_empty());
    assert_eq!(rp.result(&session)["result"]["endResult"], "TIMEOUT");
}

#[test]
fn a_restart_in_the_middle_of_a_session_loses_nothing() {
    let mut server = Server::start(&[]);
    let phone = Phone::new();
    let document = phone.register(&server, PERSON, "1234", "12345");
    let rp = RelyingParty::new(&server);

    let session = rp.start(
        &format!("/authentication/etsi/{PERSON}"),
        &login_body(display_text_and_pin("Log in to DEMO")),
    );
    assert_eq!(
        phone.wait_for_transaction(5)["transactionId"],
        session.as_str()
    );
    server.restart();

    let (status, running) = rp.status(&session, 1000);
    assert_eq!((status, running["state"].as_str()), (200, Some("RUNNING")));
    let confirmed = phone.confirm_next(&[], "1234\n");
    assert_success(&confirmed);
    let result = rp.result(&session);
    assert_eq!(result["result"]["endResult"], "OK", "{result}");
    assert_eq!(result["result"]["documentNumber"], document.as_str());
    assert!(result["signature"]["value"].is_string());

    // Restarted again after completion, the result is still readable.
    server.restart();
    let (status, again) = rp.status(&session, 1000);
    assert_eq!(status, 200);
    assert_eq!(again["result"], result["result"]);
    assert_eq!(again["signature"], result["signature"]);
}
