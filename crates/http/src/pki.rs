//! `/pki`: the CA's certificates, CRLs and OCSP responder, at the URLs written into every
//! certificate the CA issues (the CA itself is the domain's: `splitid_domain::ca`).

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path as UrlPath, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use splitid_domain::Service;
use splitid_domain::ca::CrlIssuer;
use splitid_pki::OcspQuery;

use crate::error::HttpResult;

/// `/pki`: the CA certificates, CRLs and OCSP, at the URLs written into issued certificates.
pub fn router() -> Router<Service> {
    Router::new()
        .route("/root-ca.crt", get(root_certificate))
        .route("/issuing-ca.crt", get(issuing_certificate))
        .route("/root-ca.crl", get(root_crl))
        .route("/issuing-ca.crl", get(issuing_crl))
        .route("/ocsp", post(ocsp_post))
        .route("/ocsp/{*request}", get(ocsp_get))
}

/// Statuses change the moment a revocation commits: nothing may cache them longer than the
/// response says (OCSP) or at all (CRLs are re-signed on every revocation).
const NO_CACHE: &str = "no-cache";

async fn root_crl(State(service): State<Service>) -> HttpResult<impl IntoResponse> {
    crl_response(service.current_crl(CrlIssuer::Root).await?)
}

async fn issuing_crl(State(service): State<Service>) -> HttpResult<impl IntoResponse> {
    crl_response(service.current_crl(CrlIssuer::Issuing).await?)
}

fn crl_response(der: Vec<u8>) -> HttpResult<impl IntoResponse> {
    Ok((
        [
            (header::CONTENT_TYPE, "application/pkix-crl"),
            (header::CACHE_CONTROL, NO_CACHE),
        ],
        der,
    ))
}

/// `POST /pki/ocsp` with the DER request as the body (application/ocsp-request). Whatever
/// the body, the answer is an OCSP response with HTTP 200: `malformedRequest` for one that
/// does not parse, as RFC 6960 §2.3 has it.
async fn ocsp_post(State(service): State<Service>, body: Bytes) -> impl IntoResponse {
    ocsp_reply(service.ocsp_response(&body).await)
}

/// `GET /pki/ocsp/{url-encoded base64 of the DER request}` (RFC 6960 A.1), for caches.
/// URL-safe base64 and missing padding are accepted too.
async fn ocsp_get(
    State(service): State<Service>,
    encoded: Result<UrlPath<String>, PathRejection>,
) -> impl IntoResponse {
    use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    // A path that is not even UTF-8 once percent-decoded is a malformed request too.
    let encoded = encoded.map(|UrlPath(encoded)| encoded).unwrap_or_default();
    let encoded = encoded.trim_start_matches('/');
    let request = [BASE64, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
        .iter()
        .find_map(|engine| engine.decode(encoded).ok());
    ocsp_reply(match request {
        Some(request) => service.ocsp_response(&request).await,
        None => OcspQuery::malformed_response(),
    })
}

fn ocsp_reply(response: Vec<u8>) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "application/ocsp-response"),
            (header::CACHE_CONTROL, NO_CACHE),
        ],
        response,
    )
}

async fn root_certificate(State(service): State<Service>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/pkix-cert")],
        service.ca().root_certificate_der(),
    )
}

async fn issuing_certificate(State(service): State<Service>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/pkix-cert")],
        service.ca().issuing_certificate_der(),
    )
}
