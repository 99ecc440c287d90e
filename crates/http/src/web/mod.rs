//! People-facing pages: the landing page (`/`), the installable web app (`/app/`, see
//! `app`), the self-service portal (`/portal`), and the page helpers (layout,
//! forms, CSRF, cookie sessions) that the binary's Demo Bank (`/demo`) is built on too.
//!
//! Server-rendered HTML (maud), no front-end build and no script at all: a page that waits
//! for the phone refreshes itself once into a request that returns when the session ends.
//! Every page carries strict headers (CSP without inline anything, no framing, no sniffing,
//! no referrer); state-changing forms carry a per-session CSRF token; cookies are HttpOnly,
//! SameSite=Strict, and Secure when the service is reached over https.

mod app;
mod portal;
mod session;

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use maud::{DOCTYPE, Markup, html};

use splitid_domain::Service;

pub use portal::{PORTAL_NAME, PORTAL_UUID};
pub use session::{CsrfForm, FormFields, PageState, Sessions, WebSession};

const STYLESHEET: &str = include_str!("splitid.css");
const STYLESHEET_PATH: &str = "/web/splitid.css";

/// The portal and the pages' stylesheet, with the pages' security headers.
pub fn router(service: &Service) -> Router {
    with_page_headers(
        Router::new()
            .route(STYLESHEET_PATH, get(stylesheet))
            .route("/", get(app::landing).with_state(service.config().demo))
            .route(
                "/device-link",
                get(app::device_link).with_state(service.device_link_base()),
            )
            .nest("/portal", portal::router(service)),
    )
    // The app sets its own, broader policy (scripts, workers, WebAssembly).
    .merge(app::router())
}

/// `pages` with the headers every page gets (see `security_headers`): for pages built on
/// these helpers elsewhere, such as the Demo Bank.
pub fn with_page_headers(pages: Router) -> Router {
    pages.layer(axum::middleware::from_fn(security_headers))
}

async fn stylesheet() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        STYLESHEET,
    )
}

/// Headers every page gets: nothing but our own stylesheet and forms may load or post, no
/// page may frame ours, and pages with personal data are not cached.
async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let cached = headers.contains_key(header::CACHE_CONTROL);
    let mut set = |name: header::HeaderName, value: &'static str| {
        headers.insert(name, HeaderValue::from_static(value));
    };
    set(
        header::CONTENT_SECURITY_POLICY,
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    );
    set(header::X_FRAME_OPTIONS, "DENY");
    set(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(header::REFERRER_POLICY, "no-referrer");
    if !cached {
        set(header::CACHE_CONTROL, "no-store");
    }
    response
}

/// The frame of every page: language, phone-size viewport, the stylesheet, a header with the
/// site's name.
pub fn page(site: &str, title: &str, refresh: Option<&str>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                @if let Some(target) = refresh {
                    // Waiting without script: after a moment the browser asks for the
                    // result, which the server holds until the phone has answered.
                    meta http-equiv="refresh" content=(format!("1;url={target}"));
                }
                title { (title) " · " (site) }
                link rel="stylesheet" href=(STYLESHEET_PATH);
            }
            body {
                header { p.site { (site) } }
                main { h1 { (title) } (body) }
                footer { p { "SplitID — open electronic identity" } }
            }
        }
    }
}

/// A notice shown at the top of a page: an error or a confirmation.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub enum Notice {
    Error(String),
    Done(String),
}

pub fn notice(notice: &Option<Notice>) -> Markup {
    html! {
        @match notice {
            Some(Notice::Error(text)) => p.notice.error role="alert" { (text) },
            Some(Notice::Done(text)) => p.notice.done role="status" { (text) },
            None => {},
        }
    }
}

/// The "check your phone" page: the verification code, and a refresh into `finish`.
pub fn waiting_page(site: &str, what: &str, code: Option<String>, finish: &str) -> Markup {
    page(
        site,
        "Check your phone",
        Some(finish),
        html! {
            p { (what) }
            @if let Some(code) = code {
                p { "Make sure your phone shows this verification code:" }
                p.code aria-label="verification code" { (code) }
            }
            p { "Then enter your PIN in the SplitID app. This page moves on by itself." }
            p { a href=(finish) { "Continue" } }
        },
    )
}

/// The "Log in with SplitID" form of a site: the country and the personal identification
/// code, posted to `action` with the session's CSRF token.
pub fn login_form(action: &str, csrf: &str) -> Markup {
    html! {
        form method="post" action=(action) {
            input type="hidden" name="csrf" value=(csrf);
            label for="country" { "Country" }
            select id="country" name="country" {
                option value="EE" { "Estonia" }
                option value="LV" { "Latvia" }
                option value="LT" { "Lithuania" }
            }
            label for="code" { "Personal identification code" }
            input id="code" name="code" inputmode="numeric" autocomplete="off" required
                placeholder="30303039914";
            button type="submit" { "Log in with SplitID" }
        }
    }
}

/// A 400 page for a form that cannot be read.
pub(crate) fn bad_request(site: &str, message: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        page(
            site,
            "Something is wrong",
            None,
            html! { p.notice.error role="alert" { (message) } },
        ),
    )
        .into_response()
}

/// The ETSI identifier of a person from a country code and a national identity code typed
/// into a form, e.g. ("EE", "30303039914") → `PNOEE-30303039914`.
pub fn person_from_form(country: &str, code: &str) -> Result<String, String> {
    const HELP: &str = "That is not a personal identification code: Estonian and Lithuanian codes have 11 digits, Latvian ones look like 010101-12345.";
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    let digits = |text: &str| text.bytes().all(|b| b.is_ascii_digit());
    let well_formed = match country.trim() {
        "EE" | "LT" => code.len() == 11 && digits(&code),
        "LV" => match code.split_once('-') {
            Some((birth, serial)) => {
                birth.len() == 6 && serial.len() == 5 && digits(birth) && digits(serial)
            }
            None => false,
        },
        _ => return Err("Please choose Estonia, Latvia or Lithuania.".into()),
    };
    if !well_formed {
        return Err(HELP.into());
    }
    format!("PNO{}-{code}", country.trim())
        .parse::<splitid_proto::identifiers::SemanticsIdentifier>()
        .map(|id| id.to_string())
        .map_err(|_| HELP.into())
}

#[cfg(test)]
mod tests {
    use super::person_from_form;

    #[test]
    fn identity_codes_from_forms_are_checked_by_country() {
        assert_eq!(
            person_from_form("EE", " 3030303 9914 ").unwrap(),
            "PNOEE-30303039914"
        );
        assert_eq!(
            person_from_form("LV", "050405-10009").unwrap(),
            "PNOLV-050405-10009"
        );
        assert!(person_from_form("EE", "123").is_err());
        assert!(person_from_form("LT", "3030303991X").is_err());
        assert!(person_from_form("LV", "05040510009").is_err());
        assert!(person_from_form("FI", "30303039914").is_err());
    }
}
