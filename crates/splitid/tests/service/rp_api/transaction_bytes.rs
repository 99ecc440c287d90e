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
    let body = signing_body(hash.as_ref(), "SHA512", display_text_and_pin("Measure me"));
    measure_body(proxy, rp, phone, path, &body, pin)
}

/// An RP API v3 notification login's body (ACSP_V2, RSASSA-PSS over SHA-512).
fn v3_login_body() -> serde_json::Value {
    let sent = super::v3_notification::interactions(
        serde_json::json!([{"type": "displayTextAndPIN", "displayText60": "Measure me"}]),
    );
    super::v3_notification::authentication_body(
        &super::v3_notification::random_challenge(),
        "SHA-512",
        &sent,
    )
}

/// [`measure`] with the relying party's own body.
fn measure_body(
    proxy: &CountingProxy,
    rp: &RelyingParty,
    phone: &Phone,
    path: &str,
    body: &serde_json::Value,
    pin: &str,
) -> (usize, usize, Duration) {
    let session = rp.start(path, body);
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

    // RP API v3's login (ACSP_V2, PSS): the phone gets the payload's parts instead of a hash
    // and sends its encoding and userChallenge back.
    let rp3 = super::v3_notification::v3(&server);
    let login_path = "/authentication/notification/etsi/PNOEE-30303039914";
    let (v3_up, v3_down, v3_latency) =
        measure_body(&proxy, &rp3, &phone, login_path, &v3_login_body(), "1234");
    eprintln!(
        "v3 login (6144-bit key): {v3_up} B app→server + {v3_down} B server→app = {} B; confirmation→answer {v3_latency:?}",
        v3_up + v3_down
    );
    assert!(v3_up + v3_down < 5_000 && v3_latency < Duration::from_secs(2));

    // The server's CPU per login, v2 beside v3, in the same run.
    const LOGINS: u32 = 8;
    let cpu_per_login = |rp: &RelyingParty, path: &str, body: &dyn Fn() -> serde_json::Value| {
        let before = server.cpu_time();
        for _ in 0..LOGINS {
            measure_body(&proxy, rp, &phone, path, &body(), "1234");
        }
        (server.cpu_time() - before) / LOGINS
    };
    let v2_cpu = cpu_per_login(&rp, "/authentication/etsi/PNOEE-30303039914", &|| {
        signing_body(
            &fresh_hash("cpu"),
            "SHA512",
            display_text_and_pin("Measure me"),
        )
    });
    let v3_cpu = cpu_per_login(&rp3, login_path, &v3_login_body);
    eprintln!("server CPU per login (6144-bit key, {LOGINS} each): v2 {v2_cpu:?}, v3 {v3_cpu:?}");
    assert!(
        v3_cpu < v2_cpu * 2 + Duration::from_millis(10),
        "a v3 login costs the server {v3_cpu:?} against v2's {v2_cpu:?}"
    );
}
