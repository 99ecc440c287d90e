//! RP API v3 handlers (docs/spec/rp-api.md §2): translate HTTP to service calls and back.
//! Refusals are RFC 9457 problems (`application/problem+json`) with `errors[]` naming the
//! field, except 401, which has no body (as Smart-ID answers it).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};
use axum::{Json, Router};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use splitid_proto::problem::ErrorBody;
use splitid_proto::rp_v2::{RequestError, SessionCertificate};
use splitid_proto::rp_v3::requests::{
    Delivery, Endpoint, Protocol, Purpose, RequestBody, SignatureScheme, StartRequest,
    VC_TYPE_NUMERIC4,
};
use splitid_proto::rp_v3::responses::{
    self as wire, CertificateResponse, CertificateState, DeviceLinkSessionCreated,
    NO_SUITABLE_ACCOUNT_FOUND, NotificationSessionCreated, Problem, ProblemError, ResultDetails,
    SessionResult, SessionSignature, SessionState, SessionStatus, VerificationCodeBody,
    json_pointer,
};
use splitid_proto::rp_v3::{FlowType, requests};

use super::{
    Body, ClientIp, PathParam, QueryParams, StatusQuery, authorize, certificate_level, document,
    domain_hash, interactions, level, no_such_endpoint, parse_json, person, poll, wire_algorithm,
    wrong_method,
};
use crate::error::HttpError;
use splitid_domain::Service;
use splitid_domain::error::ServiceError;
use splitid_domain::model::{BoundTexts, CodeRule, Flow, Padding};
use splitid_domain::sessions::{
    CertificateChoiceRequest, EndResult, InteractionKind, Outcome, Progress, SignatureProtocol,
    SigningRequest, Target,
};
use splitid_domain::store::SessionKind;

/// Whom a path's identifier names.
#[derive(Debug, Clone, Copy)]
enum PathTarget {
    /// `etsi/{semanticsIdentifier}`: every suitable account of a person.
    Person,
    /// `document/{documentNumber}`: one account.
    Document,
}

impl PathTarget {
    fn parse(self, id: &str) -> Result<Target, ServiceError> {
        match self {
            PathTarget::Person => person(id),
            PathTarget::Document => document(id),
        }
    }
}

const fn endpoint(purpose: Purpose, delivery: Delivery) -> Endpoint {
    Endpoint { purpose, delivery }
}

/// Every session-starting path, with what it starts and whom its identifier names (`None`:
/// anonymous, no identifier).
const STARTS: [(&str, Endpoint, Option<PathTarget>); 12] = {
    use Delivery::{DeviceLink, LinkedNotification, Notification};
    use PathTarget::{Document, Person};
    use Purpose::{Authentication, CertificateChoice, Signature};
    [
        (
            "/authentication/device-link/anonymous",
            endpoint(Authentication, DeviceLink),
            None,
        ),
        (
            "/authentication/device-link/etsi/{id}",
            endpoint(Authentication, DeviceLink),
            Some(Person),
        ),
        (
            "/authentication/device-link/document/{id}",
            endpoint(Authentication, DeviceLink),
            Some(Document),
        ),
        (
            "/authentication/notification/etsi/{id}",
            endpoint(Authentication, Notification),
            Some(Person),
        ),
        (
            "/authentication/notification/document/{id}",
            endpoint(Authentication, Notification),
            Some(Document),
        ),
        (
            "/signature/device-link/etsi/{id}",
            endpoint(Signature, DeviceLink),
            Some(Person),
        ),
        (
            "/signature/device-link/document/{id}",
            endpoint(Signature, DeviceLink),
            Some(Document),
        ),
        (
            "/signature/notification/etsi/{id}",
            endpoint(Signature, Notification),
            Some(Person),
        ),
        (
            "/signature/notification/document/{id}",
            endpoint(Signature, Notification),
            Some(Document),
        ),
        (
            "/signature/notification/linked/{id}",
            endpoint(Signature, LinkedNotification),
            Some(Document),
        ),
        (
            "/signature/certificate-choice/device-link/anonymous",
            endpoint(CertificateChoice, DeviceLink),
            None,
        ),
        (
            "/signature/certificate-choice/notification/etsi/{id}",
            endpoint(CertificateChoice, Notification),
            Some(Person),
        ),
    ]
};

pub fn router() -> Router<Service> {
    let starts = STARTS
        .into_iter()
        .fold(Router::new(), |router, (path, endpoint, target)| {
            router.route(
                path,
                match target {
                    Some(target) => start(endpoint, target),
                    None => start_anonymous(endpoint),
                },
            )
        });
    starts
        .route("/signature/certificate/{id}", post(signing_certificate))
        .route("/session/{id}", get(session_status))
        .route("/openapi.json", get(openapi))
        .fallback(no_such_endpoint::<V3Error>)
        .method_not_allowed_fallback(wrong_method::<V3Error>)
}

/// A refusal as RP API v3 answers it.
#[derive(Debug)]
pub enum V3Error {
    Http(HttpError),
    /// A field of the body: `errors[]` names it with a JSON Pointer.
    Request(RequestError),
}

type V3Result<T> = Result<T, V3Error>;

impl From<HttpError> for V3Error {
    fn from(error: HttpError) -> Self {
        V3Error::Http(error)
    }
}

impl From<ServiceError> for V3Error {
    fn from(error: ServiceError) -> Self {
        V3Error::Http(HttpError::Service(error))
    }
}

impl From<RequestError> for V3Error {
    fn from(error: RequestError) -> Self {
        V3Error::Request(error)
    }
}

/// `errors[].code` of a field the relying party got wrong (SplitID's name: the spec shows only
/// `NO_SUITABLE_ACCOUNT_FOUND`).
const INVALID_PARAMETER: &str = "INVALID_PARAMETER";

impl IntoResponse for V3Error {
    fn into_response(self) -> Response {
        let (status, detail, errors) = match self {
            V3Error::Request(error) => {
                let entry = ProblemError {
                    code: INVALID_PARAMETER.to_owned(),
                    detail: error.problem.clone(),
                    param_name: Some(error.field.clone()),
                    pointer: Some(json_pointer(&error.field)),
                };
                (StatusCode::BAD_REQUEST, error.to_string(), vec![entry])
            }
            V3Error::Http(error) => {
                let status = error.status();
                if status == StatusCode::UNAUTHORIZED {
                    return status.into_response();
                }
                let errors = match &error {
                    HttpError::Service(ServiceError::NoSuitableAccount(detail)) => {
                        vec![ProblemError {
                            code: NO_SUITABLE_ACCOUNT_FOUND.to_owned(),
                            detail: detail.clone(),
                            param_name: None,
                            pointer: None,
                        }]
                    }
                    _ => Vec::new(),
                };
                (status, error.detail(), errors)
            }
        };
        let title = status.canonical_reason().unwrap_or_default();
        let problem = Problem {
            body: ErrorBody::new(status.as_u16(), title, detail),
            instance: None,
            errors,
        };
        let mut response = (status, Json(problem)).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        response
    }
}

/// The route that starts a session of `endpoint` for the path's person or document.
fn start(endpoint: Endpoint, target: PathTarget) -> MethodRouter<Service> {
    post(
        move |state: State<Service>, ip: ClientIp, PathParam(id): PathParam, Body(body): Body| async move {
            start_session(state, ip, target.parse(&id)?, endpoint, body).await
        },
    )
}

/// The route that starts an anonymous device-link session of `endpoint`.
fn start_anonymous(endpoint: Endpoint) -> MethodRouter<Service> {
    post(
        move |state: State<Service>, ip: ClientIp, Body(body): Body| async move {
            start_session(state, ip, Target::Anonymous, endpoint, body).await
        },
    )
}

async fn start_session(
    State(service): State<Service>,
    ClientIp(ip): ClientIp,
    target: Target,
    endpoint: Endpoint,
    body: Bytes,
) -> V3Result<Response> {
    let mut request = parse_json::<RequestBody>(&body)?.validate(endpoint)?;
    let rp = authorize(&service, &request.relying_party, ip, &mut request.options).await?;
    if endpoint.delivery == Delivery::DeviceLink {
        let started = match endpoint.purpose {
            Purpose::CertificateChoice => {
                service
                    .start_device_link_certificate_choice(rp.uuid, target, choice_request(request))
                    .await?
            }
            Purpose::Authentication | Purpose::Signature => {
                service
                    .start_device_link_signing(rp.uuid, target, signing_request(request)?)
                    .await?
            }
        };
        return Ok(Json(DeviceLinkSessionCreated {
            session_id: started.id.to_string(),
            session_token: started.session_token,
            session_secret: started.session_secret.to_string(),
            device_link_base: service.device_link_base(),
        })
        .into_response());
    }
    let started = match (endpoint.purpose, endpoint.delivery, &target) {
        (_, Delivery::LinkedNotification, Target::Document(number)) => {
            let linked = request.linked_session.ok_or_else(|| {
                ServiceError::internal("a validated linked signature without its session")
            })?;
            let number = number.clone();
            service
                .start_linked_signature(rp.uuid, &number, linked, signing_request(request)?)
                .await?
        }
        (Purpose::CertificateChoice, _, _) => {
            service
                .start_certificate_choice(rp.uuid, target, choice_request(request))
                .await?
        }
        (Purpose::Authentication | Purpose::Signature, _, _) => {
            service
                .start_signing_session(rp.uuid, target, signing_request(request)?)
                .await?
        }
    };
    Ok(Json(NotificationSessionCreated {
        session_id: started.id.to_string(),
        vc: started.verification_code.map(|value| VerificationCodeBody {
            kind: VC_TYPE_NUMERIC4.to_owned(),
            value,
        }),
    })
    .into_response())
}

/// A v3 certificate choice in the domain's words.
fn choice_request(request: StartRequest) -> CertificateChoiceRequest {
    CertificateChoiceRequest {
        relying_party_name: request.relying_party.name,
        level: level(request.options.certificate_level),
        nonce: request.options.nonce,
        ignored_properties: request.options.ignored_properties,
        flow: flow_of(request.endpoint),
        initial_callback_url: request.initial_callback_url,
        share_device_ip: request.options.share_device_ip_address,
    }
}

/// How the phone gets a session of this endpoint; a device link's is known when a phone
/// presents the link.
fn flow_of(endpoint: Endpoint) -> Option<Flow> {
    match endpoint.delivery {
        Delivery::Notification | Delivery::LinkedNotification => Some(Flow::Notification),
        Delivery::DeviceLink => None,
    }
}

/// A v3 authentication or signature in the domain's words.
fn signing_request(request: StartRequest) -> V3Result<SigningRequest> {
    let missing = || ServiceError::internal("a validated signing request without its parts");
    let protocol = request.protocol.ok_or_else(missing)?;
    let interactions_sent = request.interactions.ok_or_else(missing)?;
    let endpoint = request.endpoint;
    let verification_code = match (&protocol, endpoint.delivery) {
        (_, Delivery::DeviceLink | Delivery::LinkedNotification) => CodeRule::Omitted,
        (
            Protocol::AcspV2 {
                rp_challenge_bytes, ..
            },
            Delivery::Notification,
        ) => CodeRule::DerivedFrom(rp_challenge_bytes.clone()),
        (Protocol::RawDigest { .. }, Delivery::Notification) => CodeRule::Drawn,
    };
    let padding = |scheme: SignatureScheme| match scheme {
        SignatureScheme::RsassaPss => Padding::Pss,
        SignatureScheme::Pkcs1v15 => Padding::Pkcs1V15,
    };
    let (kind, protocol) = match protocol {
        Protocol::AcspV2 {
            rp_challenge,
            algorithm,
            ..
        } => (
            SessionKind::Authentication,
            SignatureProtocol::AcspV2 {
                digest_algorithm: domain_hash(algorithm.hash),
                padding: padding(algorithm.scheme),
                rp_challenge,
            },
        ),
        Protocol::RawDigest {
            digest_bytes,
            algorithm,
            ..
        } => {
            let digest_algorithm = domain_hash(algorithm.hash);
            let digest = digest_bytes;
            let protocol = match algorithm.scheme {
                SignatureScheme::RsassaPss => SignatureProtocol::PssDigest {
                    digest_algorithm,
                    digest,
                },
                SignatureScheme::Pkcs1v15 => SignatureProtocol::Pkcs1V15Digest {
                    digest_algorithm,
                    digest,
                },
            };
            (SessionKind::Signature, protocol)
        }
    };
    Ok(SigningRequest {
        kind,
        relying_party_name: request.relying_party.name,
        level: level(request.options.certificate_level),
        protocol,
        interactions: interactions(&interactions_sent.list),
        nonce: request.options.nonce,
        share_device_ip: request.options.share_device_ip_address,
        ignored_properties: request.options.ignored_properties,
        verification_code,
        bound: Some(BoundTexts {
            interactions: interactions_sent.as_sent,
            initial_callback_url: request.initial_callback_url,
        }),
        flow: flow_of(endpoint),
    })
}

/// `POST /signature/certificate/{document-number}`: the account's signing certificate at once.
async fn signing_certificate(
    State(service): State<Service>,
    ClientIp(ip): ClientIp,
    PathParam(id): PathParam,
    Body(body): Body,
) -> V3Result<Json<CertificateResponse>> {
    let Target::Document(number) = document(&id)? else {
        return Err(ServiceError::internal("a document path without a document").into());
    };
    let request = parse_json::<RequestBody>(&body)?;
    for (present, field) in [
        (request.signature_protocol.is_some(), "signatureProtocol"),
        (request.interactions.is_some(), "interactions"),
        (request.initial_callback_url.is_some(), "initialCallbackUrl"),
    ] {
        if present {
            return Err(RequestError::new(field, "does not belong to a certificate lookup").into());
        }
    }
    let mut request =
        request.validate(endpoint(Purpose::CertificateChoice, Delivery::Notification))?;
    authorize(&service, &request.relying_party, ip, &mut request.options).await?;
    let certificate = service
        .signing_certificate(&number, level(request.options.certificate_level))
        .await?;
    Ok(Json(match certificate {
        Some(certificate) => CertificateResponse {
            state: CertificateState::Ok,
            cert: Some(SessionCertificate {
                value: BASE64.encode(&certificate.der),
                certificate_level: certificate_level(certificate.level),
            }),
        },
        None => CertificateResponse {
            state: CertificateState::DocumentUnusable,
            cert: None,
        },
    }))
}

/// The machine-readable description of this API (OpenAPI 3.1), kept next to the code.
const OPENAPI: &str = include_str!("../../api/rp-v3.openapi.json");

async fn openapi() -> impl axum::response::IntoResponse {
    super::description(OPENAPI)
}

async fn session_status(
    State(service): State<Service>,
    ip: ClientIp,
    id: PathParam,
    query: QueryParams<StatusQuery>,
) -> V3Result<Json<SessionStatus>> {
    Ok(Json(status(poll(&service, ip, id, query).await?)))
}

/// A domain ending as v3 names it: the four refusals of an interaction are one, with the
/// interaction in `details`.
fn end_result(end: EndResult) -> (wire::EndResult, Option<InteractionKind>) {
    use wire::EndResult as V3;
    let refused = |kind| (V3::UserRefusedInteraction, Some(kind));
    match end {
        EndResult::Ok => (V3::Ok, None),
        EndResult::UserRefused => (V3::UserRefused, None),
        EndResult::Timeout => (V3::Timeout, None),
        EndResult::DocumentUnusable => (V3::DocumentUnusable, None),
        EndResult::WrongVc => (V3::WrongVc, None),
        EndResult::RequiredInteractionNotSupportedByApp => {
            (V3::RequiredInteractionNotSupportedByApp, None)
        }
        EndResult::UserRefusedCertChoice => (V3::UserRefusedCertChoice, None),
        EndResult::ExpectedLinkedSession => (V3::ExpectedLinkedSession, None),
        EndResult::ProtocolFailure => (V3::ProtocolFailure, None),
        EndResult::UserRefusedDisplaytextandpin => refused(InteractionKind::DisplayTextAndPin),
        EndResult::UserRefusedVcChoice => refused(InteractionKind::VerificationCodeChoice),
        EndResult::UserRefusedConfirmationmessage => refused(InteractionKind::ConfirmationMessage),
        EndResult::UserRefusedConfirmationmessageWithVcChoice => {
            refused(InteractionKind::ConfirmationMessageAndVerificationCodeChoice)
        }
    }
}

fn flow_type(flow: Option<Flow>) -> FlowType {
    match flow {
        Some(Flow::Qr) => FlowType::Qr,
        Some(Flow::Web2App) => FlowType::Web2App,
        Some(Flow::App2App) => FlowType::App2App,
        // v2's sessions, read here, were all notifications.
        Some(Flow::Notification) | None => FlowType::Notification,
    }
}

/// A session's progress as v3 reports it. ACSP_V2 is told apart by its `serverRandom`; a
/// certificate choice's `signature` carries only the flow. Only a successful session reports
/// the ignored request properties.
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
        flow,
        device_ip_address,
    } = outcome;
    let (end_result, refused) = end_result(end);
    let ok = end == EndResult::Ok;
    let flow = flow_type(flow);
    let (signature_protocol, signature) = match signature {
        Some(signature) => {
            let protocol = match signature.server_random {
                Some(_) => requests::ACSP_V2,
                None => requests::RAW_DIGEST_SIGNATURE,
            };
            let value = BASE64.encode(&signature.value);
            let wire = SessionSignature {
                server_random: signature.server_random,
                user_challenge: signature.user_challenge,
                ..SessionSignature::signed(value, wire_algorithm(signature.algorithm), flow)
            };
            (Some(protocol.to_owned()), Some(wire))
        }
        None => (None, ok.then(|| SessionSignature::flow_only(flow))),
    };
    SessionStatus {
        state: SessionState::Complete,
        result: Some(SessionResult {
            end_result,
            document_number,
            details: refused.map(|kind| ResultDetails {
                interaction: kind.name().to_owned(),
            }),
        }),
        signature_protocol,
        signature,
        cert: certificate.map(|certificate| SessionCertificate {
            value: BASE64.encode(&certificate.der),
            certificate_level: certificate_level(certificate.level),
        }),
        interaction_type_used: interaction_used.map(|kind| kind.name().to_owned()),
        device_ip_address,
        ignored_properties: ok.then_some(ignored_properties),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every domain ending has a v3 name; the refusals of an interaction name it.
    #[test]
    fn every_domain_ending_renders_in_v3() {
        for &end in EndResult::ALL {
            let (v3, refused) = end_result(end);
            let name = serde_json::to_value(v3).unwrap();
            match refused {
                Some(kind) => {
                    assert_eq!(name, "USER_REFUSED_INTERACTION");
                    assert_eq!(kind.refusal(), end);
                }
                None => assert_eq!(name, end.name()),
            }
        }
    }
}
