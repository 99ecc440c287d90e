//! The relying-party API. `v2` is compatible with Smart-ID's RP API v2.

pub mod v2;

use std::net::{IpAddr, SocketAddr};

use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use futures_util::StreamExt;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::error::HttpError;
use splitid_domain::Service;
use splitid_domain::error::{ServiceError, ServiceResult};

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
