//! Measures, through a byte-counting TCP proxy between the app and the server, how many bytes
//! a login and a signature exchange (HTTP headers included), and how long the relying party's
//! long poll takes to return after the app's confirmation reaches the server. Figures are
//! printed (run with --nocapture) and recorded in docs/performance.md; the test fails if a
//! transaction grows past 4 KB (Smart-ID quotes about 5 KB) or the answer is slow.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use splitid_testkit::*;

/// Forwards connections to `target`, counting bytes each way and noting when a confirmation
/// passes towards the server.
pub(crate) struct CountingProxy {
    pub(crate) url: String,
    to_server: Arc<AtomicUsize>,
    to_app: Arc<AtomicUsize>,
    confirm_seen: Arc<Mutex<Option<Instant>>>,
}

impl CountingProxy {
    pub(crate) fn start(target: &str) -> CountingProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let proxy = CountingProxy {
            url,
            to_server: Arc::default(),
            to_app: Arc::default(),
            confirm_seen: Arc::default(),
        };
        let (up, down, seen) = (
            proxy.to_server.clone(),
            proxy.to_app.clone(),
            proxy.confirm_seen.clone(),
        );
        // Bytes on the TCP connection, whatever runs over it (HTTP, or TLS as it is).
        let target = target
            .trim_start_matches("http://")
            .trim_start_matches("https://")
            .to_owned();
        std::thread::spawn(move || {
            for app in listener.incoming().flatten() {
                let server = TcpStream::connect(&target).unwrap();
                pump(
                    app.try_clone().unwrap(),
                    server.try_clone().unwrap(),
                    up.clone(),
                    Some(seen.clone()),
                );
                pump(server, app, down.clone(), None);
            }
        });
        proxy
    }

    pub(crate) fn reset(&self) {
        self.to_server.store(0, Ordering::SeqCst);
        self.to_app.store(0, Ordering::SeqCst);
        *self.confirm_seen.lock().unwrap() = None;
    }

    /// Bytes (app → server, server → app) since the start or the last reset.
    pub(crate) fn total(&self) -> (usize, usize) {
        (
            self.to_server.load(Ordering::SeqCst),
            self.to_app.load(Ordering::SeqCst),
        )
    }
}

fn pump(
    mut from: TcpStream,
    mut to: TcpStream,
    counter: Arc<AtomicUsize>,
    confirm_seen: Option<Arc<Mutex<Option<Instant>>>>,
) {
    std::thread::spawn(move || {
        let mut buffer = [0u8; 16 * 1024];
        while let Ok(n) = from.read(&mut buffer) {
            if n == 0 || to.write_all(&buffer[..n]).is_err() {
                break;
            }
            counter.fetch_add(n, Ordering::SeqCst);
            if let Some(seen) = &confirm_seen {
                let chunk = String::from_utf8_lossy(&buffer[..n]);
                if chunk.starts_with("POST ")
                    && chunk
                        .lines()
                        .next()
                        .is_some_and(|l| l.contains("/confirm "))
                {
                    seen.lock().unwrap().get_or_insert_with(Instant::now);
                }
            }
        }
        let _ = to.shutdown(std::net::Shutdown::Write);
    });
}

/// One transaction: the relying party starts it and long-polls; the phone confirms through
/// the proxy. Returns (bytes app→server, bytes server→app, confirmation-to-answer time).
fn measure(
    proxy: &CountingProxy,
    rp: &RelyingParty,
    phone: &Phone,
    path: &str,
    pin: &str,
) -> (usize, usize, Duration) {
    let hash = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA512, path.as_bytes());
    let session = rp.start(
        path,
        &signing_body(hash.as_ref(), "SHA512", display_text_and_pin("Measure me")),
    );
    let poller = {
        let url = format!("{}/session/{session}?timeoutMs=60000", rp.base);
        std::thread::spawn(move || {
            let response = reqwest::blocking::Client::new()
                .get(url)
                .timeout(Duration::from_secs(70))
                .send()
                .unwrap();
            let answered = Instant::now();
            (answered, response.json::<serde_json::Value>().unwrap())
        })
    };
    std::thread::sleep(Duration::from_millis(300));
    proxy.reset();
    assert_success(&phone.run(&["confirm", "--next", "--wait", "10"], &format!("{pin}\n")));
    let (answered, answer) = poller.join().unwrap();
    assert_eq!(answer["result"]["endResult"], "OK", "{answer}");
    let confirmed = proxy
        .confirm_seen
        .lock()
        .unwrap()
        .expect("the confirmation passed the proxy");
    let (up, down) = proxy.total();
    (up, down, answered.saturating_duration_since(confirmed))
}

#[test]
fn bytes_per_transaction_and_confirmation_to_answer_time() {
    let server = Server::start(&[]);
    let proxy = CountingProxy::start(&server.url);
    let phone = Phone::new();
    let output = phone.run(
        &[
            "--json",
            "register",
            "--server",
            &proxy.url,
            "--identity",
            "PNOEE-30303039914",
            "--given-name",
            "MARY",
            "--surname",
            "ÄNN",
            "--half-bits",
            "3072",
        ],
        "1234\n12345\n",
    );
    assert_success(&output);
    let document: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let document = document["documentNumber"].as_str().unwrap().to_owned();
    let rp = RelyingParty::new(&server);

    let (login_up, login_down, login_latency) = measure(
        &proxy,
        &rp,
        &phone,
        "/authentication/etsi/PNOEE-30303039914",
        "1234",
    );
    let (sign_up, sign_down, sign_latency) = measure(
        &proxy,
        &rp,
        &phone,
        &format!("/signature/document/{document}"),
        "12345",
    );
    eprintln!(
        "login (6144-bit key): {login_up} B app→server + {login_down} B server→app = {} B; confirmation→answer {login_latency:?}",
        login_up + login_down
    );
    eprintln!(
        "signature (6144-bit key): {sign_up} B app→server + {sign_down} B server→app = {} B; confirmation→answer {sign_latency:?}",
        sign_up + sign_down
    );

    assert!(
        login_up + login_down < 5_000,
        "a login exchanged {} bytes",
        login_up + login_down
    );
    assert!(
        sign_up + sign_down < 5_000,
        "a signature exchanged {} bytes",
        sign_up + sign_down
    );
    assert!(login_latency < Duration::from_secs(2) && sign_latency < Duration::from_secs(2));
}
