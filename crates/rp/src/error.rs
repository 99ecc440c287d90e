//! Every way a session can fail, as one typed error: what the person did, what the service
//! answered, and what validation found.

use splitid_proto::rp_v2::{CertificateLevel, EndResult};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum RpError {
    // ---- the person and the account (end results) ----
    /// The person pressed Cancel; the end result says on which screen.
    #[error("the person refused ({0})")]
    UserRefused(EndResult),
    #[error("the person did not answer in time")]
    Timeout,
    /// The account cannot be used now (e.g. its PIN is locked): the person should check the
    /// app or contact support.
    #[error("the account cannot be used now; the person should check the app or contact support")]
    DocumentUnusable,
    #[error("the person chose the wrong verification code")]
    WrongVerificationCode,
    #[error("the person's app cannot show any of the interactions asked for")]
    RequiredInteractionNotSupported,

    // ---- the service's HTTP answers ----
    /// HTTP 404 on a start: no (usable) account for this person or document.
    #[error("no account found for this person or document")]
    AccountNotFound,
    /// HTTP 471: the person has accounts, but none of the requested level.
    #[error("the person has no account of the requested level")]
    NoSuitableAccount,
    /// HTTP 472: the person should open the app or the self-service portal.
    #[error("the person should look at the app or the self-service portal")]
    PersonShouldViewPortal,
    /// HTTP 404 on a poll: unknown session, or completed too long ago.
    #[error("session not found (unknown, or completed more than 5 minutes ago)")]
    SessionNotFound,
    /// HTTP 401/403: this relying party is not allowed to do this (UUID, name, address, level).
    #[error("the service refused this relying party (HTTP {status}): {detail}")]
    RelyingPartyNotAllowed { status: u16, detail: String },
    /// HTTP 400: the request was malformed (a bug in the caller or this SDK).
    #[error("the service refused the request: {0}")]
    BadRequest(String),
    /// HTTP 480.
    #[error("the service no longer supports this client version")]
    ClientTooOld,
    /// HTTP 580.
    #[error("the service is under maintenance; retry later")]
    Maintenance,
    #[error("service error (HTTP {status}): {detail}")]
    Service { status: u16, detail: String },
    /// RP API v3's PROTOCOL_FAILURE, EXPECTED_LINKED_SESSION or SERVER_ERROR: the session
    /// failed on the service's or the app's side; start a new one.
    #[error("the session failed ({0}); start a new one")]
    SessionFailed(&'static str),
    #[error("cannot reach the service: {0}")]
    Transport(String),
    /// The SDK was asked for something that does not fit the session (a same-device link
    /// of a session without a callback, a link of a notification).
    #[error("{0}")]
    Usage(String),

    // ---- validation of the answer ----
    #[error("the service's answer is invalid: {0}")]
    InvalidResponse(String),
    #[error("the signature does not verify: {0}")]
    InvalidSignature(String),
    #[error("the certificate is not trusted: {0}")]
    UntrustedCertificate(String),
    #[error("the certificate is of level {got:?}, lower than the {wanted:?} asked for")]
    LevelTooLow {
        wanted: CertificateLevel,
        got: CertificateLevel,
    },
    #[error("the certificate is revoked ({0})")]
    CertificateRevoked(String),
    #[error("the certificate's revocation status could not be established: {0}")]
    RevocationUnknown(String),
    #[error("invalid configuration: {0}")]
    Config(String),
}

impl RpError {
    /// The error for a completed session's end result (`None` for OK).
    pub fn from_end_result(result: EndResult) -> Option<RpError> {
        Some(match result {
            EndResult::Ok => return None,
            EndResult::Timeout => RpError::Timeout,
            EndResult::DocumentUnusable => RpError::DocumentUnusable,
            EndResult::WrongVc => RpError::WrongVerificationCode,
            EndResult::RequiredInteractionNotSupportedByApp => {
                RpError::RequiredInteractionNotSupported
            }
            refusal @ (EndResult::UserRefused
            | EndResult::UserRefusedCertChoice
            | EndResult::UserRefusedDisplaytextandpin
            | EndResult::UserRefusedVcChoice
            | EndResult::UserRefusedConfirmationmessage
            | EndResult::UserRefusedConfirmationmessageWithVcChoice) => {
                RpError::UserRefused(refusal)
            }
        })
    }

    /// The error for an HTTP status of the service; `starting` tells a session start (404 =
    /// no account) from a poll (404 = no session).
    pub fn from_status(status: u16, detail: String, starting: bool) -> RpError {
        match status {
            400 => RpError::BadRequest(detail),
            401 | 403 => RpError::RelyingPartyNotAllowed { status, detail },
            404 if starting => RpError::AccountNotFound,
            404 => RpError::SessionNotFound,
            471 => RpError::NoSuitableAccount,
            472 => RpError::PersonShouldViewPortal,
            480 => RpError::ClientTooOld,
            580 => RpError::Maintenance,
            _ => RpError::Service { status, detail },
        }
    }
}

pub type RpResult<T> = Result<T, RpError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_end_result_but_ok_is_an_error_and_refusals_keep_their_screen() {
        for result in EndResult::ALL {
            let error = RpError::from_end_result(result);
            assert_eq!(error.is_none(), result == EndResult::Ok, "{result:?}");
            let name = result.to_string();
            if name.starts_with("USER_REFUSED") {
                assert!(
                    matches!(error, Some(RpError::UserRefused(r)) if r == result),
                    "{name}"
                );
            }
        }
        assert!(matches!(
            RpError::from_end_result(EndResult::Timeout),
            Some(RpError::Timeout)
        ));
        assert!(matches!(
            RpError::from_end_result(EndResult::WrongVc),
            Some(RpError::WrongVerificationCode)
        ));
    }

    #[test]
    fn http_statuses_map_to_their_documented_meaning() {
        let map = |status, starting| RpError::from_status(status, "x".into(), starting);
        assert!(matches!(map(400, true), RpError::BadRequest(_)));
        assert!(matches!(
            map(401, true),
            RpError::RelyingPartyNotAllowed { status: 401, .. }
        ));
        assert!(matches!(
            map(403, false),
            RpError::RelyingPartyNotAllowed { status: 403, .. }
        ));
        assert!(matches!(map(404, true), RpError::AccountNotFound));
        assert!(matches!(map(404, false), RpError::SessionNotFound));
        assert!(matches!(map(471, true), RpError::NoSuitableAccount));
        assert!(matches!(map(472, true), RpError::PersonShouldViewPortal));
        assert!(matches!(map(480, true), RpError::ClientTooOld));
        assert!(matches!(map(580, false), RpError::Maintenance));
        assert!(matches!(
            map(503, false),
            RpError::Service { status: 503, .. }
        ));
    }
}
