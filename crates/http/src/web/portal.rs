//! The self-service portal (`/portal`): a person logs in with SplitID itself (PIN1), sees
//! their accounts (devices) with level, dates, PIN locks and last use, and their recent
//! transactions, and deletes an account after confirming with PIN1 on any of their active
//! accounts. The portal is part of the service: it starts its sessions in-process, under a
//! relying-party UUID that the RP API does not accept, so nobody can pose as the portal.

use std::time::Duration as StdDuration;

use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{Redirect, Response};
use axum::routing::{get, post};
use maud::{Markup, html};
use serde::{Deserialize, Serialize};
use splitid_proto::verification_code::VerificationCode;
use time::OffsetDateTime;
use uuid::Uuid;

use super::{
    FormFields, Notice, PageState, Sessions, WebSession, login_form, notice, page,
    person_from_form, waiting_page,
};
use splitid_domain::Service;
use splitid_domain::accounts::pin_policy::PinState;
use splitid_domain::closing::Closure;
use splitid_domain::error::ServiceError;
use splitid_domain::sessions::{EndResult, Progress, SigningRequest, Target};
use splitid_domain::store::{AccountRecord, AccountState, AuditKind, AuditQuery};

const HOME: &str = "/portal";
const SITE: &str = "SplitID self-service";
/// The portal's own relying-party identity: never registered, so the RP API refuses it.
pub const PORTAL_UUID: Uuid = Uuid::from_u128(0x5e1f5e21_0000_4000_8000_000000000001);
pub const PORTAL_NAME: &str = "SplitID self-service portal";
/// How many recent transactions the portal lists.
const RECENT_TRANSACTIONS: u32 = 20;

#[derive(Clone)]
struct Portal {
    service: Service,
    sessions: Sessions<PortalState>,
}

impl PageState for PortalState {
    fn notice_mut(&mut self) -> &mut Option<Notice> {
        &mut self.notice
    }
}

#[derive(Clone, Default, Serialize, Deserialize)]
struct PortalState {
    /// The semantics identifier of the person logged in.
    person: Option<String>,
    pending: Option<Pending>,
    notice: Option<Notice>,
}

#[derive(Clone, Serialize, Deserialize)]
enum Pending {
    Login {
        session: Uuid,
        code: VerificationCode,
    },
    Delete {
        session: Uuid,
        code: VerificationCode,
        document: String,
    },
}

pub(super) fn router(service: &Service) -> Router {
    let portal = Portal {
        service: service.clone(),
        sessions: Sessions::new(
            "portal",
            "/portal",
            service.config().public_url.starts_with("https://"),
            service.store().clone(),
        ),
    };
    Router::new()
        .route("/", get(index))
        .route("/login", post(login))
        .route("/wait", get(wait))
        .route("/finish", get(finish))
        .route("/delete", post(delete))
        .route("/logout", post(logout))
        .with_state(portal)
}

async fn index(State(portal): State<Portal>, headers: HeaderMap) -> Response {
    let mut session = portal.sessions.load(&headers).await;
    let shown = session.state.notice.take();
    let body = match session.state.person.clone() {
        None => login_page(&session.csrf, &shown),
        Some(person) => match overview(&portal.service, &person, &session.csrf, &shown).await {
            Ok(body) => body,
            Err(error) => {
                tracing::error!(%error, "portal overview failed");
                page(
                    SITE,
                    "Your SplitID",
                    None,
                    html! {
                        p.notice.error role="alert" { "Your accounts cannot be shown right now. Please try again later." }
                    },
                )
            }
        },
    };
    portal.sessions.respond(&session, body).await
}

fn login_page(csrf: &str, shown: &Option<Notice>) -> Markup {
    page(
        SITE,
        "Your SplitID",
        None,
        html! {
            (notice(shown))
            p { "See your SplitID accounts and devices, and delete the ones you no longer use. Log in with SplitID (PIN1)." }
            (login_form("/portal/login", csrf))
            (help())
        },
    )
}

fn help() -> Markup {
    html! {
        h2 { "Lost your phone, or forgot a PIN?" }
        p {
            "Delete the account of that phone here (confirm with PIN1 on another of your devices), "
            "or ask support to close it. Its certificates are revoked at once. "
            "A forgotten PIN cannot be recovered or reset: SplitID stores no PIN anywhere. "
            "Delete the account and register the device again, choosing new PINs."
        }
    }
}

/// Sends a portal login showing `text` to all of a person's phones: the session and the
/// verification code.
async fn start_session(
    service: &Service,
    person: String,
    text: &str,
) -> Result<(Uuid, VerificationCode), ServiceError> {
    let (request, code) = portal_request(text)?;
    let id = service
        .start_signing_session(PORTAL_UUID, Target::Person(person), request)
        .await?
        .id;
    Ok((id, code))
}

/// The authentication request the portal sends to a person's phones.
fn portal_request(text: &str) -> Result<(SigningRequest, VerificationCode), ServiceError> {
    let mut challenge = [0u8; 64];
    aws_lc_rs::rand::fill(&mut challenge).map_err(|_| ServiceError::internal("no randomness"))?;
    let hash = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA512, &challenge)
        .as_ref()
        .to_vec();
    let code = VerificationCode::from_hash(&hash);
    let request = SigningRequest::own_login(PORTAL_NAME, hash, text, None);
    Ok((request, code))
}

/// What a failed start means for the person.
fn start_failed(error: &ServiceError) -> String {
    match error {
        ServiceError::NotFound(_) | ServiceError::NoSuitableAccount(_) => {
            "There is no active SplitID account for this person.".into()
        }
        _ => "The request could not be sent to your phone. Please try again later.".into(),
    }
}

async fn login(State(portal): State<Portal>, headers: HeaderMap, fields: FormFields) -> Response {
    let (session, form) = match portal.sessions.posted(SITE, &headers, fields).await {
        Ok(posted) => posted,
        Err(expired) => return *expired,
    };
    let person = match person_from_form(form.field("country"), form.field("code")) {
        Ok(person) => person,
        Err(message) => {
            return portal
                .sessions
                .back_to(HOME, session, Notice::Error(message))
                .await;
        }
    };
    let started = start_session(&portal.service, person, "Log in to the SplitID portal")
        .await
        .map(|(session, code)| Pending::Login { session, code });
    wait_for_phone(&portal, session, started).await
}

/// To the waiting page once a session is on its way to the phones; back to the start page
/// with the reason when it could not be started.
async fn wait_for_phone(
    portal: &Portal,
    mut session: WebSession<PortalState>,
    started: Result<Pending, ServiceError>,
) -> Response {
    match started {
        Ok(pending) => {
            session.state.pending = Some(pending);
            portal
                .sessions
                .respond(&session, Redirect::to("/portal/wait"))
                .await
        }
        Err(error) => {
            portal
                .sessions
                .back_to(HOME, session, Notice::Error(start_failed(&error)))
                .await
        }
    }
}

async fn wait(State(portal): State<Portal>, headers: HeaderMap) -> Response {
    let session = portal.sessions.load(&headers).await;
    let (what, code) = match &session.state.pending {
        Some(Pending::Login { code, .. }) => {
            ("We sent a login request to your phones.".to_owned(), code)
        }
        Some(Pending::Delete { code, document, .. }) => (
            format!(
                "Confirm with PIN1 on any of your phones that account {document} is to be deleted."
            ),
            code,
        ),
        None => {
            return portal
                .sessions
                .respond(&session, Redirect::to("/portal"))
                .await;
        }
    };
    let body = waiting_page(SITE, &what, Some(code.to_string()), "/portal/finish");
    portal.sessions.respond(&session, body).await
}

/// Waits for a portal session to end; the account that confirmed it, or why not.
async fn confirmed_by(service: &Service, id: Uuid) -> Result<AccountRecord, String> {
    fn failed() -> String {
        "Something went wrong on our side. Please try again.".to_owned()
    }
    loop {
        let progress = service
            .session_status(PORTAL_UUID, id, StdDuration::from_secs(30))
            .await
            .map_err(|_| failed())?;
        let Progress::Complete(result) = progress else {
            continue;
        };
        return match result.end_result {
            EndResult::Ok => {
                let document = result.document_number.ok_or_else(failed)?;
                service
                    .store()
                    .account_by_document(&document)
                    .await
                    .map_err(|_| failed())?
                    .ok_or_else(failed)
            }
            EndResult::Timeout => Err("Your phone did not answer in time. Please try again.".into()),
            EndResult::DocumentUnusable => Err(
                "None of your accounts can confirm right now (for example, PIN1 is locked). Open the SplitID app to see why."
                    .into(),
            ),
            _ => Err("You cancelled on your phone. Nothing was done.".into()),
        };
    }
}

async fn finish(State(portal): State<Portal>, headers: HeaderMap) -> Response {
    let mut session = portal.sessions.load(&headers).await;
    let Some(pending) = session.state.pending.take() else {
        return portal
            .sessions
            .respond(&session, Redirect::to("/portal"))
            .await;
    };
    let shown = match pending {
        Pending::Login { session: id, .. } => match confirmed_by(&portal.service, id).await {
            Ok(account) => {
                portal.sessions.renew(&mut session).await;
                session.state.person = Some(account.semantics_id);
                None
            }
            Err(message) => Some(Notice::Error(format!("You are not logged in. {message}"))),
        },
        Pending::Delete {
            session: id,
            document,
            ..
        } => Some(finish_deletion(&portal.service, &session.state, id, &document).await),
    };
    session.state.notice = shown;
    portal
        .sessions
        .respond(&session, Redirect::to("/portal"))
        .await
}

async fn finish_deletion(
    service: &Service,
    state: &PortalState,
    id: Uuid,
    document: &str,
) -> Notice {
    let confirmed = match confirmed_by(service, id).await {
        Ok(account) => account,
        Err(message) => {
            return Notice::Error(format!("Account {document} was not deleted. {message}"));
        }
    };
    let Some(target) = own_active_account(service, state, document).await else {
        return Notice::Error(format!(
            "Account {document} is not one of your active accounts."
        ));
    };
    if Some(&confirmed.semantics_id) != state.person.as_ref() {
        return Notice::Error("The confirmation came from someone else's account.".into());
    }
    match service
        .close_account(target.id, Closure::Deleted, None)
        .await
    {
        Ok(()) => Notice::Done(format!(
            "Account {document} is deleted and its certificates are revoked. Remove it from the app on that phone, if you still have it."
        )),
        Err(error) => {
            tracing::error!(%error, "portal deletion failed");
            Notice::Error(format!(
                "Account {document} could not be deleted. Please try again."
            ))
        }
    }
}

/// The logged-in person's active account with this document number.
async fn own_active_account(
    service: &Service,
    state: &PortalState,
    document: &str,
) -> Option<AccountRecord> {
    let person = state.person.as_ref()?;
    let account = service.store().account_by_document(document).await.ok()??;
    (account.semantics_id == *person && account.state == AccountState::Active).then_some(account)
}

async fn delete(State(portal): State<Portal>, headers: HeaderMap, fields: FormFields) -> Response {
    let (session, form) = match portal.sessions.posted(SITE, &headers, fields).await {
        Ok(posted) => posted,
        Err(expired) => return *expired,
    };
    let Some(person) = session.state.person.clone() else {
        return portal
            .sessions
            .back_to(HOME, session, Notice::Error("Please log in first.".into()))
            .await;
    };
    let document = form.field("document").to_owned();
    if own_active_account(&portal.service, &session.state, &document)
        .await
        .is_none()
    {
        return portal
            .sessions
            .back_to(
                HOME,
                session,
                Notice::Error(format!(
                    "Account {document} is not one of your active accounts."
                )),
            )
            .await;
    }
    let short = document.rsplitn(3, '-').take(2).collect::<Vec<_>>();
    let text = format!(
        "Delete SplitID account {}-{}?",
        short.get(1).unwrap_or(&""),
        short.first().unwrap_or(&"")
    );
    let started = start_session(&portal.service, person, &text)
        .await
        .map(|(session, code)| Pending::Delete {
            session,
            code,
            document,
        });
    wait_for_phone(&portal, session, started).await
}

async fn logout(State(portal): State<Portal>, headers: HeaderMap, fields: FormFields) -> Response {
    portal.sessions.logout(SITE, HOME, &headers, fields).await
}

fn date_time(at: OffsetDateTime) -> String {
    format!("{} {:02}:{:02} UTC", at.date(), at.hour(), at.minute())
}

/// A PIN's state for people: usable, or locked with the time left.
fn pin_text(state: &PinState, now: OffsetDateTime) -> String {
    match state {
        PinState::Usable { .. } => "usable".into(),
        PinState::Locked { until } => {
            let minutes = (*until - now).whole_minutes().max(1);
            format!(
                "locked for {} h {:02} min more (until {})",
                minutes / 60,
                minutes % 60,
                date_time(*until)
            )
        }
        PinState::PermanentlyLocked => {
            "locked for good: delete this account and register again".into()
        }
    }
}

async fn overview(
    service: &Service,
    person: &str,
    csrf: &str,
    shown: &Option<Notice>,
) -> Result<Markup, ServiceError> {
    let now = service.now();
    let accounts = service.store().accounts_of_person(person).await?;
    let mut rows = Vec::new();
    for account in &accounts {
        let pin1 = service.pin_state(
            &service
                .key(
                    account.id,
                    splitid_domain::store::KeyPurpose::Authentication,
                )
                .await?,
        );
        let pin2 = service.pin_state(
            &service
                .key(account.id, splitid_domain::store::KeyPurpose::Signing)
                .await?,
        );
        rows.push((account, pin_text(&pin1, now), pin_text(&pin2, now)));
    }
    let transactions = recent_transactions(service, &accounts).await?;
    let name = accounts
        .last()
        .map(|a| format!("{} {}", a.given_name, a.surname))
        .unwrap_or_default();
    Ok(page(
        SITE,
        &format!("Your SplitID, {name}"),
        None,
        html! {
            (notice(shown))
            h2 { "Your accounts and devices" }
            @for (account, pin1, pin2) in &rows {
                section.account aria-label=(account.document_number) {
                    h3 { (account.document_number) }
                    dl {
                        dt { "State" }
                        dd { (account_state(account, now)) }
                        dt { "Level" } dd { (account.level) }
                        dt { "Created" } dd { (date_time(account.created_at)) }
                        dt { "Expires" } dd { (date_time(account.expires_at)) }
                        dt { "Last used" } dd { (account.last_used_at.map_or_else(|| "never".to_owned(), date_time)) }
                        @if account.state == AccountState::Active {
                            dt { "PIN1" } dd { (pin1) }
                            dt { "PIN2" } dd { (pin2) }
                        }
                    }
                    @if account.state == AccountState::Active {
                        form method="post" action="/portal/delete" {
                            input type="hidden" name="csrf" value=(csrf);
                            input type="hidden" name="document" value=(account.document_number);
                            button.danger type="submit" { "Delete account " (account.document_number) }
                        }
                    }
                }
            }
            h2 { "Recent transactions" }
            @if transactions.is_empty() {
                p { "None yet." }
            } @else {
                table {
                    thead { tr { th scope="col" { "Time" } th scope="col" { "E-service" } th scope="col" { "What" } th scope="col" { "Result" } th scope="col" { "Account" } } }
                    tbody {
                        @for t in &transactions {
                            tr { td { (t.0) } td { (t.1) } td { (t.2) } td { (t.3) } td { (t.4) } }
                        }
                    }
                }
            }
            (help())
            form method="post" action="/portal/logout" {
                input type="hidden" name="csrf" value=(csrf);
                button.secondary type="submit" { "Log out" }
            }
        },
    ))
}

fn account_state(account: &AccountRecord, now: OffsetDateTime) -> String {
    match account.state {
        AccountState::Closed => format!(
            "closed ({})",
            account
                .closed_reason
                .as_deref()
                .unwrap_or("no reason recorded")
        ),
        AccountState::Active if account.is_usable(now) => "active".into(),
        AccountState::Active => "expired".into(),
    }
}

/// The newest logins, signatures and certificate choices of these accounts: (time, e-service,
/// kind, result, account).
async fn recent_transactions(
    service: &Service,
    accounts: &[AccountRecord],
) -> Result<Vec<(String, String, String, String, String)>, ServiceError> {
    let mut found = Vec::new();
    for account in accounts {
        for kind in [
            AuditKind::Login,
            AuditKind::Signature,
            AuditKind::CertificateChoice,
        ] {
            let query = AuditQuery {
                document_number: Some(account.document_number.clone()),
                kind: Some(kind),
                since: None,
                limit: Some(RECENT_TRANSACTIONS),
            };
            found.extend(service.store().audit_events(&query).await?);
        }
    }
    found.sort_by_key(|entry| std::cmp::Reverse(entry.seq));
    found.truncate(RECENT_TRANSACTIONS as usize);
    let mut rows = Vec::with_capacity(found.len());
    for entry in found {
        let event = entry.event;
        let rp_name = match event.relying_party {
            Some(uuid) if uuid == PORTAL_UUID => PORTAL_NAME.to_owned(),
            Some(uuid) => service
                .store()
                .relying_party(uuid)
                .await?
                .and_then(|rp| rp.names.first().cloned())
                .unwrap_or_else(|| uuid.to_string()),
            None => String::new(),
        };
        let what = match event.kind {
            AuditKind::Login => "login",
            AuditKind::Signature => "signature",
            _ => "certificate choice",
        };
        let result = event.details["endResult"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        rows.push((
            date_time(event.at),
            rp_name,
            what.to_owned(),
            result,
            event.document_number.unwrap_or_default(),
        ));
    }
    Ok(rows)
}
