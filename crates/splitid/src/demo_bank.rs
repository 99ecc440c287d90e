//! "Demo Bank" (`/demo`, demo mode only): an e-service that uses SplitID the way a real one
//! would, through the relying-party SDK over RP API v3, so it is also the SDK's living
//! example. Log in with PIN1 — by personal code (a push, with the code to compare) or by
//! scanning a QR code that the bank's backend rebuilds every second — see who you are (from
//! the validated certificate), sign a transfer with PIN2 whose details are the text on the
//! phone and what the signature covers.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{Redirect, Response};
use axum::routing::{get, post};
use maud::{Markup, html};
use serde::{Deserialize, Serialize};
use splitid_proto::rp_v2::{CertificateLevel, HashType, Interaction};
use splitid_rp::{
    Identity, PendingV3, RpClient, RpConfig, RpError, SignableData, Target, TrustConfig,
};
use time::OffsetDateTime;

use splitid_domain::{DEMO_BANK_NAME, DEMO_BANK_UUID, Service};
use splitid_http::web::{
    CsrfForm, FormFields, Notice, PageState, Sessions, WebSession, login_form, notice, page,
    person_from_form, waiting_page,
};

const HOME: &str = "/demo";
const SITE: &str = "Demo Bank";
/// Largest transfer the demo accepts, in cents.
const LARGEST_TRANSFER_CENTS: u64 = 100_000_000;

#[derive(Clone)]
struct Bank {
    sessions: Sessions<BankState>,
    client: Arc<RpClient>,
    /// QR logins the backend finished waiting for, by session id, until the page that shows
    /// the code takes the result (a real e-service keeps these in its session store).
    finished: Arc<Mutex<HashMap<String, Finished>>>,
}

/// A QR login's result, and when it came.
struct Finished {
    result: Result<splitid_rp::Completed, String>,
    at: std::time::Instant,
}

/// A result nobody took is forgotten after this long (the browser went away).
const FINISHED_KEPT: std::time::Duration = std::time::Duration::from_secs(600);

impl PageState for BankState {
    fn notice_mut(&mut self) -> &mut Option<Notice> {
        &mut self.notice
    }
}

#[derive(Clone, Default, Serialize, Deserialize)]
struct BankState {
    customer: Option<Customer>,
    pending: Option<Pending>,
    notice: Option<Notice>,
    receipt: Option<Receipt>,
}

#[derive(Clone, Serialize, Deserialize)]
struct Customer {
    identity: Identity,
    document_number: String,
    level: CertificateLevel,
}

#[derive(Clone, Serialize, Deserialize)]
enum Pending {
    Login(PendingV3),
    /// A login by QR code: the page shows it until a phone has scanned it and answered.
    QrLogin(PendingV3),
    Transfer {
        session: PendingV3,
        transfer: Transfer,
    },
}

/// The login's text on the phone.
const LOGIN_TEXT: &str = "Log in to Demo Bank";

/// A transfer as the customer entered it, checked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Transfer {
    recipient: String,
    iban: String,
    /// e.g. `25.00`.
    amount: String,
    description: String,
}

impl Transfer {
    /// What the phone shows and what is signed: the hash covers exactly this text.
    fn details(&self) -> String {
        let mut text = format!(
            "Pay {} EUR to {}, {}",
            self.amount, self.recipient, self.iban
        );
        if !self.description.is_empty() {
            text += &format!(": {}", self.description);
        }
        text
    }

    /// The short form for apps that show only 60 characters.
    fn short(&self) -> String {
        let text = format!("Pay {} EUR to {}", self.amount, self.recipient);
        text.chars().take(60).collect()
    }
}

#[derive(Clone, Serialize, Deserialize)]
struct Receipt {
    details: String,
    hash_hex: String,
    signer: String,
    document_number: String,
    signature_bytes: usize,
    at: OffsetDateTime,
}

/// The Demo Bank's pages, to serve at `/demo` (with the service's page headers).
pub fn router(service: &Service) -> Router {
    let bank = Bank {
        sessions: Sessions::new(
            "demo_bank",
            "/demo",
            service.config().public_url.starts_with("https://"),
            service.store().clone(),
        ),
        client: Arc::new(bank_client(service)),
        finished: Arc::default(),
    };
    Router::new()
        .route("/", get(index))
        .route("/login", post(login))
        .route("/qr", post(start_qr_login).get(qr_login))
        .route("/wait", get(wait))
        .route("/finish", get(finish))
        .route("/transfer", post(transfer))
        .route("/receipt", get(receipt))
        .route("/logout", post(logout))
        .with_state(bank)
}

/// The bank's SDK client: the service's own RP API, trusting the service's own CA (a real
/// bank installs the root certificate once, checked by its fingerprint).
fn bank_client(service: &Service) -> RpClient {
    let ca = service.ca();
    let trust = TrustConfig::new(vec![ca.root_certificate_der()])
        .expect("the service's own root certificate is valid")
        .with_intermediates(vec![ca.issuing_certificate_der()]);
    let base = format!("{}/v2", service.config().public_url.trim_end_matches('/'));
    let mut config = RpConfig::new(base, DEMO_BANK_UUID, DEMO_BANK_NAME);
    config.scheme_name = service.config().scheme_name().to_owned();
    RpClient::new(config, trust).expect("an HTTP client can be built")
}

async fn index(State(bank): State<Bank>, headers: HeaderMap) -> Response {
    let mut session = bank.sessions.load(&headers).await;
    let shown = session.state.notice.take();
    let body = match &session.state.customer {
        None => login_page(&session.csrf, &shown),
        Some(customer) => account_page(&session.csrf, customer, &shown),
    };
    bank.sessions.respond(&session, body).await
}

fn login_page(csrf: &str, shown: &Option<Notice>) -> Markup {
    page(
        SITE,
        "Log in",
        None,
        html! {
            (notice(shown))
            p { "Log in with SplitID: we send a request to your phone." }
            (login_form("/demo/login", csrf))
            p.hint { "Demo: use the identity your SplitID app registered with." }
            h2 { "Or scan a code" }
            form method="post" action="/demo/qr" {
                input type="hidden" name="csrf" value=(csrf);
                button.secondary type="submit" { "Log in with a QR code" }
            }
        },
    )
}

fn account_page(csrf: &str, customer: &Customer, shown: &Option<Notice>) -> Markup {
    let who = &customer.identity;
    page(
        SITE,
        &format!("Welcome, {} {}", who.given_name, who.surname),
        None,
        html! {
            (notice(shown))
            h2 { "Who you are (from your certificate)" }
            dl {
                dt { "Name" } dd { (who.given_name) " " (who.surname) }
                dt { "Identity code" } dd { (who.identity_code) }
                dt { "Country" } dd { (who.country) }
                dt { "Date of birth" }
                dd { (who.date_of_birth.map_or_else(|| "not given by the code".to_owned(), |d| d.to_string())) }
                dt { "SplitID account" } dd { (customer.document_number) }
                dt { "Certificate level" } dd { (customer.level.api_name()) }
            }
            h2 { "New transfer" }
            form method="post" action="/demo/transfer" {
                input type="hidden" name="csrf" value=(csrf);
                label for="recipient" { "Recipient" }
                input id="recipient" name="recipient" required maxlength="40";
                label for="iban" { "Recipient's IBAN" }
                input id="iban" name="iban" required maxlength="42" autocomplete="off";
                label for="amount" { "Amount (EUR)" }
                input id="amount" name="amount" required inputmode="decimal" placeholder="25.00";
                label for="description" { "Description" }
                input id="description" name="description" maxlength="60";
                button type="submit" { "Sign with SplitID" }
            }
            form method="post" action="/demo/logout" {
                input type="hidden" name="csrf" value=(csrf);
                button.secondary type="submit" { "Log out" }
            }
        },
    )
}

async fn login(State(bank): State<Bank>, headers: HeaderMap, fields: FormFields) -> Response {
    let (session, form) = match bank.sessions.posted(SITE, &headers, fields).await {
        Ok(posted) => posted,
        Err(expired) => return *expired,
    };
    let person = match person_from_form(form.field("country"), form.field("code")) {
        Ok(person) => person,
        Err(message) => {
            return bank
                .sessions
                .back_to(HOME, session, Notice::Error(message))
                .await;
        }
    };
    let started = bank
        .client
        .start_notification_authentication(
            &Target::Person(person),
            CertificateLevel::Qualified,
            &[Interaction::DisplayTextAndPin {
                text: LOGIN_TEXT.into(),
            }],
        )
        .await;
    pursue(&bank, session, started.map(Pending::Login), "/demo/wait").await
}

/// Keeps a started login in the browser's session and goes on to `next`, or back home with
/// what went wrong.
async fn pursue(
    bank: &Bank,
    mut session: WebSession<BankState>,
    started: Result<Pending, RpError>,
    next: &str,
) -> Response {
    match started {
        Ok(pending) => {
            session.state.pending = Some(pending);
            bank.sessions.respond(&session, Redirect::to(next)).await
        }
        Err(error) => {
            bank.sessions
                .back_to(HOME, session, Notice::Error(explain(&error)))
                .await
        }
    }
}

impl From<splitid_rp::Completed> for Customer {
    fn from(done: splitid_rp::Completed) -> Self {
        Customer {
            identity: done.certificate.identity.clone(),
            document_number: done.document_number,
            level: done.certificate.level,
        }
    }
}

/// `POST /demo/qr`: an anonymous device-link login; its QR code is shown at `GET /demo/qr`.
async fn start_qr_login(
    State(bank): State<Bank>,
    headers: HeaderMap,
    fields: FormFields,
) -> Response {
    let (session, _) = match bank.sessions.posted(SITE, &headers, fields).await {
        Ok(posted) => posted,
        Err(expired) => return *expired,
    };
    let started = bank
        .client
        .start_device_link_authentication(
            None,
            CertificateLevel::Qualified,
            &[Interaction::DisplayTextAndPin {
                text: LOGIN_TEXT.into(),
            }],
            None,
        )
        .await;
    if let Ok(pending) = &started {
        bank.wait_in_backend(pending.clone());
    }
    pursue(&bank, session, started.map(Pending::QrLogin), "/demo/qr").await
}

impl Bank {
    /// Long-polls a QR login in the background: the page that shows the code only reads
    /// whether it has finished, so it can be rebuilt every second.
    fn wait_in_backend(&self, pending: PendingV3) {
        let bank = self.clone();
        tokio::spawn(async move {
            let result = bank
                .client
                .wait_v3(&pending)
                .await
                .map_err(|error| login_failed(&error));
            let mut finished = bank.finished.lock().unwrap_or_else(|e| e.into_inner());
            finished.retain(|_, old| old.at.elapsed() < FINISHED_KEPT);
            finished.insert(
                pending.session_id,
                Finished {
                    result,
                    at: std::time::Instant::now(),
                },
            );
        });
    }

    fn take_finished(&self, session_id: &str) -> Option<Result<splitid_rp::Completed, String>> {
        let mut finished = self.finished.lock().unwrap_or_else(|e| e.into_inner());
        finished.remove(session_id).map(|done| done.result)
    }
}

/// `GET /demo/qr`: the customer is logged in once a phone has scanned and answered; until
/// then the QR code, rebuilt in the backend for this second (never ahead of time), on a page
/// that asks again a second later.
async fn qr_login(State(bank): State<Bank>, headers: HeaderMap) -> Response {
    let mut session = bank.sessions.load(&headers).await;
    let Some(Pending::QrLogin(pending)) = session.state.pending.clone() else {
        return bank.sessions.respond(&session, Redirect::to("/demo")).await;
    };
    match bank.take_finished(&pending.session_id) {
        Some(Ok(done)) => {
            session.state.pending = None;
            bank.sessions.renew(&mut session).await;
            session.state.customer = Some(Customer::from(done));
            return bank.sessions.respond(&session, Redirect::to("/demo")).await;
        }
        Some(Err(message)) => {
            session.state.pending = None;
            session.state.notice = Some(Notice::Error(message));
            return bank.sessions.respond(&session, Redirect::to("/demo")).await;
        }
        None => {}
    }
    let shown = bank
        .client
        .qr_link(&pending, std::time::SystemTime::now())
        .and_then(|link| splitid_rp::device_link::qr_svg(&link));
    match shown {
        Ok(svg) => bank.sessions.respond(&session, qr_page(&svg)).await,
        Err(error) => {
            session.state.pending = None;
            session.state.notice = Some(Notice::Error(login_failed(&error)));
            bank.sessions.respond(&session, Redirect::to("/demo")).await
        }
    }
}

fn qr_page(svg: &str) -> Markup {
    // The SVG document without its XML declaration, inline (no image request, no script).
    let svg = svg.find("<svg").map_or(svg, |start| &svg[start..]);
    page(
        SITE,
        "Scan with SplitID",
        Some("/demo/qr"),
        html! {
            p { "Open the SplitID app on your phone and scan this code. It changes every second." }
            div.qr role="img" aria-label="QR code for logging in with SplitID" {
                (maud::PreEscaped(svg))
            }
            p { a href="/demo" { "Cancel" } }
        },
    )
}

async fn wait(State(bank): State<Bank>, headers: HeaderMap) -> Response {
    let session = bank.sessions.load(&headers).await;
    let (what, pending) = match &session.state.pending {
        Some(Pending::Login(pending)) => {
            ("We sent a login request to your phone.".to_owned(), pending)
        }
        Some(Pending::Transfer {
            session: pending,
            transfer,
        }) => (
            format!(
                "We sent the transfer to your phone to sign: {}",
                transfer.details()
            ),
            pending,
        ),
        Some(Pending::QrLogin(_)) => {
            return bank
                .sessions
                .respond(&session, Redirect::to("/demo/qr"))
                .await;
        }
        None => return bank.sessions.respond(&session, Redirect::to("/demo")).await,
    };
    let code = pending.verification_code.map(|c| c.to_string());
    bank.sessions
        .respond(&session, waiting_page(SITE, &what, code, "/demo/finish"))
        .await
}

async fn finish(State(bank): State<Bank>, headers: HeaderMap) -> Response {
    let mut session = bank.sessions.load(&headers).await;
    let Some(pending) = session.state.pending.take() else {
        return bank.sessions.respond(&session, Redirect::to("/demo")).await;
    };
    match pending {
        Pending::QrLogin(_) => {
            session.state.pending = Some(pending);
            bank.sessions
                .respond(&session, Redirect::to("/demo/qr"))
                .await
        }
        Pending::Login(login) => {
            match bank.client.wait_v3(&login).await {
                Ok(done) => {
                    bank.sessions.renew(&mut session).await;
                    session.state.customer = Some(Customer::from(done));
                }
                Err(error) => session.state.notice = Some(Notice::Error(login_failed(&error))),
            }
            bank.sessions.respond(&session, Redirect::to("/demo")).await
        }
        Pending::Transfer {
            session: signing,
            transfer,
        } => match bank.client.wait_v3(&signing).await {
            Ok(done) => {
                let details = transfer.details();
                let signed = SignableData::new(details.as_bytes(), HashType::Sha256);
                let who = &done.certificate.identity;
                session.state.receipt = Some(Receipt {
                    hash_hex: hex_of(signed.hash()),
                    details,
                    signer: format!("{} {}", who.given_name, who.surname),
                    document_number: done.document_number,
                    signature_bytes: done.signature.map_or(0, |s| s.len()),
                    at: OffsetDateTime::now_utc(),
                });
                bank.sessions
                    .respond(&session, Redirect::to("/demo/receipt"))
                    .await
            }
            Err(error) => {
                session.state.notice = Some(Notice::Error(format!(
                    "The transfer was not signed. {}",
                    explain(&error)
                )));
                bank.sessions.respond(&session, Redirect::to("/demo")).await
            }
        },
    }
}

fn login_failed(error: &RpError) -> String {
    format!("You are not logged in. {}", explain(error))
}

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

async fn transfer(State(bank): State<Bank>, headers: HeaderMap, fields: FormFields) -> Response {
    let (mut session, form) = match bank.sessions.posted(SITE, &headers, fields).await {
        Ok(posted) => posted,
        Err(expired) => return *expired,
    };
    let Some(customer) = session.state.customer.clone() else {
        return bank
            .sessions
            .back_to(HOME, session, Notice::Error("Please log in first.".into()))
            .await;
    };
    let transfer = match read_transfer(&form) {
        Ok(transfer) => transfer,
        Err(message) => {
            return bank
                .sessions
                .back_to(HOME, session, Notice::Error(message))
                .await;
        }
    };
    let started = bank
        .client
        .start_notification_signature(
            &Target::Document(customer.document_number.clone()),
            CertificateLevel::Qualified,
            SignableData::new(transfer.details().into_bytes(), HashType::Sha256),
            &[
                Interaction::ConfirmationMessage {
                    text: transfer.details(),
                },
                Interaction::DisplayTextAndPin {
                    text: transfer.short(),
                },
            ],
        )
        .await;
    match started {
        Ok(pending) => {
            session.state.pending = Some(Pending::Transfer {
                session: pending,
                transfer,
            });
            bank.sessions
                .respond(&session, Redirect::to("/demo/wait"))
                .await
        }
        Err(error) => {
            bank.sessions
                .back_to(
                    HOME,
                    session,
                    Notice::Error(format!(
                        "The transfer could not be sent for signing. {}",
                        explain(&error)
                    )),
                )
                .await
        }
    }
}

/// Reads and checks a transfer form; the message says what to fix.
fn read_transfer(form: &CsrfForm) -> Result<Transfer, String> {
    let recipient = form.field("recipient");
    if recipient.is_empty()
        || recipient.chars().count() > 40
        || recipient.chars().any(char::is_control)
    {
        return Err("Recipient: 1 to 40 characters.".into());
    }
    let iban = normalise_iban(form.field("iban"))
        .ok_or("Recipient's IBAN: that is not a valid IBAN (check the digits).")?;
    let cents = parse_amount(form.field("amount")).ok_or(
        "Amount: a positive number of euros with at most two decimals, up to 1,000,000.00.",
    )?;
    let description = form.field("description");
    if description.chars().count() > 60 || description.chars().any(char::is_control) {
        return Err("Description: at most 60 characters.".into());
    }
    Ok(Transfer {
        recipient: recipient.to_owned(),
        iban,
        amount: format!("{}.{:02}", cents / 100, cents % 100),
        description: description.to_owned(),
    })
}

/// An IBAN without spaces, upper case, if its ISO 13616 check digits are right.
fn normalise_iban(text: &str) -> Option<String> {
    let iban: String = text
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_uppercase();
    let bytes = iban.as_bytes();
    let shape_ok = (15..=34).contains(&bytes.len())
        && bytes[..2].iter().all(u8::is_ascii_uppercase)
        && bytes[2..4].iter().all(u8::is_ascii_digit)
        && bytes.iter().all(u8::is_ascii_alphanumeric);
    if !shape_ok {
        return None;
    }
    // Move the first four characters to the end, letters become 10..35, remainder mod 97 is 1.
    let remainder = bytes[4..].iter().chain(&bytes[..4]).fold(0u32, |acc, &b| {
        let value = if b.is_ascii_digit() {
            u32::from(b - b'0')
        } else {
            u32::from(b - b'A') + 10
        };
        if value >= 10 {
            (acc * 100 + value) % 97
        } else {
            (acc * 10 + value) % 97
        }
    });
    (remainder == 1).then_some(iban)
}

/// Euros as typed ("25", "25.5", "25,50") in cents, if positive and not too large.
fn parse_amount(text: &str) -> Option<u64> {
    let text = text.replace(',', ".");
    let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
    if whole.is_empty() || whole.len() > 7 || fraction.len() > 2 {
        return None;
    }
    if !whole
        .bytes()
        .chain(fraction.bytes())
        .all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let cents = whole.parse::<u64>().ok()? * 100 + format!("{fraction:0<2}").parse::<u64>().ok()?;
    (cents > 0 && cents <= LARGEST_TRANSFER_CENTS).then_some(cents)
}

async fn receipt(State(bank): State<Bank>, headers: HeaderMap) -> Response {
    let session = bank.sessions.load(&headers).await;
    let Some(receipt) = &session.state.receipt else {
        return bank.sessions.respond(&session, Redirect::to("/demo")).await;
    };
    let body = page(
        SITE,
        "Transfer signed",
        None,
        html! {
            p.notice.done role="status" {
                "Signature verified: made with " (receipt.signer) "'s SplitID signing key over these transfer details."
            }
            dl {
                dt { "Transfer" } dd { (receipt.details) }
                dt { "Signed by" } dd { (receipt.signer) " (" (receipt.document_number) ")" }
                dt { "SHA-256 of the details" } dd.hash { (receipt.hash_hex) }
                dt { "Signature" } dd { (receipt.signature_bytes) " bytes, RSA PKCS#1 v1.5" }
                dt { "Time" } dd { (format!("{} {:02}:{:02}:{:02} UTC", receipt.at.date(), receipt.at.hour(), receipt.at.minute(), receipt.at.second())) }
            }
            p { a href="/demo" { "Back to your account" } }
        },
    );
    bank.sessions.respond(&session, body).await
}

async fn logout(State(bank): State<Bank>, headers: HeaderMap, fields: FormFields) -> Response {
    bank.sessions.logout(SITE, HOME, &headers, fields).await
}

/// A short, human description of an end result or error, for the person at the screen.
fn explain(error: &splitid_rp::RpError) -> String {
    use splitid_rp::RpError;
    match error {
        RpError::UserRefused(_) => "You cancelled on your phone. Nothing was done.".into(),
        RpError::Timeout => "Your phone did not answer in time. Please try again.".into(),
        RpError::DocumentUnusable => {
            "Your SplitID account cannot be used right now (for example, the PIN is locked). Open the SplitID app to see why.".into()
        }
        RpError::WrongVerificationCode => {
            "The wrong verification code was chosen on the phone. Nothing was done; please try again.".into()
        }
        RpError::RequiredInteractionNotSupported => {
            "Your SplitID app is too old for this. Please update it.".into()
        }
        RpError::AccountNotFound => "There is no SplitID account for this person.".into(),
        RpError::NoSuitableAccount => {
            "Your SplitID account is not of the level this service needs.".into()
        }
        other => format!("The login could not be completed: {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ibans_are_checked_by_their_check_digits() {
        assert_eq!(
            normalise_iban("ee38 2200 2210 2014 5685").as_deref(),
            Some("EE382200221020145685")
        );
        assert_eq!(
            normalise_iban("GB82WEST12345698765432").as_deref(),
            Some("GB82WEST12345698765432")
        );
        assert_eq!(normalise_iban("EE382200221020145684"), None, "wrong check");
        assert_eq!(normalise_iban("EE38"), None, "too short");
        assert_eq!(normalise_iban("EE38 2200 2210 2014 568!"), None);
    }

    #[test]
    fn amounts_are_positive_euros_with_two_decimals_at_most() {
        assert_eq!(parse_amount("25"), Some(2500));
        assert_eq!(parse_amount("25.5"), Some(2550));
        assert_eq!(parse_amount("0,01"), Some(1));
        assert_eq!(parse_amount("1000000.00"), Some(100_000_000));
        for bad in [
            "",
            "0",
            "0.00",
            "-5",
            "1.234",
            "1e3",
            "1000000.01",
            "abc",
            ".",
        ] {
            assert_eq!(parse_amount(bad), None, "{bad:?}");
        }
    }
}
