//! RP API v2 handlers (docs/spec/rp-api.md §1): translate HTTP to service calls and back.

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{OriginalUri, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::Deserialize;
use splitid_proto::identifiers::{DocumentNumber, SemanticsIdentifier};
use splitid_proto::rp_v2::{
    self as wire, CertificateChoiceBody, CertificateLevel, HashType, InteractionType,
    MAX_TIMEOUT_MS, MIN_TIMEOUT_MS, RelyingPartyClaim, SessionCertificate, SessionCreated,
    SessionResult, SessionSignature, SessionState, SessionStatus, SigningBody, SigningPurpose,
};
use uuid::Uuid;

use super::{Body, ClientIp, PathParam, QueryParams, parse_json};
use crate::error::HttpError;
use splitid_domain::Service;
use splitid_domain::error::ServiceError;
use splitid_domain::model::{DigestAlgorithm, SignatureAlgorithm};
use splitid_domain::sessions::{
    CertificateChoiceRequest, EndResult, Interaction, InteractionKind, Level, Outcome, Progress,
    SignatureProtocol, SigningRequest, Target,
};
use splitid_domain::store::RelyingPartyRecord;
use splitid_domain::store::SessionKind;

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
async fn no_such_endpoint(OriginalUri(uri): OriginalUri) -> V2Error {
    ServiceError::NotFound(format!("no such endpoint: {}", uri.path())).into()
}

async fn wrong_method(method: Method, OriginalUri(uri): OriginalUri) -> V2Error {
    HttpError::MethodNotAllowed(format!("{method} is not allowed on {}", uri.path())).into()
}

/// A refusal as RP API v2 answers it: `{type, title, status, detail}`, with Smart-ID's 471
/// for a person who has accounts but none of the requested level.
#[derive(Debug)]
pub struct V2Error(HttpError);

type V2Result<T> = Result<T, V2Error>;

impl From<HttpError> for V2Error {
    fn from(error: HttpError) -> Self {
        V2Error(error)
    }
}

impl From<ServiceError> for V2Error {
    fn from(error: ServiceError) -> Self {
        V2Error(HttpError::Service(error))
    }
}

impl From<wire::RequestError> for V2Error {
    fn from(error: wire::RequestError) -> Self {
        ServiceError::Invalid(error.to_string()).into()
    }
}

/// Smart-ID's status for "no suitable account of requested type found".
const NO_SUITABLE_ACCOUNT: u16 = 471;

impl IntoResponse for V2Error {
    fn into_response(self) -> Response {
        let (status, title) = match &self.0 {
            HttpError::Service(ServiceError::NoSuitableAccount(_)) => (
                StatusCode::from_u16(NO_SUITABLE_ACCOUNT).expect("471 is a status code"),
                "No suitable account of requested type found",
            ),
            other => {
                let status = other.status();
                (status, status.canonical_reason().unwrap_or_default())
            }
        };
        let body = wire::ErrorBody::new(status.as_u16(), title, self.0.detail());
        (status, Json(body)).into_response()
    }
}

fn person(id: &str) -> V2Result<Target> {
    let person: SemanticsIdentifier = id
        .parse()
        .map_err(|e| ServiceError::Invalid(format!("semantics identifier in the path: {e}")))?;
    Ok(Target::Person(person.to_string()))
}

fn document(id: &str) -> V2Result<Target> {
    let document: DocumentNumber = id
        .parse()
        .map_err(|e| ServiceError::Invalid(format!("document number in the path: {e}")))?;
    Ok(Target::Document(document.to_string()))
}

async fn authentication_by_person(
    state: State<Service>,
    ip: ClientIp,
    PathParam(id): PathParam,
    Body(body): Body,
) -> V2Result<Json<SessionCreated>> {
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
) -> V2Result<Json<SessionCreated>> {
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
) -> V2Result<Json<SessionCreated>> {
    signing(state, ip, person(&id)?, SigningPurpose::Signature, body).await
}

async fn signature_by_document(
    state: State<Service>,
    ip: ClientIp,
    PathParam(id): PathParam,
    Body(body): Body,
) -> V2Result<Json<SessionCreated>> {
    signing(state, ip, document(&id)?, SigningPurpose::Signature, body).await
}

async fn certificate_choice_by_person(
    state: State<Service>,
    ip: ClientIp,
    PathParam(id): PathParam,
    Body(body): Body,
) -> V2Result<Json<SessionCreated>> {
    certificate_choice(state, ip, person(&id)?, body).await
}

async fn certificate_choice_by_document(
    state: State<Service>,
    ip: ClientIp,
    PathParam(id): PathParam,
    Body(body): Body,
) -> V2Result<Json<SessionCreated>> {
    certificate_choice(state, ip, document(&id)?, body).await
}

async fn signing(
    State(service): State<Service>,
    ClientIp(ip): ClientIp,
    target: Target,
    purpose: SigningPurpose,
    body: Bytes,
) -> V2Result<Json<SessionCreated>> {
    let request = parse_json::<SigningBody>(&body)?.validate(purpose)?;
    let rp = authorize(&service, &request.relying_party, ip, &request.options).await?;
    created(
        service
            .start_signing_session(rp.uuid, target, signing_request(request))
            .await?,
    )
}

async fn certificate_choice(
    State(service): State<Service>,
    ClientIp(ip): ClientIp,
    target: Target,
    body: Bytes,
) -> V2Result<Json<SessionCreated>> {
    let request = parse_json::<CertificateChoiceBody>(&body)?.validate()?;
    let rp = authorize(&service, &request.relying_party, ip, &request.options).await?;
    let request = CertificateChoiceRequest {
        relying_party_name: request.relying_party.name,
        level: level(request.options.certificate_level),
        nonce: request.options.nonce,
        ignored_properties: request.options.ignored_properties,
    };
    created(
        service
            .start_certificate_choice(rp.uuid, target, request)
            .await?,
    )
}

/// `{"sessionID": …}`, the answer to every session start.
fn created(session: Uuid) -> V2Result<Json<SessionCreated>> {
    Ok(Json(SessionCreated {
        session_id: session.to_string(),
    }))
}

/// The relying party the request claims to be, if the claim holds.
async fn authorize(
    service: &Service,
    claim: &RelyingPartyClaim,
    ip: Option<std::net::IpAddr>,
    options: &wire::RequestOptions,
) -> V2Result<RelyingPartyRecord> {
    let level = level(options.certificate_level);
    Ok(service
        .authorize_relying_party(claim.uuid, &claim.name, ip, level)
        .await?)
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
) -> V2Result<Json<SessionStatus>> {
    let timeout = parse_timeout(query.timeout_ms.as_deref())?;
    let session_id =
        Uuid::parse_str(&id).map_err(|_| ServiceError::NotFound(format!("no session {id}")))?;
    let progress = service.session_status_from(session_id, ip, timeout).await?;
    Ok(Json(status(progress)))
}

fn parse_timeout(text: Option<&str>) -> V2Result<Duration> {
    let millis = match text {
        None => DEFAULT_TIMEOUT_MS,
        Some(text) => text
            .parse::<u64>()
            .ok()
            .filter(|ms| (MIN_TIMEOUT_MS..=MAX_TIMEOUT_MS).contains(ms))
            .ok_or_else(|| {
                ServiceError::Invalid(format!(
                    "timeoutMs: must be a whole number from {MIN_TIMEOUT_MS} to {MAX_TIMEOUT_MS}"
                ))
            })?,
    };
    Ok(Duration::from_millis(millis))
}

/// A v2 signing request in the domain's words.
fn signing_request(request: wire::SigningRequest) -> SigningRequest {
    SigningRequest {
        kind: match request.purpose {
            SigningPurpose::Authentication => SessionKind::Authentication,
            SigningPurpose::Signature => SessionKind::Signature,
        },
        relying_party_name: request.relying_party.name,
        level: level(request.options.certificate_level),
        protocol: SignatureProtocol::Pkcs1V15Digest {
            digest_algorithm: digest_algorithm(request.hash_type),
            digest: request.hash,
        },
        interactions: request
            .interactions
            .iter()
            .map(|interaction| Interaction {
                kind: interaction_kind(InteractionType::of(interaction)),
                text: interaction.text().to_owned(),
            })
            .collect(),
        nonce: request.options.nonce,
        ignored_properties: request.options.ignored_properties,
    }
}

fn level(level: CertificateLevel) -> Level {
    match level {
        CertificateLevel::Advanced => Level::Advanced,
        CertificateLevel::Qualified => Level::Qualified,
        CertificateLevel::Qscd => Level::Qscd,
    }
}

fn certificate_level(level: Level) -> CertificateLevel {
    match level {
        Level::Advanced => CertificateLevel::Advanced,
        Level::Qualified => CertificateLevel::Qualified,
        Level::Qscd => CertificateLevel::Qscd,
    }
}

fn digest_algorithm(hash_type: HashType) -> DigestAlgorithm {
    match hash_type {
        HashType::Sha256 => DigestAlgorithm::Sha256,
        HashType::Sha384 => DigestAlgorithm::Sha384,
        HashType::Sha512 => DigestAlgorithm::Sha512,
    }
}

fn interaction_kind(kind: InteractionType) -> InteractionKind {
    match kind {
        InteractionType::DisplayTextAndPin => InteractionKind::DisplayTextAndPin,
        InteractionType::VerificationCodeChoice => InteractionKind::VerificationCodeChoice,
        InteractionType::ConfirmationMessage => InteractionKind::ConfirmationMessage,
        InteractionType::ConfirmationMessageAndVerificationCodeChoice => {
            InteractionKind::ConfirmationMessageAndVerificationCodeChoice
        }
    }
}

fn end_result(end: EndResult) -> wire::EndResult {
    match end {
        EndResult::Ok => wire::EndResult::Ok,
        EndResult::UserRefused => wire::EndResult::UserRefused,
        EndResult::Timeout => wire::EndResult::Timeout,
        EndResult::DocumentUnusable => wire::EndResult::DocumentUnusable,
        EndResult::WrongVc => wire::EndResult::WrongVc,
        EndResult::RequiredInteractionNotSupportedByApp => {
            wire::EndResult::RequiredInteractionNotSupportedByApp
        }
        EndResult::UserRefusedCertChoice => wire::EndResult::UserRefusedCertChoice,
        EndResult::UserRefusedDisplaytextandpin => wire::EndResult::UserRefusedDisplaytextandpin,
        EndResult::UserRefusedVcChoice => wire::EndResult::UserRefusedVcChoice,
        EndResult::UserRefusedConfirmationmessage => {
            wire::EndResult::UserRefusedConfirmationmessage
        }
        EndResult::UserRefusedConfirmationmessageWithVcChoice => {
            wire::EndResult::UserRefusedConfirmationmessageWithVcChoice
        }
    }
}

fn signature_algorithm(algorithm: SignatureAlgorithm) -> &'static str {
    match algorithm {
        SignatureAlgorithm::RsaPkcs1V15(DigestAlgorithm::Sha256) => "sha256WithRSAEncryption",
        SignatureAlgorithm::RsaPkcs1V15(DigestAlgorithm::Sha384) => "sha384WithRSAEncryption",
        SignatureAlgorithm::RsaPkcs1V15(DigestAlgorithm::Sha512) => "sha512WithRSAEncryption",
    }
}

/// A session's progress as v2 reports it. Only a successful session reports the ignored
/// request properties (as Smart-ID does).
fn status(progress: Progress) -> SessionStatus {
    let Progress::Complete(outcome) = progress else {
        return SessionStatus::running();
    };
    let Outcome {
        end_result: end,
        document_number,
        signature,
        certificate,
        interaction_used,
        ignored_properties,
    } = outcome;
    SessionStatus {
        state: SessionState::Complete,
        result: Some(SessionResult {
            end_result: end_result(end),
            document_number,
        }),
        signature: signature.map(|signature| SessionSignature {
            value: BASE64.encode(&signature.value),
            algorithm: signature_algorithm(signature.algorithm).to_owned(),
        }),
        cert: certificate.map(|certificate| SessionCertificate {
            value: BASE64.encode(&certificate.der),
            certificate_level: certificate_level(certificate.level),
        }),
        interaction_flow_used: interaction_used.map(|kind| kind.name().to_owned()),
        ignored_properties: (end == EndResult::Ok).then_some(ignored_properties),
        device_ip_address: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The domain's names and v2's coincide today; the translation must keep them so.
    #[test]
    fn every_domain_name_renders_as_v2_names_it() {
        for &end in EndResult::ALL {
            assert_eq!(end_result(end).to_string(), end.name());
        }
        for kind in InteractionType::ALL {
            assert_eq!(interaction_kind(kind).name(), kind.api_name());
        }
        for level in Level::ALL {
            assert_eq!(certificate_level(level).api_name(), level.name());
            assert_eq!(self::level(certificate_level(level)), level);
        }
    }
}
