//! RP API v2 handlers (docs/spec/rp-api.md §1): translate HTTP to service calls and back.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use splitid_proto::rp_v2::{
    self as wire, CertificateChoiceBody, HashType, SessionCertificate, SessionCreated,
    SessionResult, SessionSignature, SessionState, SessionStatus, SigningBody, SigningPurpose,
};
use uuid::Uuid;

use super::{
    Body, ClientIp, PathParam, QueryParams, StatusQuery, authorize, certificate_level, document,
    interactions, level, no_such_endpoint, parse_json, person, poll, wire_algorithm, wrong_method,
};
use crate::error::HttpError;
use splitid_domain::Service;
use splitid_domain::error::ServiceError;
use splitid_domain::model::DigestAlgorithm;
use splitid_domain::sessions::{
    CertificateChoiceRequest, CodeRule, EndResult, Outcome, Progress, SignatureProtocol,
    SigningRequest, Target,
};
use splitid_domain::store::SessionKind;

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
        .fallback(no_such_endpoint::<V2Error>)
        .method_not_allowed_fallback(wrong_method::<V2Error>)
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
    let mut request = parse_json::<SigningBody>(&body)?.validate(purpose)?;
    let rp = authorize(&service, &request.relying_party, ip, &mut request.options).await?;
    created(
        service
            .start_signing_session(rp.uuid, target, signing_request(request))
            .await?
            .id,
    )
}

async fn certificate_choice(
    State(service): State<Service>,
    ClientIp(ip): ClientIp,
    target: Target,
    body: Bytes,
) -> V2Result<Json<SessionCreated>> {
    let mut request = parse_json::<CertificateChoiceBody>(&body)?.validate()?;
    let rp = authorize(&service, &request.relying_party, ip, &mut request.options).await?;
    let request = CertificateChoiceRequest {
        relying_party_name: request.relying_party.name,
        level: level(request.options.certificate_level),
        nonce: request.options.nonce,
        ignored_properties: request.options.ignored_properties,
        flow: None,
        initial_callback_url: None,
        share_device_ip: request.options.share_device_ip_address,
    };
    created(
        service
            .start_certificate_choice(rp.uuid, target, request)
            .await?
            .id,
    )
}

/// `{"sessionID": …}`, the answer to every session start.
fn created(session: Uuid) -> V2Result<Json<SessionCreated>> {
    Ok(Json(SessionCreated {
        session_id: session.to_string(),
    }))
}

/// The machine-readable description of this API (OpenAPI 3.1), kept next to the code.
const OPENAPI: &str = include_str!("../../api/rp-v2.openapi.json");

async fn openapi() -> impl axum::response::IntoResponse {
    super::description(OPENAPI)
}

async fn session_status(
    State(service): State<Service>,
    ip: ClientIp,
    id: PathParam,
    query: QueryParams<StatusQuery>,
) -> V2Result<Json<SessionStatus>> {
    Ok(Json(status(poll(&service, ip, id, query).await?)))
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
        verification_code: CodeRule::DerivedFrom(request.hash.clone()),
        protocol: SignatureProtocol::Pkcs1V15Digest {
            digest_algorithm: digest_algorithm(request.hash_type),
            digest: request.hash,
        },
        interactions: interactions(&request.interactions),
        nonce: request.options.nonce,
        share_device_ip: request.options.share_device_ip_address,
        ignored_properties: request.options.ignored_properties,
        bound: None,
        flow: None,
    }
}

fn digest_algorithm(hash_type: HashType) -> DigestAlgorithm {
    match hash_type {
        HashType::Sha256 => DigestAlgorithm::Sha256,
        HashType::Sha384 => DigestAlgorithm::Sha384,
        HashType::Sha512 => DigestAlgorithm::Sha512,
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
        // v3's only: v2 has no linked signatures, and an app that would not sign refused.
        EndResult::ExpectedLinkedSession | EndResult::ProtocolFailure => {
            wire::EndResult::UserRefused
        }
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
        flow: _,
        device_ip_address,
    } = outcome;
    SessionStatus {
        state: SessionState::Complete,
        result: Some(SessionResult {
            end_result: end_result(end),
            document_number,
        }),
        signature: signature.map(|signature| SessionSignature {
            value: BASE64.encode(&signature.value),
            algorithm: wire_algorithm(signature.algorithm).api_name().to_owned(),
        }),
        cert: certificate.map(|certificate| SessionCertificate {
            value: BASE64.encode(&certificate.der),
            certificate_level: certificate_level(certificate.level),
        }),
        interaction_flow_used: interaction_used.map(|kind| kind.name().to_owned()),
        ignored_properties: (end == EndResult::Ok).then_some(ignored_properties),
        device_ip_address,
    }
}

#[cfg(test)]
mod tests {
    use super::super::interaction_kind;
    use super::*;
    use splitid_domain::sessions::Level;
    use splitid_proto::rp_v2::InteractionType;

    /// The domain's names and v2's coincide today; the translation must keep them so.
    #[test]
    fn every_domain_name_renders_as_v2_names_it() {
        for &end in EndResult::ALL {
            let expected = match end {
                // v3's only: a v2 session refused by an app waiting for a linked signature.
                EndResult::ExpectedLinkedSession | EndResult::ProtocolFailure => "USER_REFUSED",
                _ => end.name(),
            };
            assert_eq!(end_result(end).to_string(), expected);
        }
        for kind in InteractionType::ALL {
            assert_eq!(interaction_kind(kind).name(), kind.api_name());
        }
        for level in Level::ALL {
            assert_eq!(certificate_level(level).api_name(), level.name());
            assert_eq!(super::level(certificate_level(level)), level);
        }
    }
}
