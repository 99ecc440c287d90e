//! A push service for tests: a stand-in on loopback that records what the service posts (and
//! answers as told), and `push_check.py`, the browser's side of Web Push by libraries nobody
//! here wrote (PyPI's http_ece and py_vapid; .ci/run installs them).

use std::collections::VecDeque;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use base64::Engine;
use serde_json::{Value, json};

/// An answer status that means "hang for 30 s instead of answering".
pub const HANG: u16 = 0;

/// What the push service received: one message.
pub struct PushMessage {
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl PushMessage {
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .unwrap_or_else(|| panic!("header {name}"))
            .to_str()
            .unwrap()
    }

    /// Decrypted and its VAPID token verified by push_check.py, with the browser's `keys`
    /// (from [`browser_keys`]): `{message, claims, k, tamperedVerifies}`.
    pub fn open(&self, keys: &Value) -> Value {
        push_check(
            &["open"],
            Some(&json!({
                "privateKey": keys["privateKey"],
                "auth": keys["auth"],
                "body": base64::engine::general_purpose::STANDARD.encode(&self.body),
                "authorization": self.header("authorization"),
            })),
        )
    }
}

/// Answers given once each, before the standing one: (status, `Retry-After` seconds).
type OneShots = Arc<Mutex<VecDeque<(u16, Option<u64>)>>>;

#[derive(Clone)]
struct StandIn {
    answer: Arc<AtomicU16>,
    once: OneShots,
    received: mpsc::Sender<PushMessage>,
}

async fn receive(
    State(stand_in): State<StandIn>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, HeaderMap) {
    let _ = stand_in.received.send(PushMessage { headers, body });
    let once = stand_in.once.lock().unwrap().pop_front();
    let (status, retry_after) =
        once.unwrap_or_else(|| (stand_in.answer.load(Ordering::SeqCst), None));
    let mut headers = HeaderMap::new();
    if let Some(seconds) = retry_after {
        headers.insert("retry-after", seconds.into());
    }
    match status {
        HANG => {
            tokio::time::sleep(Duration::from_secs(30)).await;
            (StatusCode::CREATED, headers)
        }
        status => (StatusCode::from_u16(status).unwrap(), headers),
    }
}

/// The stand-in, on a thread of its own: `POST /push/{id}` is recorded and answered 201 (or
/// what [`answer_with`](Self::answer_with) says).
pub struct PushService {
    pub origin: String,
    answer: Arc<AtomicU16>,
    once: OneShots,
    received: Mutex<mpsc::Receiver<PushMessage>>,
}

impl PushService {
    pub fn start() -> PushService {
        let (sender, receiver) = mpsc::channel();
        let answer = Arc::new(AtomicU16::new(201));
        let once = OneShots::default();
        let stand_in = StandIn {
            answer: answer.clone(),
            once: once.clone(),
            received: sender,
        };
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let origin = format!("http://{}", listener.local_addr().unwrap());
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let app = Router::new()
                    .route("/push/{id}", axum::routing::post(receive))
                    .with_state(stand_in);
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                axum::serve(listener, app).await.unwrap();
            });
        });
        PushService {
            origin,
            answer,
            once,
            received: Mutex::new(receiver),
        }
    }

    /// A subscription endpoint at this push service.
    pub fn endpoint(&self, id: &str) -> String {
        format!("{}/push/{id}", self.origin)
    }

    pub fn answer_with(&self, status: u16) {
        self.answer.store(status, Ordering::SeqCst);
    }

    /// The next message not yet answered gets `status` (with `Retry-After: retry_after`), once;
    /// then the standing answer again.
    pub fn answer_once(&self, status: u16, retry_after: Option<u64>) {
        self.once.lock().unwrap().push_back((status, retry_after));
    }

    /// The next message, waiting up to `limit` (without blocking an async runtime's thread).
    pub async fn next_within(&self, limit: Duration) -> Option<PushMessage> {
        let deadline = Instant::now() + limit;
        loop {
            if let Ok(message) = self.received.lock().unwrap().try_recv() {
                return Some(message);
            }
            if Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The next message, waiting up to 10 s; from a test without an async runtime.
    pub fn next_blocking(&self) -> PushMessage {
        self.received
            .lock()
            .unwrap()
            .recv_timeout(Duration::from_secs(10))
            .expect("the push service was sent a message")
    }
}

/// A browser's subscription keys, made by push_check.py: `{privateKey, p256dh, auth}`.
pub fn browser_keys() -> Value {
    push_check(&["keys"], None)
}

fn push_check(args: &[&str], input: Option<&Value>) -> Value {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/push_check.py");
    let mut child = Command::new("python3")
        .arg(script)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 runs (with http_ece and py_vapid from PyPI: .ci/run installs them)");
    if let Some(input) = input {
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.to_string().as_bytes())
            .unwrap();
    }
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "push_check.py {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}
