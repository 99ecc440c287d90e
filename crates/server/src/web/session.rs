//! Browser sessions of the web pages: a random id in an HttpOnly, SameSite=Strict cookie,
//! the page state in memory, a CSRF token every form must return.
//!
//! The state is this node's memory: a restart logs people out of the portal and the demo
//! bank, which holds nothing that is not in the database anyway.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Form;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// How long an idle browser session lives.
const IDLE_LIFETIME: Duration = Duration::from_secs(15 * 60);
/// At most this many browser sessions are kept (oldest dropped first).
const MOST_SESSIONS: usize = 10_000;

struct Entry<S> {
    csrf: String,
    state: S,
    last_seen: Instant,
}

/// The fields of a posted form.
pub(crate) type FormFields = Form<HashMap<String, String>>;

/// What every site's page state has: a notice for the next page.
pub(crate) trait PageState: Clone + Default {
    fn notice_mut(&mut self) -> &mut Option<super::Notice>;
}

/// One browser's session, loaded for a request.
pub(crate) struct WebSession<S> {
    pub id: String,
    pub csrf: String,
    pub state: S,
    is_new: bool,
}

/// The sessions of one site (portal or bank), under its own cookie and path.
pub(crate) struct Sessions<S> {
    cookie: &'static str,
    path: &'static str,
    secure: bool,
    entries: Arc<Mutex<HashMap<String, Entry<S>>>>,
}

impl<S> Clone for Sessions<S> {
    fn clone(&self) -> Self {
        Sessions {
            cookie: self.cookie,
            path: self.path,
            secure: self.secure,
            entries: self.entries.clone(),
        }
    }
}

fn random_token() -> String {
    let mut bytes = [0u8; 32];
    aws_lc_rs::rand::fill(&mut bytes).expect("the operating system gives randomness");
    URL_SAFE_NO_PAD.encode(bytes)
}

impl<S: PageState> Sessions<S> {
    pub fn new(cookie: &'static str, path: &'static str, secure: bool) -> Self {
        Sessions {
            cookie,
            path,
            secure,
            entries: Arc::default(),
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
    pub fn load(&self, headers: &HeaderMap) -> WebSession<S> {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        entries.retain(|_, entry| now.duration_since(entry.last_seen) < IDLE_LIFETIME);
        if let Some(id) = self.cookie_value(headers)
            && let Some(entry) = entries.get_mut(id)
        {
            entry.last_seen = now;
            return WebSession {
                id: id.to_owned(),
                csrf: entry.csrf.clone(),
                state: entry.state.clone(),
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

    /// Keeps the session's state for its next request.
    pub fn save(&self, session: &WebSession<S>) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= MOST_SESSIONS
            && !entries.contains_key(&session.id)
            && let Some(oldest) = entries
                .iter()
                .min_by_key(|(_, entry)| entry.last_seen)
                .map(|(id, _)| id.clone())
        {
            entries.remove(&oldest);
        }
        entries.insert(
            session.id.clone(),
            Entry {
                csrf: session.csrf.clone(),
                state: session.state.clone(),
                last_seen: Instant::now(),
            },
        );
    }

    /// Gives a session a new id and CSRF token (at login), so that an id known before the
    /// login is worth nothing after it.
    pub fn renew(&self, session: &mut WebSession<S>) {
        self.end(session);
        session.id = random_token();
        session.csrf = random_token();
        session.is_new = true;
    }

    /// Forgets the session (logout).
    pub fn end(&self, session: &WebSession<S>) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.remove(&session.id);
    }

    /// Keeps the session and answers with `response`, setting the cookie of a new session.
    pub fn respond(&self, session: &WebSession<S>, response: impl IntoResponse) -> Response {
        self.save(session);
        let mut response = response.into_response();
        if let Some((name, value)) = self.set_cookie(session) {
            response.headers_mut().insert(name, value);
        }
        response
    }

    /// Back to the site's start page (`home`), which shows `notice`.
    pub fn back_to(
        &self,
        home: &str,
        mut session: WebSession<S>,
        notice: super::Notice,
    ) -> Response {
        *session.state.notice_mut() = Some(notice);
        self.respond(&session, Redirect::to(home))
    }

    /// The session of a posted form, if the form carries its CSRF token; else the page that
    /// says the form has expired (boxed: it is the rare path).
    pub fn posted(
        &self,
        site: &str,
        headers: &HeaderMap,
        Form(fields): FormFields,
    ) -> Result<(WebSession<S>, CsrfForm), Box<Response>> {
        let form = CsrfForm(fields);
        let session = self.load(headers);
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
    pub fn logout(
        &self,
        site: &str,
        home: &str,
        headers: &HeaderMap,
        fields: FormFields,
    ) -> Response {
        if let Ok((session, _)) = self.posted(site, headers, fields) {
            self.end(&session);
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
pub(crate) struct CsrfForm(pub HashMap<String, String>);

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
