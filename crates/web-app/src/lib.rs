//! The installable web app's device core: the same flows as `splitid app`
//! (`splitid-app`), compiled to WebAssembly with the pure-Rust split-key backend, on the
//! browser's IndexedDB, `fetch`, clock and `crypto.getRandomValues`.
//!
//! * [`device`]: what the page asks of the core, in JSON-friendly types (accounts with their
//!   certificates' validity, registration, pending transactions, confirm, refuse, status,
//!   delete). Platform-neutral, so its tests run natively against the in-process service.
//! * `browser` (WebAssembly only): the ports, over the small JavaScript module
//!   `js/platform.js` (IndexedDB, Web Locks, `fetch`, timers).
//! * `exports` (WebAssembly only): the `WebApp` class the page's worker calls, every method
//!   a promise of JSON.
//!
//! Built by `scripts/build-web-app.sh` into `www/pkg/`, which is committed and which
//! `splitid serve` embeds under `/app`.

pub mod device;

#[cfg(target_arch = "wasm32")]
mod browser;
#[cfg(target_arch = "wasm32")]
mod exports;
