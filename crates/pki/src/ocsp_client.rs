//! The client side of OCSP (RFC 6960), without I/O: the question to ask the responder a
//! certificate names in its authorityInfoAccess, and the checks its answer must pass. The
//! caller carries the bytes (an HTTP POST): relying parties check SplitID and Smart-ID
//! certificates with it (the SDK), the service checks eID certificates at registration (many
//! eID issuers, Estonia's among them, publish no CRL, only a responder).
//!
//! x509-ocsp builds the request and parses the response; the checks a client must make are
//! here, because no crate makes them: the response signed by the issuer or by a responder the
//! issuer delegated to (id-kp-OCSPSigning), for our CertID, fresh at the caller's time.

use der::asn1::ObjectIdentifier as Oid;
use der::{Decode, Encode};
use rustls_pki_types::CertificateDer;
use time::OffsetDateTime;
use x509_cert::Certificate;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{AuthorityInfoAccessSyntax, ExtendedKeyUsage};
use x509_ocsp::builder::OcspRequestBuilder;
use x509_ocsp::{BasicOcspResponse, CertStatus, OcspResponse, OcspResponseStatus, Request};

const ID_AD_OCSP: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.48.1");
const ID_PKIX_OCSP_BASIC: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.48.1.1");
const ID_KP_OCSP_SIGNING: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.3.9");
/// Clock difference tolerated between the responder and this service.
const SKEW_SECONDS: i64 = 300;
/// The largest answer a client should read (a responder's answers are a few KiB).
pub const MAX_ANSWER_BYTES: usize = 1024 * 1024;
/// How long a client should wait for a responder.
pub const TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);
/// The content type of the request body.
pub const REQUEST_CONTENT_TYPE: &str = "application/ocsp-request";

/// What a responder said about the certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Good,
    Revoked,
}

/// A verified answer: the status, and until when the responder vouches for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Answer {
    pub status: Status,
    pub next_update: Option<OffsetDateTime>,
}

/// The responder's HTTP URL from authorityInfoAccess, if the certificate names one.
pub fn responder_url(leaf: &Certificate) -> Option<String> {
    let (_, access) = leaf
        .tbs_certificate
        .get::<AuthorityInfoAccessSyntax>()
        .ok()
        .flatten()?;
    access
        .0
        .iter()
        .filter(|description| description.access_method == ID_AD_OCSP)
        .find_map(|description| match &description.access_location {
            GeneralName::UniformResourceIdentifier(uri)
                if uri.as_str().starts_with("http://") || uri.as_str().starts_with("https://") =>
            {
                Some(uri.as_str().to_owned())
            }
            _ => None,
        })
}

/// A question for the responder about `leaf` (issued by `issuer`, already path-validated):
/// the DER body to POST, and what the answer must be about.
pub struct Question {
    pub body: Vec<u8>,
    cert_id: x509_ocsp::CertId,
}

impl Question {
    pub fn new(leaf: &Certificate, issuer: &Certificate) -> Result<Question, String> {
        // SHA-1 CertIDs are what responders universally support (RFC 6960 §4.1.1, openssl's
        // default); the hash only names the issuer here, it secures nothing.
        let request = Request::from_cert::<sha1::Sha1>(issuer, leaf).map_err(|e| e.to_string())?;
        let cert_id = request.req_cert.clone();
        let body = OcspRequestBuilder::default()
            .with_request(request)
            .build()
            .to_der()
            .map_err(|e| e.to_string())?;
        Ok(Question { body, cert_id })
    }

    /// Verifies the responder's `answer`: signed by `issuer` or a responder it delegated to,
    /// about this certificate, fresh at `now`. The error says why it cannot be trusted.
    pub fn check(
        &self,
        answer: &[u8],
        issuer: &Certificate,
        now: OffsetDateTime,
    ) -> Result<Answer, String> {
        let response = OcspResponse::from_der(answer).map_err(|e| format!("unreadable: {e}"))?;
        if response.response_status != OcspResponseStatus::Successful {
            return Err(format!("status {:?}", response.response_status));
        }
        let bytes = response.response_bytes.ok_or("no response bytes")?;
        if bytes.response_type != ID_PKIX_OCSP_BASIC {
            return Err("not a basic OCSP response".into());
        }
        let basic = BasicOcspResponse::from_der(bytes.response.as_bytes())
            .map_err(|e| format!("unreadable basic response: {e}"))?;
        check_signature(&basic, issuer, now)?;
        let single = basic
            .tbs_response_data
            .responses
            .iter()
            .find(|single| single.cert_id == self.cert_id)
            .ok_or("no answer for this certificate")?;
        let now = now.unix_timestamp();
        let seconds = |t: &x509_ocsp::OcspGeneralizedTime| t.0.to_unix_duration().as_secs() as i64;
        if seconds(&single.this_update) > now + SKEW_SECONDS {
            return Err("the answer is from the future".into());
        }
        if let Some(next) = &single.next_update
            && seconds(next) < now - SKEW_SECONDS
        {
            return Err("the answer is stale (nextUpdate passed)".into());
        }
        let status = match single.cert_status {
            CertStatus::Good(_) => Status::Good,
            CertStatus::Revoked(_) => Status::Revoked,
            CertStatus::Unknown(_) => {
                return Err("the responder does not know the certificate".into());
            }
        };
        let next_update = single
            .next_update
            .as_ref()
            .and_then(|next| OffsetDateTime::from_unix_timestamp(seconds(next)).ok());
        Ok(Answer {
            status,
            next_update,
        })
    }
}

/// Signed by the issuer itself, or by a certificate in the response that the issuer signed
/// for OCSP signing and that is valid now.
fn check_signature(
    basic: &BasicOcspResponse,
    issuer: &Certificate,
    now: OffsetDateTime,
) -> Result<(), String> {
    let tbs = basic
        .tbs_response_data
        .to_der()
        .map_err(|e| e.to_string())?;
    let signature = basic.signature.raw_bytes();
    let issuer_der = issuer.to_der().map_err(|e| e.to_string())?;
    if signed_by(&issuer_der, &tbs, signature) {
        return Ok(());
    }
    for responder in basic.certs.iter().flatten() {
        let responder_der = responder.to_der().map_err(|e| e.to_string())?;
        let delegated = responder
            .tbs_certificate
            .to_der()
            .is_ok_and(|responder_tbs| {
                signed_by(&issuer_der, &responder_tbs, responder.signature.raw_bytes())
            })
            && responder.tbs_certificate.issuer == issuer.tbs_certificate.subject
            && for_ocsp_signing(responder)
            && valid_at(responder, now);
        if delegated && signed_by(&responder_der, &tbs, signature) {
            return Ok(());
        }
    }
    Err("the answer is not signed by the issuer or a responder it authorised".into())
}

/// Whether `signer_der`'s key made `signature` over `message`, under any algorithm webpki
/// knows (it matches the algorithm to the key).
fn signed_by(signer_der: &[u8], message: &[u8], signature: &[u8]) -> bool {
    let der = CertificateDer::from(signer_der);
    let Ok(signer) = webpki::EndEntityCert::try_from(&der) else {
        return false;
    };
    webpki::ALL_VERIFICATION_ALGS.iter().any(|algorithm| {
        signer
            .verify_signature(*algorithm, message, signature)
            .is_ok()
    })
}

fn for_ocsp_signing(certificate: &Certificate) -> bool {
    matches!(
        certificate.tbs_certificate.get::<ExtendedKeyUsage>(),
        Ok(Some((_, usage))) if usage.0.contains(&ID_KP_OCSP_SIGNING)
    )
}

fn valid_at(certificate: &Certificate, now: OffsetDateTime) -> bool {
    let validity = &certificate.tbs_certificate.validity;
    let now = now.unix_timestamp();
    let seconds = |t: x509_cert::time::Time| t.to_unix_duration().as_secs() as i64;
    seconds(validity.not_before) <= now && now <= seconds(validity.not_after)
}
