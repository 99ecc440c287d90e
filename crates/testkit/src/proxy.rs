//! A recording proxy between the app and the server, as an attacker's TLS terminator or a
//! logging load balancer would be: it forwards every request, keeps a copy of both bodies and
//! the headers, and on demand drops an answer after the server has committed it (a mobile
//! network that loses the reply) or holds it until the app is killed.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;

/// One request and its answer, as they crossed the proxy (bodies as text: the app API's
/// are JSON).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Exchange {
    pub method: String,
    /// Path and query.
    pub target: String,
    pub request_headers: Vec<(String, String)>,
    pub request_body: String,
    pub status: u16,
    pub response_body: String,
}

impl Exchange {
    /// Sends the recorded request again, byte for byte with its app headers, to `server` (as
    /// an attacker with the recording would): the status and the answer's body.
    pub fn replay_to(&self, server: &str) -> (u16, String) {
        let mut replay = reqwest::blocking::Client::new().request(
            self.method.parse().expect("a recorded method"),
            format!("{server}{}", self.target),
        );
        for (name, value) in &self.request_headers {
            if name.starts_with("x-splitid-") || name == "content-type" {
                replay = replay.header(name, value);
            }
        }
        let answer = replay
            .body(self.request_body.clone())
            .send()
            .expect("the server answers");
        let status = answer.status().as_u16();
        (status, answer.text().unwrap_or_default())
    }
}

/// What the proxy does with the answer to the next request that matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The server's answer is read, then the connection is cut: the app gets no answer.
    DropAnswer,
    /// The server's answer is read and never passed on (until the app gives up or is killed).
    HoldAnswer,
}

struct Rule {
    method: Method,
    path_contains: String,
    fault: Fault,
    remaining: usize,
}

/// Changes the JSON of matching answers (a server that lies, or a man in the middle).
type Rewrite = Box<dyn Fn(&mut serde_json::Value) + Send + Sync>;

#[derive(Default)]
struct Shared {
    exchanges: Vec<Exchange>,
    rules: Vec<Rule>,
    rewrites: Vec<(Method, String, Rewrite)>,
}

#[derive(Clone)]
struct Proxy {
    upstream: String,
    http: reqwest::Client,
    shared: Arc<Mutex<Shared>>,
}

/// A running proxy in front of `upstream`; it stops when dropped.
pub struct RecordingProxy {
    pub url: String,
    shared: Arc<Mutex<Shared>>,
    _runtime: tokio::runtime::Runtime,
}

impl RecordingProxy {
    /// A proxy on a free loopback port in front of `upstream` (e.g. a [`crate::Server`]'s url).
    pub fn start(upstream: &str) -> RecordingProxy {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let shared = Arc::new(Mutex::new(Shared::default()));
        let proxy = Proxy {
            upstream: upstream.trim_end_matches('/').to_owned(),
            http: reqwest::Client::new(),
            shared: shared.clone(),
        };
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let address: SocketAddr = listener.local_addr().unwrap();
        let router = axum::Router::new().fallback(forward).with_state(proxy);
        runtime.spawn(async move { axum::serve(listener, router).await });
        RecordingProxy {
            url: format!("http://{address}"),
            shared,
            _runtime: runtime,
        }
    }

    /// Every exchange so far, in order.
    pub fn exchanges(&self) -> Vec<Exchange> {
        self.shared.lock().unwrap().exchanges.clone()
    }

    /// Applies `fault` to the answers of the next `times` requests with this method whose path
    /// contains `path_contains`.
    pub fn fault(&self, method: &str, path_contains: &str, fault: Fault, times: usize) {
        self.shared.lock().unwrap().rules.push(Rule {
            method: method.parse().unwrap(),
            path_contains: path_contains.to_owned(),
            fault,
            remaining: times,
        });
    }

    /// Passes every answer to a request with this method whose path contains `path_contains`
    /// through `rewrite` (JSON answers only).
    pub fn rewrite(
        &self,
        method: &str,
        path_contains: &str,
        rewrite: impl Fn(&mut serde_json::Value) + Send + Sync + 'static,
    ) {
        self.shared.lock().unwrap().rewrites.push((
            method.parse().unwrap(),
            path_contains.to_owned(),
            Box::new(rewrite),
        ));
    }

    /// How many answers the faults have still to take.
    pub fn faults_left(&self) -> usize {
        let shared = self.shared.lock().unwrap();
        shared.rules.iter().map(|rule| rule.remaining).sum()
    }
}

impl Shared {
    fn take_fault(&mut self, method: &Method, path: &str) -> Option<Fault> {
        let rule = self.rules.iter_mut().find(|rule| {
            rule.remaining > 0 && rule.method == *method && path.contains(&rule.path_contains)
        })?;
        rule.remaining -= 1;
        Some(rule.fault)
    }
}

/// The answer after the matching rewrites.
fn rewritten(shared: &Shared, method: &Method, path: &str, body: Bytes) -> Bytes {
    let matching: Vec<&Rewrite> = shared
        .rewrites
        .iter()
        .filter(|(m, p, _)| m == method && path.contains(p.as_str()))
        .map(|(_, _, rewrite)| rewrite)
        .collect();
    let Ok(mut value) = serde_json::from_slice::<serde_json::Value>(&body) else {
        return body;
    };
    if matching.is_empty() {
        return body;
    }
    for rewrite in matching {
        rewrite(&mut value);
    }
    Bytes::from(serde_json::to_vec(&value).unwrap())
}

async fn forward(
    State(proxy): State<Proxy>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let target = uri
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_default();
    let mut request = proxy
        .http
        .request(method.clone(), format!("{}{target}", proxy.upstream))
        .body(body.to_vec());
    for (name, value) in &headers {
        if name != "host" && name != "content-length" {
            request = request.header(name, value);
        }
    }
    let (status, response_headers, response_body) = match request.send().await {
        Ok(answer) => {
            let status = answer.status();
            let headers = answer.headers().clone();
            let body = answer.bytes().await.unwrap_or_default();
            (status, headers, body)
        }
        Err(_) => (StatusCode::BAD_GATEWAY, HeaderMap::new(), Bytes::new()),
    };
    let (fault, response_body) = {
        let mut shared = proxy.shared.lock().unwrap();
        let response_body = rewritten(&shared, &method, uri.path(), response_body);
        shared.exchanges.push(Exchange {
            method: method.to_string(),
            target,
            request_headers: headers
                .iter()
                .map(|(n, v)| (n.to_string(), String::from_utf8_lossy(v.as_bytes()).into()))
                .collect(),
            request_body: String::from_utf8_lossy(&body).into_owned(),
            status: status.as_u16(),
            response_body: String::from_utf8_lossy(&response_body).into_owned(),
        });
        (shared.take_fault(&method, uri.path()), response_body)
    };
    match fault {
        // A body that fails at once: hyper cuts the connection mid-answer.
        Some(Fault::DropAnswer) => {
            let failing = futures_util::stream::once(async {
                Err::<Bytes, std::io::Error>(std::io::Error::other("answer dropped by the proxy"))
            });
            Response::builder()
                .status(status)
                .body(Body::from_stream(failing))
                .unwrap()
        }
        Some(Fault::HoldAnswer) => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            Response::new(Body::empty())
        }
        None => {
            let mut response = Response::builder().status(status);
            for (name, value) in &response_headers {
                if name != "content-length" && name != "transfer-encoding" {
                    response = response.header(name, value);
                }
            }
            response.body(Body::from(response_body)).unwrap()
        }
    }
}
