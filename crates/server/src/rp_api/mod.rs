//! The relying-party API. `v2` is compatible with Smart-ID's RP API v2.

pub mod v2;

use std::net::{IpAddr, SocketAddr};

use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::{ServiceError, ServiceResult};

/// The caller's address, when the server knows it (always, when served over TCP).
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let address = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        Ok(ClientIp(address))
    }
}

/// Parses a JSON body, answering 400 with serde's explanation (not axum's 415/422).
pub(crate) fn parse_json<T: DeserializeOwned>(body: &Bytes) -> ServiceResult<T> {
    serde_json::from_slice(body).map_err(|e| ServiceError::BadRequest(format!("request body: {e}")))
}

/// Whether `ip` lies in one of the CIDR `ranges` (an empty list allows every address).
pub(crate) fn ip_allowed(ip: Option<IpAddr>, ranges: &[String]) -> bool {
    if ranges.is_empty() {
        return true;
    }
    let Some(ip) = ip else { return false };
    ranges
        .iter()
        .filter_map(|range| range.parse::<ipnet::IpNet>().ok())
        .any(|net| net.contains(&ip))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_ranges() {
        let ranges = vec!["10.0.0.0/8".to_owned(), "::1/128".to_owned()];
        assert!(ip_allowed(Some("10.1.2.3".parse().unwrap()), &ranges));
        assert!(ip_allowed(Some("::1".parse().unwrap()), &ranges));
        assert!(!ip_allowed(Some("127.0.0.1".parse().unwrap()), &ranges));
        assert!(!ip_allowed(None, &ranges));
        assert!(ip_allowed(None, &[]));
    }
}
