//! RP API v2 handlers (docs/spec/rp-api.md §1): translate HTTP to service calls and back.

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{OriginalUri, State};
use axum::http::Method;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use splitid_proto::identifiers::{DocumentNumber, SemanticsIdentifier};
use splitid_proto::rp_v2::{
    CertificateChoiceBody, CertificateLevel, MAX_TIMEOUT_MS, MIN_TIMEOUT_MS, RelyingPartyClaim,
    SessionCreated, SessionStatus, SigningBody, SigningPurpose,
};
use uuid::Uuid;

use super::{Body, ClientIp, PathParam, QueryParams, ip_allowed, parse_json};
use crate::Service;
use crate::error::{ServiceError, ServiceResult};
use crate::sessions::Target;
use crate::store::{RelyingPartyRecord, SessionRecord};

/// Long poll when the relying party gives no `timeoutMs`: half way between the bounds.
const DEFAULT_TIMEOUT_MS: u64 = 60_500;

pub fn router() -> Router<Service> {
    Router::new()
        .route("/authentication/etsi/{id}", post(authentication_by_person))
        .route(
            "/authentication/document/{id}",
            post(authentication_by_document),
        )
        .route("/signature/etsi/{id}", post(signature_by_person))
        .route("/signature/document/{id}", post(signature_by_document))
        .route(
            "/certificatechoice/etsi/{id}",
            post(certificate_choice_by_person),
        )
        .route(
            "/certificatechoice/document/{id}",
            post(certificate_choice_by_document),
        )
        .route("/session/{id}", get(session_status))
        .route("/openapi.json", get(openapi))
        .fallback(no_such_endpoint)
        .method_not_allowed_fallback(wrong_method)
}

/// Unknown paths (an empty identifier, say) get a JSON 404 like every other refusal.
async fn no_such_endpoint(OriginalUri(uri): OriginalUri) -> ServiceError {
    ServiceError::NotFound(format!("no such endpoint: {}", uri.path()))
}

async fn wrong_method(method: Method, OriginalUri(uri): OriginalUri) -> ServiceError {
    ServiceError::MethodNotAllowed(format!("{method} is not allowed on {}", uri.path()))
}

fn person(id: &str) -> ServiceResult<Target> {
    let person: SemanticsIdentifier = id
        .parse()
        .map_err(|e| ServiceError::BadRequest(format!("semantics identifier in the path: {e}")))?;
    Ok(Target::Person(person.to_string()))
}

fn document(id: &str) -> ServiceResult<Target> {
    let document: DocumentNumber = id
        .parse()
        .map_err(|e| ServiceError::BadRequest(format!("document number in the path: {e}")))?;
    Ok(Target::Document(document.to_string()))
}

async fn authentication_by_person(
    state: State<Service>,
    ip: ClientIp,
    PathParam(id): PathParam,
    Body(body): Body,
) -> ServiceResult<Json<SessionCreated>> {
    signing(
        state,
        ip,
        person(&id)?,
        SigningPurpose::Authentication,
        body,
    )
    .await
}

async fn authentication_by_document(
    state: State<Service>,
    ip: ClientIp,
    PathParam(id): PathParam,
    Body(body): Body,
) -> ServiceResult<Json<SessionCreated>> {
    signing(
        state,
        ip,
        document(&id)?,
        SigningPurpose::Authentication,
        body,
    )
    .await
}

async fn signature_by_person(
    state: State<Service>,
    ip: ClientIp,
    PathParam(id): PathParam,
    Body(body): Body,
) -> ServiceResult<Json<SessionCreated>> {
    signing(state, ip, person(&id)?, SigningPurpose::Signature, body).await
}

async fn signature_by_document(
    state: State<Service>,
    ip: ClientIp,
    PathParam(id): PathParam,
    Body(body): Body,
) -> ServiceResult<Json<SessionCreated>> {
    signing(state, ip, document(&id)?, SigningPurpose::Signature, body).await
}

async fn certificate_choice_by_person(
    state: State<Service>,
    ip: ClientIp,
    PathParam(id): PathParam,
    Body(body): Body,
) -> ServiceResult<Json<SessionCreated>> {
    certificate_choice(state, ip, person(&id)?, body).await
}

async fn certificate_choice_by_document(
    state: State<Service>,
    ip: ClientIp,
    PathParam(id): PathParam,
    Body(body): Body,
) -> ServiceResult<Json<SessionCreated>> {
    certificate_choice(state, ip, document(&id)?, body).await
}

async fn signing(
    State(service): State<Service>,
    ClientIp(ip): ClientIp,
    target: Target,
    purpose: SigningPurpose,
    body: Bytes,
) -> ServiceResult<Json<SessionCreated>> {
    let request = parse_json::<SigningBody>(&body)?.validate(purpose)?;
    let rp = authorize(
        &service,
        &request.relying_party,
        ip,
        request.options.certificate_level,
    )
    .await?;
    created(
        service
            .start_signing_session(rp.uuid, target, request)
            .await?,
    )
}

async fn certificate_choice(
    State(service): State<Service>,
    ClientIp(ip): ClientIp,
    target: Target,
    body: Bytes,
) -> ServiceResult<Json<SessionCreated>> {
    let request = parse_json::<CertificateChoiceBody>(&body)?.validate()?;
    let rp = authorize(
        &service,
        &request.relying_party,
        ip,
        request.options.certificate_level,
    )
    .await?;
    created(
        service
            .start_certificate_choice(rp.uuid, target, request)
            .await?,
    )
}

/// `{"sessionID": …}`, the answer to every session start.
fn created(session: Uuid) -> ServiceResult<Json<SessionCreated>> {
    Ok(Json(SessionCreated {
        session_id: session.to_string(),
    }))
}

/// 401 unless the UUID is registered and enabled, the name is one of its names
/// (case-insensitively) and the caller's address is in its ranges; 403 for a level it may not
/// ask for.
async fn authorize(
    service: &Service,
    claim: &RelyingPartyClaim,
    ip: Option<std::net::IpAddr>,
    level: CertificateLevel,
) -> ServiceResult<RelyingPartyRecord> {
    let unauthorized = || {
        ServiceError::Unauthorized("relyingPartyUUID, relyingPartyName and source address do not match a registered relying party".into())
    };
    let rp = service
        .store()
        .relying_party(claim.uuid)
        .await?
        .filter(|rp| rp.enabled)
        .ok_or_else(unauthorized)?;
    let name_known = rp
        .names
        .iter()
        .any(|name| name.to_lowercase() == claim.name.to_lowercase());
    if !name_known || !ip_allowed(ip, &rp.ip_ranges) {
        return Err(unauthorized());
    }
    if !rp.allowed_levels.contains(&level) {
        return Err(ServiceError::Forbidden(format!(
            "this relying party may not request {} accounts",
            level.api_name()
        )));
    }
    Ok(rp)
}

/// The machine-readable description of this API (OpenAPI 3.1), kept next to the code.
const OPENAPI: &str = include_str!("../../api/rp-v2.openapi.json");

async fn openapi() -> impl axum::response::IntoResponse {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        OPENAPI,
    )
}

#[derive(Debug, Deserialize)]
struct StatusQuery {
    #[serde(rename = "timeoutMs")]
    timeout_ms: Option<String>,
}

async fn session_status(
    State(service): State<Service>,
    ClientIp(ip): ClientIp,
    PathParam(id): PathParam,
    QueryParams(query): QueryParams<StatusQuery>,
) -> ServiceResult<Json<SessionStatus>> {
    let timeout = parse_timeout(query.timeout_ms.as_deref())?;
    let not_found = || ServiceError::NotFound(format!("no session {id}"));
    let session_id = Uuid::parse_str(&id).map_err(|_| not_found())?;
    // v2 identifies the caller of a status request by its address only: a session is visible
    // to the relying party that started it (its registered address ranges, when it has some).
    let caller_may_see = |session: &SessionRecord| {
        let (service, rp_uuid) = (service.clone(), session.rp_uuid);
        async move {
            let rp = service
                .store()
                .relying_party(rp_uuid)
                .await?
                .ok_or_else(not_found)?;
            if ip_allowed(ip, &rp.ip_ranges) {
                Ok(())
            } else {
                Err(not_found())
            }
        }
    };
    Ok(Json(
        service
            .await_session(session_id, timeout, caller_may_see)
            .await?,
    ))
}

fn parse_timeout(text: Option<&str>) -> ServiceResult<Duration> {
    let millis = match text {
        None => DEFAULT_TIMEOUT_MS,
        Some(text) => text
            .parse::<u64>()
            .ok()
            .filter(|ms| (MIN_TIMEOUT_MS..=MAX_TIMEOUT_MS).contains(ms))
            .ok_or_else(|| {
                ServiceError::BadRequest(format!(
                    "timeoutMs: must be a whole number from {MIN_TIMEOUT_MS} to {MAX_TIMEOUT_MS}"
                ))
            })?,
    };
    Ok(Duration::from_millis(millis))
}
