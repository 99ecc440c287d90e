//! The device core's ports in the browser, over `js/platform.js`: the vault in IndexedDB
//! (one record, written in a durable transaction, behind a Web Lock shared by every tab),
//! HTTP with `fetch`, the clock and timers. Randomness is `OsRandom`, which is
//! `crypto.getRandomValues` here.

use std::time::Duration;

use futures_util::stream;
use js_sys::{Array, Function, Reflect, Uint8Array};
use splitid_app::AppError;
use splitid_app::ports::{Clock, Request, Response, Storage, StreamedResponse, Transport};
use splitid_app::vault::Vault;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

#[wasm_bindgen(module = "/js/platform.js")]
extern "C" {
    #[wasm_bindgen(js_name = vaultLoad, catch)]
    fn vault_load() -> Result<js_sys::Promise, JsValue>;
    #[wasm_bindgen(js_name = vaultSave, catch)]
    fn vault_save(text: &str) -> Result<js_sys::Promise, JsValue>;
    #[wasm_bindgen(js_name = vaultLock, catch)]
    fn vault_lock() -> Result<js_sys::Promise, JsValue>;
    #[wasm_bindgen(js_name = httpSend, catch)]
    fn http_send(
        method: &str,
        url: &str,
        headers: Array,
        body: &[u8],
    ) -> Result<js_sys::Promise, JsValue>;
    #[wasm_bindgen(js_name = nowMillis)]
    fn now_millis() -> f64;
    #[wasm_bindgen(js_name = pause)]
    fn pause_millis(millis: f64) -> js_sys::Promise;
}

/// A JavaScript error's message.
pub(crate) fn message(error: &JsValue) -> String {
    error
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| error.as_string())
        .unwrap_or_else(|| format!("{error:?}"))
}

async fn settle(promise: Result<js_sys::Promise, JsValue>) -> Result<JsValue, JsValue> {
    JsFuture::from(promise?).await
}

/// The vault in this origin's IndexedDB.
#[derive(Debug, Clone, Copy, Default)]
pub struct IndexedDbVault;

/// The Web Lock on the vault, released when dropped.
pub struct VaultLock(Function);

impl Drop for VaultLock {
    fn drop(&mut self) {
        let _ = self.0.call0(&JsValue::NULL);
    }
}

fn vault_error(error: JsValue) -> AppError {
    AppError::Vault(message(&error))
}

impl Storage for IndexedDbVault {
    type Lock = VaultLock;

    async fn lock(&self) -> Result<VaultLock, AppError> {
        let release = settle(vault_lock()).await.map_err(vault_error)?;
        release
            .dyn_into::<Function>()
            .map(VaultLock)
            .map_err(|_| AppError::Vault("the vault lock gave no release".into()))
    }

    async fn load(&self) -> Result<Vault, AppError> {
        let text = settle(vault_load()).await.map_err(vault_error)?;
        match text.as_string() {
            Some(text) => serde_json::from_str(&text).map_err(|e| AppError::Vault(e.to_string())),
            None => Ok(Vault::default()),
        }
    }

    async fn save(&self, vault: &Vault) -> Result<(), AppError> {
        let text = serde_json::to_string(vault).map_err(|e| AppError::Vault(e.to_string()))?;
        settle(vault_save(&text))
            .await
            .map(|_| ())
            .map_err(vault_error)
    }
}

/// HTTP with `fetch` (no cookies, no cache).
#[derive(Debug, Clone, Copy, Default)]
pub struct FetchTransport;

impl Transport for FetchTransport {
    async fn send(&self, request: Request) -> Result<Response, AppError> {
        let headers = Array::new();
        for (name, value) in &request.headers {
            headers.push(&Array::of2(&name.into(), &value.into()));
        }
        let answer = settle(http_send(
            request.method.as_str(),
            &request.url,
            headers,
            &request.body,
        ))
        .await
        .map_err(|error| AppError::Network(message(&error)))?;
        let field = |name: &str| {
            Reflect::get(&answer, &name.into())
                .map_err(|_| AppError::Protocol(format!("fetch gave no {name}")))
        };
        let status = field("status")?
            .as_f64()
            .ok_or_else(|| AppError::Protocol("fetch gave no status".into()))?
            as u16;
        let body = field("body")?
            .dyn_into::<Uint8Array>()
            .map_err(|_| AppError::Protocol("fetch gave no body".into()))?;
        Ok(Response {
            status,
            body: body.to_vec(),
        })
    }

    /// The whole body as one chunk: the browser app hears of transactions by Web Push and by
    /// polling, not by following an event stream.
    async fn stream(&self, request: Request) -> Result<StreamedResponse, AppError> {
        let response = self.send(request).await?;
        Ok(StreamedResponse {
            status: response.status,
            body: Box::pin(stream::once(async move { Ok(response.body) })),
        })
    }
}

/// The browser's clock and timers.
#[derive(Debug, Clone, Copy, Default)]
pub struct BrowserClock;

impl BrowserClock {
    pub fn unix_seconds_now() -> u64 {
        (now_millis() / 1000.0) as u64
    }
}

impl Clock for BrowserClock {
    fn unix_seconds(&self) -> u64 {
        Self::unix_seconds_now()
    }

    async fn pause(&self, duration: Duration) {
        let _ = JsFuture::from(pause_millis(duration.as_millis() as f64)).await;
    }
}
