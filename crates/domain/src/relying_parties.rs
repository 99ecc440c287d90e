//! Relying parties: which claims to be one hold, what each may ask for, and whose sessions a
//! caller may read.

use std::net::IpAddr;
use std::time::Duration;

use uuid::Uuid;

use crate::Service;
use crate::error::{ServiceError, ServiceResult};
use crate::model::{Level, Progress};
use crate::store::{RelyingPartyRecord, SessionRecord};

impl Service {
    /// The relying party a request claims to be: registered and enabled, the name one of its
    /// names (case-insensitively), the caller's address in its ranges (else
    /// `NotAuthenticated`, saying nothing of which part failed); `NotAllowed` for a level it
    /// may not ask for.
    pub async fn authorize_relying_party(
        &self,
        uuid: Uuid,
        name: &str,
        ip: Option<IpAddr>,
        level: Level,
    ) -> ServiceResult<RelyingPartyRecord> {
        let unauthenticated = || {
            ServiceError::NotAuthenticated("relyingPartyUUID, relyingPartyName and source address do not match a registered relying party".into())
        };
        let rp = self
            .store()
            .relying_party(uuid)
            .await?
            .filter(|rp| rp.enabled)
            .ok_or_else(unauthenticated)?;
        let name_known = rp
            .names
            .iter()
            .any(|known| known.to_lowercase() == name.to_lowercase());
        if !name_known || !ip_allowed(ip, &rp.ip_ranges) {
            return Err(unauthenticated());
        }
        if !rp.allowed_levels.contains(&level) {
            return Err(ServiceError::NotAllowed(format!(
                "this relying party may not request {} accounts",
                level.name()
            )));
        }
        Ok(rp)
    }

    /// A session's progress for a caller known only by its address (as RP API v2 knows
    /// callers): a session is visible from the address ranges of the relying party that
    /// started it, and to anyone else is not found. Waits up to `timeout` for it to complete.
    pub async fn session_status_from(
        &self,
        id: Uuid,
        ip: Option<IpAddr>,
        timeout: Duration,
    ) -> ServiceResult<Progress> {
        let not_found = move || ServiceError::NotFound(format!("no session {id}"));
        let caller_may_see = |session: &SessionRecord| {
            let (service, rp_uuid) = (self.clone(), session.rp_uuid);
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
        self.await_session(id, timeout, caller_may_see).await
    }
}

/// Whether `ip` lies in one of the CIDR `ranges` (an empty list allows every address).
pub fn ip_allowed(ip: Option<IpAddr>, ranges: &[String]) -> bool {
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
