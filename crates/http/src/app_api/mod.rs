//! The app API (docs/app-api.md): registration, pending transactions, confirm, refuse,
//! account status, delete. Handlers translate HTTP; the domain's app channel authenticates.

mod events;

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{FromRequestParts, OriginalUri, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{Method, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use splitid_proto::app_v1::{
    AccountStatus, Confirmation, DeviceLinkClaim, PendingTransaction, PendingTransactions,
    ProofingChallenge, ProofingMethods, PushKey, PushSubscription, Refusal, RegisteredAccount,
    RegistrationChallenge, RegistrationProof, RegistrationRequest, ServerKeyDocument, Vouch,
    VouchSession, VouchSessionRequest, VouchState, headers,
};

pub use splitid_domain::app_channel::Ratcheted;
use splitid_domain::app_channel::{AppCredentials, AppRequest, ChannelMove};

use crate::error::{HttpError, HttpResult};
use crate::rp_api::{ClientIp, parse_json};
use splitid_domain::Service;
use splitid_domain::accounts::pin_policy::pin_status;
use splitid_domain::accounts::rfc3339;
use splitid_domain::error::ServiceResult;
use splitid_domain::store::{KeyPurpose, Serialised};

/// Longest a device's long poll for transactions may wait.
const MAX_WAIT_MS: u64 = 60_000;

pub fn router() -> Router<Service> {
    Router::new()
        .route("/server-key", get(server_key))
        .route("/push-key", get(push_key))
        .route("/proofing-methods", get(proofing_methods))
        .route("/proofing-challenges", post(proofing_challenge))
        .route("/proofing-challenges/{id}", get(vouch_state))
        .route(
            "/proofing-challenges/{id}/vouch-session",
            post(vouch_session),
        )
        .route("/registrations", post(begin_registration))
        .route("/registrations/{id}/complete", post(complete_registration))
        .route(
            "/accounts/{account}",
            get(account_status).delete(delete_account),
        )
        .route(
            "/accounts/{account}/transactions",
            get(pending_transactions),
        )
        .route("/accounts/{account}/events", get(events))
        .route(
            "/accounts/{account}/push-subscription",
            put(subscribe_push).delete(unsubscribe_push),
        )
        .route("/accounts/{account}/vouch", post(vouch))
        .route("/accounts/{account}/device-links", post(claim_device_link))
        .route(
            "/accounts/{account}/transactions/{transaction}/{action}",
            post(answer),
        )
}

/// `GET /server-key`: the channel key apps seal their secrets to, with its rotations.
async fn server_key(State(service): State<Service>) -> HttpResult<Json<ServerKeyDocument>> {
    Ok(Json(service.channel_key_document().await?))
}

/// `GET /push-key`: the key browsers make push subscriptions with (the VAPID public key).
async fn push_key(State(service): State<Service>) -> HttpResult<Json<PushKey>> {
    Ok(Json(PushKey {
        application_server_key: service.push_key()?,
    }))
}

/// `PUT /accounts/{id}/push-subscription`: where to tell this device of transactions. Outside
/// the ratchet (it sets a value: a retry with a fresh nonce sets the same one); a replay of the
/// same request is refused by its nonce like any authenticated request's.
async fn subscribe_push(
    State(service): State<Service>,
    Path(account): Path<String>,
    signed: Signed,
    body: Bytes,
) -> HttpResult<axum::http::StatusCode> {
    let request = service
        .authenticate_app(signed.request(&account, &body), false)
        .await?;
    let subscription: PushSubscription = parse_json(&body)?;
    service
        .subscribe_push(&request.account, &subscription)
        .await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// `DELETE /accounts/{id}/push-subscription`: no more notifications to this device.
async fn unsubscribe_push(
    State(service): State<Service>,
    Path(account): Path<String>,
    signed: Signed,
) -> HttpResult<axum::http::StatusCode> {
    let request = service
        .authenticate_app(signed.request(&account, &[]), false)
        .await?;
    service.unsubscribe_push(&request.account).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// `POST /accounts/{id}/device-links`: the phone presents a device link; the session it
/// opens becomes this account's transaction. Outside the ratchet (no secret moves; the link
/// opens once, and a replayed request is refused by its nonce).
async fn claim_device_link(
    State(service): State<Service>,
    Path(account): Path<String>,
    signed: Signed,
    body: Bytes,
) -> HttpResult<Json<PendingTransaction>> {
    let request = service
        .authenticate_app(signed.request(&account, &body), false)
        .await?;
    let claim: DeviceLinkClaim = parse_json(&body)?;
    Ok(Json(
        service
            .claim_device_link(&request.account, &claim.link)
            .await?,
    ))
}

/// `GET /proofing-methods`: what an app may offer for registration here.
async fn proofing_methods(State(service): State<Service>) -> Json<ProofingMethods> {
    Json(service.proofing_methods())
}

async fn proofing_challenge(State(service): State<Service>) -> HttpResult<Json<ProofingChallenge>> {
    Ok(Json(service.issue_proofing_challenge().await?))
}

/// `POST /proofing-challenges/{id}/vouch-session`: a vouching login on another device.
async fn vouch_session(
    State(service): State<Service>,
    Path(id): Path<String>,
    body: Bytes,
) -> HttpResult<Json<VouchSession>> {
    let request: VouchSessionRequest = parse_json(&body)?;
    Ok(Json(service.start_vouch_session(&id, request).await?))
}

/// `GET /proofing-challenges/{id}?waitMs=`: whether an account vouched for it yet.
async fn vouch_state(
    State(service): State<Service>,
    Path(id): Path<String>,
    Query(query): Query<WaitQuery>,
) -> HttpResult<Json<VouchState>> {
    let wait = Duration::from_millis(query.wait_ms.unwrap_or(0).min(MAX_WAIT_MS));
    Ok(Json(service.vouch_state(&id, wait).await?))
}

/// `POST /accounts/{id}/vouch` (ratcheted): the account's PIN1 login vouches for a proofing
/// challenge, so that a new registration inherits its identity.
async fn vouch(
    State(service): State<Service>,
    Path(account): Path<String>,
    signed: Signed,
    body: Bytes,
) -> HttpResult<Response> {
    let authenticated = service
        .authenticate_app(signed.request(&account, &body), true)
        .await?;
    let parsed: Vouch = parse_json(&body)?;
    let response = service
        .ratcheted(authenticated, |account, serialised, _| {
            let service = service.clone();
            async move { service.vouch(&account, serialised, parsed).await }
        })
        .await?;
    Ok(json_bytes(response))
}

async fn begin_registration(
    State(service): State<Service>,
    body: Bytes,
) -> HttpResult<Json<RegistrationChallenge>> {
    let request: RegistrationRequest = parse_json(&body)?;
    Ok(Json(service.begin_registration(request).await?))
}

async fn complete_registration(
    State(service): State<Service>,
    Path(id): Path<String>,
    body: Bytes,
) -> HttpResult<Json<RegisteredAccount>> {
    let proof: RegistrationProof = parse_json(&body)?;
    Ok(Json(service.complete_registration(&id, proof).await?))
}

async fn account_status(
    State(service): State<Service>,
    Path(account): Path<String>,
    signed: Signed,
) -> HttpResult<Json<AccountStatus>> {
    let request = service
        .authenticate_app(signed.request(&account, &[]), false)
        .await?;
    let account = request.account;
    let pin1 = service.pin_state(&service.key(account.id, KeyPurpose::Authentication).await?);
    let pin2 = service.pin_state(&service.key(account.id, KeyPurpose::Signing).await?);
    Ok(Json(AccountStatus {
        document_number: account.document_number.clone(),
        state: account.state.as_str().to_owned(),
        closed_reason: account.closed_reason.clone(),
        expires_at: rfc3339(account.expires_at),
        days_left: Some(days_left(account.expires_at - service.now())),
        pin1: pin_status(pin1),
        pin2: pin_status(pin2),
    }))
}

/// Days left, rounded up: a few hours left is "1 day", nothing left is 0 (expired).
fn days_left(remaining: time::Duration) -> i64 {
    let whole = remaining.whole_days();
    if remaining > time::Duration::days(whole) {
        whole + 1
    } else {
        whole
    }
}

#[derive(Debug, Deserialize)]
struct WaitQuery {
    #[serde(rename = "waitMs")]
    wait_ms: Option<u64>,
}

async fn pending_transactions(
    State(service): State<Service>,
    Path(account): Path<String>,
    Query(query): Query<WaitQuery>,
    signed: Signed,
) -> HttpResult<Json<PendingTransactions>> {
    let request = service
        .authenticate_app(signed.request(&account, &[]), false)
        .await?;
    let wait = Duration::from_millis(query.wait_ms.unwrap_or(0).min(MAX_WAIT_MS));
    let account = request.account;
    let transactions = if account.is_usable(service.now()) {
        service.pending_transactions(&account, wait).await?
    } else {
        Vec::new()
    };
    Ok(Json(PendingTransactions { transactions }))
}

/// The push channel (server-sent events).
async fn events(
    State(service): State<Service>,
    Path(account): Path<String>,
    signed: Signed,
) -> HttpResult<Response> {
    let request = service
        .authenticate_app(signed.request(&account, &[]), false)
        .await?;
    if !request.account.is_usable(service.now()) {
        return Err(HttpError::from(
            splitid_domain::error::ServiceError::Conflict(
                "this account is closed or expired".into(),
            ),
        ));
    }
    Ok(events::stream_for(service, request.account).into_response())
}

/// `POST …/transactions/{id}/confirm` or `…/refuse`: the device's answer.
async fn answer(
    State(service): State<Service>,
    ClientIp(device_ip): ClientIp,
    Path((account, transaction, action)): Path<(String, String, String)>,
    signed: Signed,
    body: Bytes,
) -> HttpResult<Response> {
    let request = TransactionRequest {
        account,
        transaction,
        signed,
        body,
    };
    match action.as_str() {
        "confirm" => {
            answer_transaction(
                service,
                request,
                |service,
                 account,
                 serialised,
                 channel: ChannelMove,
                 transaction,
                 confirmation: Confirmation| async move {
                    service
                        .confirm_transaction(
                            &account,
                            serialised,
                            &transaction,
                            confirmation,
                            device_ip,
                            |outcome| channel.carrying(outcome),
                        )
                        .await
                },
            )
            .await
        }
        "refuse" => {
            answer_transaction(
                service,
                request,
                |service, account, _, _, transaction, refusal: Refusal| async move {
                    service
                        .refuse_transaction(&account, &transaction, refusal)
                        .await
                },
            )
            .await
        }
        other => Err(HttpError::from(
            splitid_domain::error::ServiceError::NotFound(format!(
                "no transaction action {other:?} (confirm or refuse)"
            )),
        )),
    }
}

/// A device's answer to one transaction, as received.
struct TransactionRequest {
    account: String,
    transaction: String,
    signed: Signed,
    body: Bytes,
}

/// Authenticates a ratcheted answer to a transaction, parses its body and runs `answer`
/// under the ratchet.
async fn answer_transaction<B, F, Fut>(
    service: Service,
    request: TransactionRequest,
    answer: F,
) -> HttpResult<Response>
where
    B: serde::de::DeserializeOwned,
    F: FnOnce(
        Service,
        splitid_domain::store::AccountRecord,
        Serialised,
        ChannelMove,
        String,
        B,
    ) -> Fut,
    Fut: std::future::Future<Output = ServiceResult<splitid_proto::app_v1::TransactionOutcome>>,
{
    let authenticated = service
        .authenticate_app(
            request.signed.request(&request.account, &request.body),
            true,
        )
        .await?;
    let parsed: B = parse_json(&request.body)?;
    let transaction = request.transaction;
    let response = service
        .ratcheted(authenticated, |account, serialised, channel| {
            answer(
                service.clone(),
                account,
                serialised,
                channel,
                transaction,
                parsed,
            )
        })
        .await?;
    Ok(json_bytes(response))
}

async fn delete_account(
    State(service): State<Service>,
    Path(account): Path<String>,
    signed: Signed,
) -> HttpResult<Response> {
    let request = service
        .authenticate_app(signed.request(&account, &[]), true)
        .await?;
    let response = service
        .ratcheted(request, |account, _, _| {
            let service = service.clone();
            async move {
                service
                    .close_account(account.id, splitid_domain::closing::Closure::Deleted, None)
                    .await?;
                tracing::info!(account = %account.id, "account deleted from the app");
                Ok(serde_json::json!({ "deleted": account.document_number }))
            }
        })
        .await?;
    Ok(json_bytes(response))
}

fn json_bytes(body: Vec<u8>) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// What an app's request is signed with: its method and path (which the MAC covers) and the
/// channel's headers, read without judging them (the channel does).
struct Signed {
    method: Method,
    path: String,
    credentials: AppCredentials,
}

impl Signed {
    fn request<'a>(&'a self, account_in_path: &'a str, body: &'a [u8]) -> AppRequest<'a> {
        AppRequest {
            account_in_path,
            method: self.method.as_str(),
            path: &self.path,
            credentials: &self.credentials,
            body,
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Signed {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let header = |name: &str| {
            parts
                .headers
                .get(name)
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned)
        };
        let credentials = AppCredentials {
            account: header(headers::ACCOUNT),
            timestamp: header(headers::TIMESTAMP),
            nonce: header(headers::NONCE),
            ratchet: header(headers::RATCHET),
            mac: header(headers::MAC),
        };
        // The path as sent, as the app signed it (a nested router's own `uri` lacks its prefix).
        let path = parts
            .extensions
            .get::<OriginalUri>()
            .map_or_else(|| parts.uri.path(), |original| original.path())
            .to_owned();
        Ok(Signed {
            method: parts.method.clone(),
            path,
            credentials,
        })
    }
}
