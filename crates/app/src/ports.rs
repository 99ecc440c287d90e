//! What the device core needs from the device it runs on, as four small traits: where the
//! vault is kept ([`Storage`]), how requests reach the server ([`Transport`]), what time it is
//! and how to wait ([`Clock`]) and where randomness comes from ([`Random`]). The flows
//! ([`crate::App`]) use nothing else of the platform, so the browser build (WebAssembly, in
//! `crates/web-app`) brings its own implementations without touching them.
//!
//! The desktop's implementations are in [`crate::desktop`] (feature `desktop`, the default):
//! `FileVault` (`vault.json`), `HttpTransport` (reqwest on tokio) and `SystemClock`. Here are
//! the ones every platform has or the flows' tests use: [`OsRandom`], [`MemoryVault`] and
//! [`FixedClock`].
//!
//! Every port is asynchronous where a browser's is (IndexedDB, `fetch`, timers), and nothing
//! needs `Send` in WebAssembly, where everything runs on one thread ([`MaybeSend`]).

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::Stream;

use crate::AppError;
use crate::vault::Vault;

/// `Send` on platforms with threads; nothing in WebAssembly, whose values (JavaScript
/// promises above all) never leave their thread.
#[cfg(not(target_arch = "wasm32"))]
pub trait MaybeSend: Send {}
#[cfg(not(target_arch = "wasm32"))]
impl<T: Send + ?Sized> MaybeSend for T {}
#[cfg(target_arch = "wasm32")]
pub trait MaybeSend {}
#[cfg(target_arch = "wasm32")]
impl<T: ?Sized> MaybeSend for T {}

/// `Sync` on platforms with threads; nothing in WebAssembly.
#[cfg(not(target_arch = "wasm32"))]
pub trait MaybeSync: Sync {}
#[cfg(not(target_arch = "wasm32"))]
impl<T: Sync + ?Sized> MaybeSync for T {}
#[cfg(target_arch = "wasm32")]
pub trait MaybeSync {}
#[cfg(target_arch = "wasm32")]
impl<T: ?Sized> MaybeSync for T {}

/// Where the device keeps its vault.
pub trait Storage: MaybeSend + MaybeSync + 'static {
    /// Held while a flow reads, changes and writes the vault: above all a ratcheted request,
    /// whose token must move on exactly once, so that two apps on one store never race (a
    /// race would look to the server like a cloned app).
    type Lock;

    /// Takes the store's exclusive lock, released when the value is dropped: waiting for it
    /// (the vault file, the browser's Web Locks), or refusing with an error where the store
    /// cannot wait.
    fn lock(&self) -> impl Future<Output = Result<Self::Lock, AppError>> + MaybeSend;
    /// The vault as last saved (an empty one before the first save).
    fn load(&self) -> impl Future<Output = Result<Vault, AppError>> + MaybeSend;
    /// Replaces the vault, atomically and durably: a crash leaves the old or the new one,
    /// and the new one is kept before the future completes.
    fn save(&self, vault: &Vault) -> impl Future<Output = Result<(), AppError>> + MaybeSend;
}

/// The HTTP methods the app API uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Put,
    Delete,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
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
#[cfg(not(target_arch = "wasm32"))]
pub type BodyStream = Pin<Box<dyn Stream<Item = Result<Vec<u8>, AppError>> + Send>>;
/// The chunks of a streamed answer's body, as they arrive.
#[cfg(target_arch = "wasm32")]
pub type BodyStream = Pin<Box<dyn Stream<Item = Result<Vec<u8>, AppError>>>>;

/// A streamed answer (server-sent events): its status, and its body as it arrives.
pub struct StreamedResponse {
    pub status: u16,
    pub body: BodyStream,
}

/// How requests reach the server. A transport reports a request that got no answer as
/// [`AppError::Network`]; any answer, whatever its status, is a `Response`.
pub trait Transport: Clone + MaybeSend + MaybeSync + 'static {
    fn send(
        &self,
        request: Request,
    ) -> impl Future<Output = Result<Response, AppError>> + MaybeSend;
    /// Like [`send`](Self::send), handing over the body as it arrives.
    fn stream(
        &self,
        request: Request,
    ) -> impl Future<Output = Result<StreamedResponse, AppError>> + MaybeSend;
}

/// What time it is, as the server's clock sees it (the freshness of a request), and how to
/// wait a moment (before a request is sent again).
pub trait Clock: MaybeSend + MaybeSync + 'static {
    /// Seconds since 1970-01-01 UTC.
    fn unix_seconds(&self) -> u64;
    /// Completes after `duration`.
    fn pause(&self, duration: Duration) -> impl Future<Output = ()> + MaybeSend;
}

/// Unpredictable bytes (nonces, key identifiers).
pub trait Random: MaybeSend + MaybeSync + 'static {
    fn fill(&self, bytes: &mut [u8]) -> Result<(), AppError>;
}

/// A vault in memory, shared by its clones (two "apps" on one store). Nothing is durable, and
/// its lock refuses at once rather than wait while another flow holds it.
#[derive(Debug, Clone, Default)]
pub struct MemoryVault {
    vault: Arc<Mutex<Vault>>,
    held: Arc<AtomicBool>,
}

/// The [`MemoryVault`]'s lock: released when dropped.
#[derive(Debug)]
pub struct MemoryLock(Arc<AtomicBool>);

impl Drop for MemoryLock {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

impl Storage for MemoryVault {
    type Lock = MemoryLock;

    async fn lock(&self) -> Result<Self::Lock, AppError> {
        self.held
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .map(|_| MemoryLock(self.held.clone()))
            .map_err(|_| AppError::Vault("the vault is in use by another flow".into()))
    }

    async fn load(&self) -> Result<Vault, AppError> {
        Ok(self.vault.lock().unwrap_or_else(|e| e.into_inner()).clone())
    }

    async fn save(&self, vault: &Vault) -> Result<(), AppError> {
        *self.vault.lock().unwrap_or_else(|e| e.into_inner()) = vault.clone();
        Ok(())
    }
}

/// A clock that says what it is told, and whose pauses end at once (tests wait for nobody).
#[derive(Debug, Clone, Default)]
pub struct FixedClock(Arc<AtomicU64>);

impl FixedClock {
    pub fn at(unix_seconds: u64) -> Self {
        FixedClock(Arc::new(unix_seconds.into()))
    }

    pub fn set(&self, unix_seconds: u64) {
        self.0.store(unix_seconds, Ordering::Relaxed);
    }
}

impl Clock for FixedClock {
    fn unix_seconds(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }

    async fn pause(&self, _duration: Duration) {}
}

/// The operating system's randomness.
#[derive(Debug, Clone, Copy, Default)]
pub struct OsRandom;

impl Random for OsRandom {
    fn fill(&self, bytes: &mut [u8]) -> Result<(), AppError> {
        getrandom::fill(bytes).map_err(|_| AppError::Protocol("random generator failed".into()))
    }
}
