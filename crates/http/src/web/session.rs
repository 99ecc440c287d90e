//! Browser sessions of the web pages: a random id in an HttpOnly, SameSite=Strict cookie,
//! the page state in the database (under the SHA-256 of the id, so the database never holds
//! a usable session id), a CSRF token every form must return.
//!
//! Any node can serve any request of a browser, and a node that dies takes no one's login
//! with it. A database failure shows as a "try again" page, never as someone else's state.

use std::collections::HashMap;

use axum::Form;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use serde::de::DeserializeOwned;
use time::{Duration, OffsetDateTime};

use splitid_domain::store::{Store, StoredWebSession};

/// How long an idle browser session lives.
const IDLE_LIFETIME: Duration = Duration::minutes(15);

/// The fields of a posted form.
pub type FormFields = Form<HashMap<String, String>>;

/// What every site's page state has: a notice for the next page.
pub trait PageState: Clone + Default + Serialize + DeserializeOwned {
    fn notice_mut(&mut self) -> &mut Option<super::Notice>;
}

/// One browser's session, loaded for a request.
pub struct WebSession<S> {
    pub id: String,
    pub csrf: String,
    pub state: S,
    is_new: bool,
}

/// The sessions of one site (portal or bank), under its own cookie and path.
pub struct Sessions<S> {
    cookie: &'static str,
    path: &'static str,
    secure: bool,
    store: Store,
    _state: std::marker::PhantomData<fn() -> S>,
}

impl<S> Clone for Sessions<S> {
    fn clone(&self) -> Self {
        Sessions {
            cookie: self.cookie,
            path: self.path,
            secure: self.secure,
            store: self.store.clone(),
            _state: std::marker::PhantomData,
        }
    }
}

fn random_token() -> String {
    let mut bytes = [0u8; 32];
    aws_lc_rs::rand::fill(&mut bytes).expect("the operating system gives randomness");
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The key a session is stored under.
fn id_digest(id: &str) -> String {
    hex::encode(aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA256,
        id.as_bytes(),
    ))
}

/// Wall-clock time: web sessions expire in real time, whatever a test clock says.
fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

impl<S: PageState> Sessions<S> {
    pub fn new(cookie: &'static str, path: &'static str, secure: bool, store: Store) -> Self {
        Sessions {
            cookie,
            path,
            secure,
            store,
            _state: std::marker::PhantomData,
        }
    }

    fn cookie_value<'h>(&self, headers: &'h HeaderMap) -> Option<&'h str> {
        headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|line| line.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(name, _)| *name == self.cookie)
            .map(|(_, value)| value)
    }

    /// The browser's session, or a new one (sent with [`set_cookie`](Self::set_cookie)).
    pub async fn load(&self, headers: &HeaderMap) -> WebSession<S> {
        if let Some(id) = self.cookie_value(headers)
            && let Some((csrf, state)) = self.stored(id).await
        {
            return WebSession {
                id: id.to_owned(),
                csrf,
                state,
                is_new: false,
            };
        }
        WebSession {
            id: random_token(),
            csrf: random_token(),
            state: S::default(),
            is_new: true,
        }
    }

    /// A live stored session's token and state; `None` (a new session) when there is none
    /// or it cannot be read.
    async fn stored(&self, id: &str) -> Option<(String, S)> {
        let now = now();
        let stored = self
            .store
            .web_session(self.cookie, &id_digest(id), now - IDLE_LIFETIME, now)
            .await
            .inspect_err(|error| tracing::error!(%error, "reading a web session failed"))
            .ok()??;
        let state = serde_json::from_str(&stored.state)
            .inspect_err(|error| tracing::error!(%error, "a stored web session is unreadable"))
            .ok()?;
        Some((stored.csrf, state))
    }

    /// Keeps the session's state for its next request.
    async fn save(&self, session: &WebSession<S>) -> Result<(), String> {
        let stored = StoredWebSession {
            csrf: session.csrf.clone(),
            state: serde_json::to_string(&session.state).map_err(|e| e.to_string())?,
        };
        let now = now();
        self.store
            .put_web_session(
                self.cookie,
                &id_digest(&session.id),
                &stored,
                session.is_new,
                now - IDLE_LIFETIME,
                now,
            )
            .await
            .map_err(|e| e.to_string())
    }

    /// Gives a session a new id and CSRF token (at login), so that an id known before the
    /// login is worth nothing after it.
    pub async fn renew(&self, session: &mut WebSession<S>) {
        self.end(session).await;
        session.id = random_token();
        session.csrf = random_token();
        session.is_new = true;
    }

    /// Forgets the session (logout). A failure leaves it to expire.
    async fn end(&self, session: &WebSession<S>) {
        if let Err(error) = self.store.end_web_session(&id_digest(&session.id)).await {
            tracing::error!(%error, "ending a web session failed");
        }
    }

    /// Keeps the session and answers with `response`, setting the cookie of a new session;
    /// if the session cannot be kept, a page that asks to try again instead.
    pub async fn respond(&self, session: &WebSession<S>, response: impl IntoResponse) -> Response {
        if let Err(error) = self.save(session).await {
            tracing::error!(%error, "saving a web session failed");
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                "The service cannot keep your session right now. Please try again in a moment.",
            )
                .into_response();
        }
        let mut response = response.into_response();
        if let Some((name, value)) = self.set_cookie(session) {
            response.headers_mut().insert(name, value);
        }
        response
    }

    /// Back to the site's start page (`home`), which shows `notice`.
    pub async fn back_to(
        &self,
        home: &str,
        mut session: WebSession<S>,
        notice: super::Notice,
    ) -> Response {
        *session.state.notice_mut() = Some(notice);
        self.respond(&session, Redirect::to(home)).await
    }

    /// The session of a posted form, if the form carries its CSRF token; else the page that
    /// says the form has expired (boxed: it is the rare path).
    pub async fn posted(
        &self,
        site: &str,
        headers: &HeaderMap,
        Form(fields): FormFields,
    ) -> Result<(WebSession<S>, CsrfForm), Box<Response>> {
        let form = CsrfForm(fields);
        let session = self.load(headers).await;
        if form.is_from(&session) {
            Ok((session, form))
        } else {
            Err(Box::new(super::bad_request(
                site,
                "This form has expired. Please go back, reload the page and try again.",
            )))
        }
    }

    /// Logs out (forgets the session) and goes `home`.
    pub async fn logout(
        &self,
        site: &str,
        home: &str,
        headers: &HeaderMap,
        fields: FormFields,
    ) -> Response {
        if let Ok((session, _)) = self.posted(site, headers, fields).await {
            self.end(&session).await;
        }
        Redirect::to(home).into_response()
    }

    /// The `Set-Cookie` for a new session (none for a known one).
    pub fn set_cookie(&self, session: &WebSession<S>) -> Option<(header::HeaderName, HeaderValue)> {
        if !session.is_new {
            return None;
        }
        let secure = if self.secure { "; Secure" } else { "" };
        let value = format!(
            "{}={}; Path={}; HttpOnly; SameSite=Strict{secure}",
            self.cookie, session.id, self.path
        );
        HeaderValue::from_str(&value)
            .ok()
            .map(|value| (header::SET_COOKIE, value))
    }
}

/// A submitted form: its fields, with the CSRF token checked in constant time.
pub struct CsrfForm(pub HashMap<String, String>);

impl CsrfForm {
    /// Whether the form carries this session's token.
    pub fn is_from<S>(&self, session: &WebSession<S>) -> bool {
        let sent = self.0.get("csrf").map(String::as_bytes).unwrap_or_default();
        !session.is_new
            && aws_lc_rs::constant_time::verify_slices_are_equal(sent, session.csrf.as_bytes())
                .is_ok()
    }

    /// A field's value, trimmed; empty when absent.
    pub fn field(&self, name: &str) -> &str {
        self.0.get(name).map(|v| v.trim()).unwrap_or_default()
    }
}
