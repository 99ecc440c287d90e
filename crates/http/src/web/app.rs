//! `/app/`: the installable web app (crates/web-app), every file embedded at build time
//! (build.rs), and `/`, the landing page that links the app, the portal and the demo.
//!
//! The app's pages get a policy as strict as the portal's, plus what the app needs and no
//! more: its own scripts and workers, WebAssembly compilation (`'wasm-unsafe-eval'`, which
//! allows compiling the module, not `eval`), and requests to this origin only.

use axum::Router;
use axum::extract::{OriginalUri, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use maud::html;

/// (path under `/app/`, content type, bytes) of every file of the app.
static FILES: &[(&str, &str, &[u8])] = include!(concat!(env!("OUT_DIR"), "/web_app_files.rs"));

const APP_POLICY: &str = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; \
    worker-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self'; \
    manifest-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'";

/// The app's files under `/app/`, and `/app` sent there.
pub fn router() -> Router {
    let mut router = Router::new()
        .route("/app", get(|| async { Redirect::permanent("/app/") }))
        .route("/app/", get(|| async { file("index.html") }));
    for (path, _, _) in FILES {
        router = router.route(
            &format!("/app/{path}"),
            get(move || async move { file(path) }),
        );
    }
    router
}

fn file(path: &str) -> Response {
    let Some((_, content_type, bytes)) = FILES.iter().find(|(name, _, _)| *name == path) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let mut response = (*bytes).into_response();
    let headers = response.headers_mut();
    let mut set = |name: header::HeaderName, value: &'static str| {
        headers.insert(name, HeaderValue::from_static(value));
    };
    set(header::CONTENT_TYPE, content_type);
    set(header::CONTENT_SECURITY_POLICY, APP_POLICY);
    set(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(header::X_FRAME_OPTIONS, "DENY");
    set(header::REFERRER_POLICY, "no-referrer");
    // The service worker decides when the shell is refreshed; the browser asks every time.
    set(header::CACHE_CONTROL, "no-cache");
    response
}

/// `/`: what this service is, and where to go.
/// `GET /device-link?…`: where an RP API v3 device link lands when no SplitID app took it
/// (a phone's camera app opened the QR code's address in the browser, or the app is not
/// installed). It says what to do, and shows the link for the command-line app; it changes
/// nothing (a link opens a session only when an app presents it).
pub async fn device_link(State(base): State<String>, uri: OriginalUri) -> impl IntoResponse {
    let link = match uri.query() {
        Some(query) => format!("{base}?{query}"),
        None => base,
    };
    super::page(
        "SplitID",
        "Open this in the SplitID app",
        None,
        html! {
            p { "An e-service asks you to log in or sign with SplitID. This page opened because the link reached your browser instead of the SplitID app." }
            p { a.button href=(format!("/app/#link={}", percent_encoded(&link))) { "Open in the SplitID app" } }
            p { "If that does not work:" }
            ol {
                li { "Open " a href="/app/" { "the SplitID app" } " (install it from there if you have not)." }
                li { "Scan the code on the e-service's screen again from the app, or go back to the e-service and choose to open SplitID on this device." }
            }
            p { "With the command-line app:" }
            pre { code { "splitid app open '" (link) "'" } }
            p.hint { "A code changes every second and opens one session once: if it has expired, the e-service shows a new one." }
        },
    )
}

/// Every byte but unreserved ones as `%XX` (RFC 3986), for a link inside a fragment.
fn percent_encoded(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(byte).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

pub async fn landing(State(demo): State<bool>) -> impl IntoResponse {
    super::page(
        "SplitID",
        "SplitID",
        None,
        html! {
            p { "Log in to e-services and sign with your phone and a PIN." }
            ul {
                li { a href="/app/" { "The SplitID app" } " — install it on your phone from here." }
                li { a href="/portal" { "Self-service portal" } " — your accounts, devices and transactions." }
                @if demo {
                    li { a href="/demo" { "Demo Bank" } " — try a login and a signed transfer." }
                }
                li { a href="/v2/openapi.json" { "Relying-party API (OpenAPI)" } }
            }
        },
    )
}
