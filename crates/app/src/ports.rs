//! What the device core needs from the device it runs on, as four small traits: where the
//! vault is kept ([`Storage`]), how requests reach the server ([`Transport`]), what time it is
//! ([`Clock`]) and where randomness comes from ([`Random`]). The flows ([`crate::App`]) use
//! nothing else of the platform, so a browser build adds its own implementations without
//! touching them.
//!
//! The desktop's implementations are here too: [`FileVault`] (`vault.json`, see
//! [`crate::vault`]), [`HttpTransport`] (reqwest), [`SystemClock`] and [`OsRandom`]. The
//! in-memory ones the flows' tests use are [`MemoryVault`] and [`FixedClock`].
//!
//! Storage is synchronous: the vault is one small document, read and replaced whole while a
//! flow holds its lock, and a browser can keep it in synchronous storage too. The flows still
//! run on tokio (key generation and partial signatures go to its blocking pool), and the
//! split-key arithmetic is AWS-LC's: both are for the browser build to replace (issue 15).

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use futures_util::Stream;

use crate::AppError;
use crate::vault::Vault;

/// Where the device keeps its vault.
pub trait Storage: Send + Sync + 'static {
    /// Held while a flow reads, changes and writes the vault: above all a ratcheted request,
    /// whose token must move on exactly once, so that two apps on one store never race (a
    /// race would look to the server like a cloned app).
    type Lock;

    /// Takes the store's exclusive lock, released when the value is dropped: waiting for it
    /// (the vault file), or refusing with an error where the store cannot wait.
    fn lock(&self) -> Result<Self::Lock, AppError>;
    /// The vault as last saved (an empty one before the first save).
    fn load(&self) -> Result<Vault, AppError>;
    /// Replaces the vault, atomically and durably: a crash leaves the old or the new one.
    fn save(&self, vault: &Vault) -> Result<(), AppError>;
}

/// The HTTP methods the app API uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Delete,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Delete => "DELETE",
        }
    }
}

/// A request as the channel makes it: everything is already in place (MAC, headers, body).
#[derive(Debug, Clone)]
pub struct Request {
    pub method: Method,
    pub url: String,
    pub headers: Vec<(String, String)>,
    /// Sent with `Content-Type: application/json` when not empty.
    pub body: Vec<u8>,
}

/// An answer: its status and its whole body.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub body: Vec<u8>,
}

/// The chunks of a streamed answer's body, as they arrive.
pub type BodyStream = Pin<Box<dyn Stream<Item = Result<Vec<u8>, AppError>> + Send>>;

/// A streamed answer (server-sent events): its status, and its body as it arrives.
pub struct StreamedResponse {
    pub status: u16,
    pub body: BodyStream,
}

/// How requests reach the server. A transport reports a request that got no answer as
/// [`AppError::Network`]; any answer, whatever its status, is a `Response`.
pub trait Transport: Clone + Send + Sync + 'static {
    fn send(&self, request: Request) -> impl Future<Output = Result<Response, AppError>> + Send;
    /// Like [`send`](Self::send), handing over the body as it arrives.
    fn stream(
        &self,
        request: Request,
    ) -> impl Future<Output = Result<StreamedResponse, AppError>> + Send;
}

/// What time it is, as the server's clock sees it (the freshness of a request).
pub trait Clock: Send + Sync + 'static {
    /// Seconds since 1970-01-01 UTC.
    fn unix_seconds(&self) -> u64;
}

/// Unpredictable bytes (nonces, key identifiers).
pub trait Random: Send + Sync + 'static {
    fn fill(&self, bytes: &mut [u8]) -> Result<(), AppError>;
}

/// The vault as `vault.json` in a home directory.
pub use crate::vault::VaultFile as FileVault;

impl Storage for FileVault {
    type Lock = std::fs::File;

    fn lock(&self) -> Result<Self::Lock, AppError> {
        FileVault::lock(self)
    }

    fn load(&self) -> Result<Vault, AppError> {
        FileVault::load(self)
    }

    fn save(&self, vault: &Vault) -> Result<(), AppError> {
        FileVault::save(self, vault)
    }
}

/// A vault in memory, shared by its clones (two "apps" on one store). Nothing is durable, and
/// its lock refuses at once rather than wait while another flow holds it.
#[derive(Debug, Clone, Default)]
pub struct MemoryVault {
    vault: Arc<Mutex<Vault>>,
    lock: Arc<tokio::sync::Mutex<()>>,
}

impl Storage for MemoryVault {
    type Lock = tokio::sync::OwnedMutexGuard<()>;

    fn lock(&self) -> Result<Self::Lock, AppError> {
        self.lock
            .clone()
            .try_lock_owned()
            .map_err(|_| AppError::Vault("the vault is in use by another flow".into()))
    }

    fn load(&self) -> Result<Vault, AppError> {
        Ok(self.vault.lock().unwrap_or_else(|e| e.into_inner()).clone())
    }

    fn save(&self, vault: &Vault) -> Result<(), AppError> {
        *self.vault.lock().unwrap_or_else(|e| e.into_inner()) = vault.clone();
        Ok(())
    }
}

/// HTTP with reqwest (on tokio).
#[derive(Debug, Clone, Default)]
pub struct HttpTransport {
    http: reqwest::Client,
}

impl HttpTransport {
    /// HTTP that also trusts the CA certificates in `pem` (a private CA of the operator's, or
    /// a test's), beside the system's.
    pub fn trusting(pem: &[u8]) -> Result<Self, AppError> {
        let certificates = reqwest::Certificate::from_pem_bundle(pem)
            .map_err(|e| AppError::Usage(format!("the extra CA certificates: {e}")))?;
        let mut builder = reqwest::Client::builder();
        for certificate in certificates {
            builder = builder.add_root_certificate(certificate);
        }
        let http = builder
            .build()
            .map_err(|e| AppError::Usage(format!("the extra CA certificates: {e}")))?;
        Ok(HttpTransport { http })
    }

    /// The reqwest request; one that cannot be built (a header value that is not one) is the
    /// app's fault, not the network's.
    fn request(&self, request: Request) -> Result<reqwest::Request, AppError> {
        let method = match request.method {
            Method::Get => reqwest::Method::GET,
            Method::Post => reqwest::Method::POST,
            Method::Delete => reqwest::Method::DELETE,
        };
        let mut builder = self.http.request(method, request.url);
        for (name, value) in request.headers {
            builder = builder.header(name, value);
        }
        if !request.body.is_empty() {
            builder = builder
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(request.body);
        }
        builder
            .build()
            .map_err(|e| AppError::Protocol(e.to_string()))
    }
}

impl HttpTransport {
    /// Sends the request; its answer's status and headers have arrived.
    async fn execute(&self, request: Request) -> Result<reqwest::Response, AppError> {
        let request = self.request(request)?;
        self.http.execute(request).await.map_err(network)
    }
}

fn network(error: reqwest::Error) -> AppError {
    AppError::Network(error.to_string())
}

impl Transport for HttpTransport {
    async fn send(&self, request: Request) -> Result<Response, AppError> {
        let response = self.execute(request).await?;
        let status = response.status().as_u16();
        let body = response.bytes().await.map_err(network)?.to_vec();
        Ok(Response { status, body })
    }

    async fn stream(&self, request: Request) -> Result<StreamedResponse, AppError> {
        let response = self.execute(request).await?;
        let status = response.status().as_u16();
        let body = futures_util::stream::unfold(response, |mut response| async move {
            match response.chunk().await {
                Ok(Some(chunk)) => Some((Ok(chunk.to_vec()), response)),
                Ok(None) => None,
                Err(error) => Some((Err(network(error)), response)),
            }
        });
        Ok(StreamedResponse {
            status,
            body: Box::pin(body),
        })
    }
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn unix_seconds(&self) -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs()
    }
}

/// A clock that says what it is told.
#[derive(Debug, Clone, Default)]
pub struct FixedClock(Arc<std::sync::atomic::AtomicU64>);

impl FixedClock {
    pub fn at(unix_seconds: u64) -> Self {
        FixedClock(Arc::new(unix_seconds.into()))
    }

    pub fn set(&self, unix_seconds: u64) {
        self.0
            .store(unix_seconds, std::sync::atomic::Ordering::Relaxed);
    }
}

impl Clock for FixedClock {
    fn unix_seconds(&self) -> u64 {
        self.0.load(std::sync::atomic::Ordering::Relaxed)
    }
}

/// The operating system's randomness.
#[derive(Debug, Clone, Copy, Default)]
pub struct OsRandom;

impl Random for OsRandom {
    fn fill(&self, bytes: &mut [u8]) -> Result<(), AppError> {
        getrandom::fill(bytes).map_err(|_| AppError::Protocol("random generator failed".into()))
    }
}
