//! The relying-party API. `v2` is compatible with Smart-ID's RP API v2, `v3` with its RP API
//! 3.2.

pub mod v2;
pub mod v3;

use std::net::{IpAddr, SocketAddr};

use axum::body::Bytes;
use axum::extract::{
    ConnectInfo, FromRequest, FromRequestParts, OriginalUri, Path, Query, Request,
};
use axum::http::HeaderMap;
use axum::http::Method;
use axum::http::request::Parts;
use futures_util::StreamExt;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::error::HttpError;
use splitid_domain::Service;
use splitid_domain::error::{ServiceError, ServiceResult};
use splitid_domain::model::{DigestAlgorithm, SignatureAlgorithm};
use splitid_domain::sessions::{Interaction, InteractionKind, Level, Progress, Target};
use splitid_domain::store::RelyingPartyRecord;
use splitid_proto::identifiers::{DocumentNumber, SemanticsIdentifier};
use splitid_proto::rp_v2::{
    CertificateLevel, Interaction as WireInteraction, InteractionType, MAX_TIMEOUT_MS,
    MIN_TIMEOUT_MS, RelyingPartyClaim, RequestOptions,
};
use splitid_proto::rp_v3::requests::{
    HashAlgorithm, SignatureAlgorithm as WireAlgorithm, SignatureScheme,
};
use std::time::Duration;
use uuid::Uuid;

/// Unknown paths (an empty identifier, say) get the version's refusal like any other 404.
pub(crate) async fn no_such_endpoint<E: From<ServiceError>>(OriginalUri(uri): OriginalUri) -> E {
    ServiceError::NotFound(format!("no such endpoint: {}", uri.path())).into()
}

pub(crate) async fn wrong_method<E: From<HttpError>>(
    method: Method,
    OriginalUri(uri): OriginalUri,
) -> E {
    HttpError::MethodNotAllowed(format!("{method} is not allowed on {}", uri.path())).into()
}

/// A version's machine-readable description (OpenAPI 3.1), kept next to the code.
pub(crate) fn description(openapi: &'static str) -> impl axum::response::IntoResponse {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        openapi,
    )
}

/// A requested level in the domain's words.
pub(crate) fn level(level: CertificateLevel) -> Level {
    match level {
        CertificateLevel::Advanced => Level::Advanced,
        CertificateLevel::Qualified => Level::Qualified,
        CertificateLevel::Qscd => Level::Qscd,
    }
}

pub(crate) fn certificate_level(level: Level) -> CertificateLevel {
    match level {
        Level::Advanced => CertificateLevel::Advanced,
        Level::Qualified => CertificateLevel::Qualified,
        Level::Qscd => CertificateLevel::Qscd,
    }
}

pub(crate) fn interaction_kind(kind: InteractionType) -> InteractionKind {
    match kind {
        InteractionType::DisplayTextAndPin => InteractionKind::DisplayTextAndPin,
        InteractionType::VerificationCodeChoice => InteractionKind::VerificationCodeChoice,
        InteractionType::ConfirmationMessage => InteractionKind::ConfirmationMessage,
        InteractionType::ConfirmationMessageAndVerificationCodeChoice => {
            InteractionKind::ConfirmationMessageAndVerificationCodeChoice
        }
    }
}

/// The relying party's interactions, in its order, in the domain's words.
pub(crate) fn interactions(list: &[WireInteraction]) -> Vec<Interaction> {
    list.iter()
        .map(|interaction| Interaction {
            kind: interaction_kind(InteractionType::of(interaction)),
            text: interaction.text().to_owned(),
        })
        .collect()
}

/// The relying party the request claims to be, if the claim holds.
pub(crate) async fn authorize(
    service: &Service,
    claim: &RelyingPartyClaim,
    ip: Option<IpAddr>,
    options: &mut RequestOptions,
) -> ServiceResult<RelyingPartyRecord> {
    let level = level(options.certificate_level);
    let rp = service
        .authorize_relying_party(claim.uuid, &claim.name, ip, level)
        .await?;
    // The phone's address only for a relying party with the privilege; another's request
    // for it is reported back as ignored.
    if options.share_device_ip_address && !rp.share_device_ip {
        options.share_device_ip_address = false;
        options
            .ignored_properties
            .push(SHARE_DEVICE_IP_PROPERTY.to_owned());
    }
    Ok(rp)
}

/// The request property that asks for the phone's address.
const SHARE_DEVICE_IP_PROPERTY: &str = "shareMdClientIpAddress";

/// Long poll when the relying party gives no `timeoutMs`: half way between the bounds.
const DEFAULT_TIMEOUT_MS: u64 = 60_500;

/// `timeoutMs` of a session-status poll (both versions: 1000 to 120000, default 60500).
pub(crate) fn parse_timeout(text: Option<&str>) -> ServiceResult<Duration> {
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

/// The `?timeoutMs=` of a session-status poll.
#[derive(Debug, Deserialize)]
pub(crate) struct StatusQuery {
    #[serde(rename = "timeoutMs")]
    pub timeout_ms: Option<String>,
}

/// `GET /session/{id}?timeoutMs=`, as both versions read it: the session's progress.
pub(crate) async fn poll(
    service: &Service,
    ClientIp(ip): ClientIp,
    PathParam(id): PathParam,
    QueryParams(query): QueryParams<StatusQuery>,
) -> ServiceResult<Progress> {
    let timeout = parse_timeout(query.timeout_ms.as_deref())?;
    service
        .session_status_from(session_id(&id)?, ip, timeout)
        .await
}

/// A session id in a path; one that is not a UUID names no session.
pub(crate) fn session_id(text: &str) -> ServiceResult<Uuid> {
    Uuid::parse_str(text).map_err(|_| ServiceError::NotFound(format!("no session {text}")))
}

/// A semantics identifier in a path, as a session's target.
pub(crate) fn person(id: &str) -> ServiceResult<Target> {
    let person: SemanticsIdentifier = id
        .parse()
        .map_err(|e| ServiceError::Invalid(format!("semantics identifier in the path: {e}")))?;
    Ok(Target::Person(person.to_string()))
}

/// A document number in a path, as a session's target.
pub(crate) fn document(id: &str) -> ServiceResult<Target> {
    let document: DocumentNumber = id
        .parse()
        .map_err(|e| ServiceError::Invalid(format!("document number in the path: {e}")))?;
    Ok(Target::Document(document.to_string()))
}

/// A finished signature's algorithm in the wire's terms (whose names both versions use).
pub(crate) fn wire_algorithm(algorithm: SignatureAlgorithm) -> WireAlgorithm {
    let (scheme, digest) = match algorithm {
        SignatureAlgorithm::RsaPkcs1V15(digest) => (SignatureScheme::Pkcs1v15, digest),
        SignatureAlgorithm::RsaPss(digest) => (SignatureScheme::RsassaPss, digest),
    };
    WireAlgorithm {
        scheme,
        hash: wire_hash(digest),
    }
}

pub(crate) fn wire_hash(digest: DigestAlgorithm) -> HashAlgorithm {
    match digest {
        DigestAlgorithm::Sha256 => HashAlgorithm::Sha256,
        DigestAlgorithm::Sha384 => HashAlgorithm::Sha384,
        DigestAlgorithm::Sha512 => HashAlgorithm::Sha512,
        DigestAlgorithm::Sha3_256 => HashAlgorithm::Sha3_256,
        DigestAlgorithm::Sha3_384 => HashAlgorithm::Sha3_384,
        DigestAlgorithm::Sha3_512 => HashAlgorithm::Sha3_512,
    }
}

pub(crate) fn domain_hash(hash: HashAlgorithm) -> DigestAlgorithm {
    match hash {
        HashAlgorithm::Sha256 => DigestAlgorithm::Sha256,
        HashAlgorithm::Sha384 => DigestAlgorithm::Sha384,
        HashAlgorithm::Sha512 => DigestAlgorithm::Sha512,
        HashAlgorithm::Sha3_256 => DigestAlgorithm::Sha3_256,
        HashAlgorithm::Sha3_384 => DigestAlgorithm::Sha3_384,
        HashAlgorithm::Sha3_512 => DigestAlgorithm::Sha3_512,
    }
}

/// The caller's address, when the server knows it (always, when served over TCP): the peer's,
/// or behind a trusted load balancer the one it forwarded.
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub Option<IpAddr>);

impl FromRequestParts<Service> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        service: &Service,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        Ok(ClientIp(peer.map(|peer| {
            client_address(peer, &parts.headers, &service.config().trusted_proxies)
        })))
    }
}

/// The client's address. A peer that is not a trusted proxy is the client, whatever headers it
/// sends. Behind trusted proxies, `X-Forwarded-For` is read from the right (each proxy
/// appends the address it received from): the first entry that is not itself a trusted proxy
/// is the client. An unreadable entry stops the walk at the proxy that wrote it, whose
/// address then counts (and is in no relying party's range): forged entries further left
/// are never reached.
fn client_address(peer: IpAddr, headers: &HeaderMap, trusted: &[ipnet::IpNet]) -> IpAddr {
    let is_trusted = |address: &IpAddr| trusted.iter().any(|net| net.contains(address));
    if !is_trusted(&peer) {
        return peer;
    }
    let entries: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .flat_map(|value| value.to_str().unwrap_or("!").split(','))
        .map(str::trim)
        .collect();
    let mut client = peer;
    for entry in entries.iter().rev() {
        match entry.parse::<IpAddr>() {
            Ok(address) if is_trusted(&address) => client = address,
            Ok(address) => return address,
            Err(_) => return client,
        }
    }
    client
}

/// Beyond the body limit, up to this much more is read and thrown away before answering 413:
/// a server that answers without reading leaves the client writing into a closed connection,
/// and most HTTP clients then report a broken pipe instead of the answer. Bigger bodies are
/// cut off all the same.
const MAX_DISCARDED_BYTES: usize = 16 << 20;

/// A relying party's raw request body, at most [`MAX_BODY_BYTES`](crate::MAX_BODY_BYTES). A
/// longer one is a 413 and an unreadable one a 400, both with a JSON answer like every other
/// refusal (axum alone answers in plain text, and without reading the rest).
pub(crate) struct Body(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for Body {
    type Rejection = HttpError;

    async fn from_request(request: Request, _: &S) -> Result<Self, Self::Rejection> {
        let mut chunks = request.into_body().into_data_stream();
        let mut body = Vec::new();
        let mut received = 0usize;
        while let Some(chunk) = chunks.next().await {
            let chunk = chunk
                .map_err(|e| HttpError::Malformed(format!("request body: unreadable: {e}")))?;
            received = received.saturating_add(chunk.len());
            if received <= crate::MAX_BODY_BYTES {
                body.extend_from_slice(&chunk);
            } else if received > crate::MAX_BODY_BYTES + MAX_DISCARDED_BYTES {
                break;
            }
        }
        if received > crate::MAX_BODY_BYTES {
            return Err(HttpError::PayloadTooLarge(format!(
                "request body: larger than {} KiB",
                crate::MAX_BODY_BYTES / 1024
            )));
        }
        Ok(Body(Bytes::from(body)))
    }
}

/// The one parameter of a route's path. One that does not decode (bad percent-encoding, not
/// UTF-8) is a 400 with a JSON answer.
pub(crate) struct PathParam(pub String);

impl<S: Send + Sync> FromRequestParts<S> for PathParam {
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Path::<String>::from_request_parts(parts, state)
            .await
            .map(|Path(value)| PathParam(value))
            .map_err(|r| HttpError::Malformed(format!("path: {}", r.body_text())))
    }
}

/// The query string; one that does not parse (say, a parameter given twice) is a 400 with a
/// JSON answer.
pub(crate) struct QueryParams<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for QueryParams<T> {
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(value)| QueryParams(value))
            .map_err(|r| HttpError::Malformed(format!("query: {}", r.body_text())))
    }
}

/// Parses a JSON body, answering 400 with serde's explanation (not axum's 415/422), naming
/// the field when one has the wrong type.
pub(crate) fn parse_json<T: DeserializeOwned>(body: &Bytes) -> ServiceResult<T> {
    serde_json::from_slice(body).map_err(|error| {
        let detail = match misread_field::<T>(body) {
            Some((field, problem)) => format!("{field}: {problem}"),
            None => format!("request body: {error}"),
        };
        ServiceError::Invalid(detail)
    })
}

/// Which top-level field of a JSON object body cannot be read, and why. serde's own message
/// does not say (the request bodies flatten their common fields, which loses the path), so
/// each field is tried alone. That only works for bodies whose fields are all optional, as
/// the relying-party bodies are: an empty object must parse.
fn misread_field<T: DeserializeOwned>(body: &[u8]) -> Option<(String, serde_json::Error)> {
    serde_json::from_value::<T>(Value::Object(Map::new())).ok()?;
    let Ok(Value::Object(fields)) = serde_json::from_slice::<Value>(body) else {
        return None;
    };
    fields.into_iter().find_map(|(field, value)| {
        let alone = Value::Object(Map::from_iter([(field.clone(), value)]));
        serde_json::from_value::<T>(alone)
            .err()
            .map(|problem| (field, problem))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn forwarded(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", value.parse().unwrap());
        headers
    }

    #[test]
    fn the_client_is_read_through_trusted_proxies_only() {
        let proxies: Vec<ipnet::IpNet> = vec!["10.0.0.0/24".parse().unwrap()];
        let ip = |text: &str| text.parse::<IpAddr>().unwrap();
        let client =
            |peer: &str, header: &str| client_address(ip(peer), &forwarded(header), &proxies);
        // An untrusted peer is the client, whatever it claims.
        assert_eq!(client("198.51.100.7", "203.0.113.9"), ip("198.51.100.7"));
        // Through the load balancer, the address it received from.
        assert_eq!(client("10.0.0.2", "203.0.113.9"), ip("203.0.113.9"));
        // Through two proxies; a forged entry on the left is not reached.
        assert_eq!(
            client("10.0.0.2", "1.2.3.4, 203.0.113.9, 10.0.0.3"),
            ip("203.0.113.9")
        );
        // Garbage stops the walk at the proxy that wrote it.
        assert_eq!(client("10.0.0.2", "203.0.113.9, garbage"), ip("10.0.0.2"));
        // No header: the proxy itself.
        assert_eq!(
            client_address(ip("10.0.0.2"), &HeaderMap::new(), &proxies),
            ip("10.0.0.2")
        );
    }
}
