//! Several `splitid serve` nodes on one PostgreSQL database, as behind a load balancer: a
//! session started on one node, confirmed by the app through another, is answered on a third
//! the moment it completes (the nodes wake each other through the database's NOTIFY, with no
//! polling loop), the app's long poll hears of a transaction on whichever node it waits, and
//! killing a node loses nothing.

use std::time::{Duration, Instant};

use serde_json::Value;
use splitid_testkit::*;

const WAIT_SECONDS: u64 = 20;

/// Far less than any long poll's own timeout: an answer this quick was woken, not timed out.
const PROMPTLY: Duration = Duration::from_secs(3);

fn login(rp: &RelyingParty) -> String {
    rp.start(
        "/authentication/etsi/PNOEE-30303039914",
        &login_body(display_text_and_pin("Log in to DEMO")),
    )
}

/// Long-polls a session's status in the background; the answer and when it came.
fn poll_in_background(
    node: &Server,
    session: &str,
) -> std::thread::JoinHandle<((u16, Value), Instant)> {
    let rp = RelyingParty::new(node);
    let session = session.to_owned();
    std::thread::spawn(move || {
        let answer = rp.status(&session, WAIT_SECONDS * 1000);
        (answer, Instant::now())
    })
}

#[test]
fn started_on_a_confirmed_through_b_answered_on_c_at_once() {
    let cluster = Cluster::start(3, &[]);
    let [a, b, c] = &cluster.nodes[..] else {
        unreachable!()
    };
    let phone = Phone::new();
    let document = phone.register(b, "PNOEE-30303039914", "1234", "12345");

    // The app waits on node C; the transaction starts on node A.
    phone.use_server(c);
    let check = phone.spawn(
        &["--json", "check", "--wait", &WAIT_SECONDS.to_string()],
        "",
    );
    std::thread::sleep(Duration::from_millis(500));
    let session = login(&RelyingParty::new(a));
    let started = Instant::now();
    let waiting = check.join().unwrap();
    assert_success(&waiting);
    let seen: Value = serde_json::from_slice(&waiting.stdout).unwrap();
    assert_eq!(seen[0]["documentNumber"], document, "{seen}");
    assert!(
        started.elapsed() < PROMPTLY,
        "the app on node C heard of the transaction after {:?}",
        started.elapsed()
    );

    // The relying party long-polls on node C; the app confirms through node B.
    let poll = poll_in_background(c, &session);
    std::thread::sleep(Duration::from_millis(500));
    phone.use_server(b);
    assert_success(&phone.confirm_next(&[], "1234\n"));
    let confirmed = Instant::now();
    let ((status, answer), answered) = poll.join().unwrap();
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["state"], "COMPLETE", "{answer}");
    assert_eq!(answer["result"]["endResult"], "OK", "{answer}");
    assert!(
        answered.duration_since(confirmed) < PROMPTLY,
        "node C answered {:?} after the confirmation",
        answered.duration_since(confirmed)
    );

    // Every node gives the same answer, counted once.
    for node in [a, b] {
        assert_eq!(
            RelyingParty::new(node).result(&session)["result"],
            answer["result"]
        );
    }
    assert_eq!(
        a.usage_counts(),
        vec![("authentication".to_owned(), "OK".to_owned(), 1)]
    );
}

#[test]
fn killing_a_node_loses_nothing_and_the_others_carry_on() {
    let mut cluster = Cluster::start(3, &[]);
    let phone = Phone::new();
    phone.register(&cluster.nodes[0], "PNOEE-30303039914", "1234", "12345");

    // A session started on node 1, which then dies (as a crash would).
    let session = login(&RelyingParty::new(&cluster.nodes[1]));
    cluster.nodes[1].stop();

    // The app and the relying party, sent to the surviving nodes, finish it.
    let poll = poll_in_background(&cluster.nodes[0], &session);
    phone.use_server(&cluster.nodes[2]);
    assert_success(&phone.confirm_next(&[], "1234\n"));
    let ((status, answer), _) = poll.join().unwrap();
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["result"]["endResult"], "OK", "{answer}");

    // And the next login runs on the survivors alone.
    let rp = RelyingParty::new(&cluster.nodes[2]);
    let next = login(&rp);
    assert_success(&phone.confirm_next(&[], "1234\n"));
    assert_eq!(rp.result(&next)["result"]["endResult"], "OK");
}

/// The portal's browser session lives in the database: a form served by one node is accepted
/// by another, and the login it starts is followed on a third.
#[test]
fn a_browser_session_moves_between_nodes() {
    let cluster = Cluster::start(3, &[]);
    let phone = Phone::new();
    phone.register(&cluster.nodes[0], "PNOEE-30303039914", "1234", "12345");
    let browser = ::reqwest::blocking::Client::builder()
        .redirect(::reqwest::redirect::Policy::none())
        .build()
        .unwrap();

    let page = browser
        .get(format!("{}/portal", cluster.nodes[0].url))
        .send()
        .unwrap();
    let cookie = page.headers()["set-cookie"].to_str().unwrap().to_owned();
    let cookie = cookie.split(';').next().unwrap().to_owned();
    let html = page.text().unwrap();
    let csrf = html
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the login form carries a CSRF token")
        .to_owned();

    let login = browser
        .post(format!("{}/portal/login", cluster.nodes[1].url))
        .header("cookie", &cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("csrf={csrf}&country=EE&code=30303039914"))
        .send()
        .unwrap();
    assert_eq!(login.status().as_u16(), 303, "{}", login.text().unwrap());
    assert_eq!(login.headers()["location"], "/portal/wait");

    let waiting = browser
        .get(format!("{}/portal/wait", cluster.nodes[2].url))
        .header("cookie", &cookie)
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(waiting.contains("Check your phone"), "{waiting}");
}

/// A node whose data directory holds a CA of its own (not a copy of the first node's) must
/// not issue certificates on the shared database: it refuses to start.
#[test]
fn a_node_with_another_ca_refuses_to_join() {
    let cluster = Cluster::start(1, &[]);
    let stranger = tempfile::tempdir().unwrap();
    let output = std::process::Command::new(splitid_binary())
        .args(["serve", "--demo", "--listen", "127.0.0.1:0", "--data"])
        .arg(stranger.path())
        .args([
            "--database",
            cluster.nodes[0].database.as_ref().unwrap().url(),
        ])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("not the CA this database belongs to"),
        "{}",
        stderr(&output)
    );
}
