//! OCSP (RFC 6960) for the issuing CA's certificates: a delegated responder certificate, the
//! parsing of requests and signed answers.
//!
//! ```text
//! request DER ──OcspQuery::from_der──▶ OcspQuery ──serials()──▶ caller looks them up
//!                   │ (malformed)                                 │
//!                   ▼                                             ▼
//!        OcspQuery::malformed_response()     CertificateAuthority::ocsp_response(query, now, lookup)
//! ```
//!
//! The lookup is the caller's (the server asks its database), so that an answer reflects a
//! revocation the moment it is committed. Messages are x509-ocsp's types; the signature over
//! ResponseData is made through the CA key interface (rcgen's `SigningKey`, ECDSA P-384 with
//! SHA-384 today), so x509-ocsp's builder and its `signature` 2 shim are not needed.

use aws_lc_rs::digest;
use der::asn1::{BitString, GeneralizedTime, Null, ObjectIdentifier as Oid, OctetString};
use der::{Decode, Encode};
use rcgen::{
    CertificateParams, DistinguishedName, DnType, DnValue, ExtendedKeyUsagePurpose, IsCa, Issuer,
    KeyUsagePurpose, SigningKey,
};
use spki::AlgorithmIdentifierOwned;
use time::OffsetDateTime;
use x509_cert::Certificate;
use x509_cert::ext::Extension;
use x509_ocsp::{
    BasicOcspResponse, CertId, CertStatus, OcspRequest, OcspResponse, ResponderId, ResponseData,
    RevokedInfo, SingleResponse, Version,
};

use crate::crl::RevocationReason;
use crate::error::{PkiError, Result};
use crate::keys::{CaKey, SerialNumber, SoftwareKey};
use crate::{ext, oids, profile};

/// A responder certificate is valid for one year (it carries ocsp-nocheck, so it cannot be
/// revoked: RFC 6960 §4.2.2.2.1 asks for a short life) and is replaced when less than this
/// many days are left.
pub const RESPONDER_VALIDITY_DAYS: i64 = 365;
/// Days before its end at which a responder certificate is replaced by a new one.
pub const RESPONDER_RENEWAL_DAYS: i64 = 60;
/// An answer is built from the live status; clients may reuse it for this long.
pub const OCSP_VALIDITY: time::Duration = time::Duration::HOUR;
/// Most certificates asked about in one request (more is refused as malformed).
pub const MAX_REQUESTS: usize = 32;
/// RFC 8954 §2.1: a nonce is 1 to 32 octets.
const NONCE_LENGTHS: std::ops::RangeInclusive<usize> = 1..=32;

/// What the caller knows about a serial number of the issuing CA.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertificateStatus {
    /// Issued and not revoked.
    Good,
    /// Revoked at this time for this reason.
    Revoked {
        /// When the revocation took effect.
        revoked_at: OffsetDateTime,
        /// Why.
        reason: RevocationReason,
    },
    /// Never issued (as far as the caller knows).
    Unknown,
}

/// A parsed OCSP request.
#[derive(Debug, Clone)]
pub struct OcspQuery {
    request: OcspRequest,
    /// The nonce extension, echoed as received.
    nonce: Option<Extension>,
}

impl OcspQuery {
    /// Parses a DER OCSPRequest; `Err` carries the reason, for the log. The caller answers
    /// an error with [`OcspQuery::malformed_response`].
    pub fn from_der(der: &[u8]) -> std::result::Result<Self, String> {
        let request = OcspRequest::from_der(der).map_err(|e| format!("not an OCSPRequest: {e}"))?;
        let count = request.tbs_request.request_list.len();
        if count == 0 || count > MAX_REQUESTS {
            return Err(format!(
                "asks about {count} certificates (1 to {MAX_REQUESTS} are answered)"
            ));
        }
        let nonce = nonce_extension(&request)?;
        Ok(OcspQuery { request, nonce })
    }

    /// The serial numbers asked about, in request order, for the caller to look up. Serials
    /// that cannot be ours (negative, zero, longer than 20 octets) are left out.
    pub fn serials(&self) -> Vec<SerialNumber> {
        self.request
            .tbs_request
            .request_list
            .iter()
            .filter_map(|r| serial_of(&r.req_cert))
            .collect()
    }

    /// Whether the client asked for a nonce.
    pub fn has_nonce(&self) -> bool {
        self.nonce.is_some()
    }

    /// The `malformedRequest` OCSPResponse (unsigned, as RFC 6960 §2.3 specifies).
    pub fn malformed_response() -> Vec<u8> {
        unsigned_response(OcspResponse::malformed_request())
    }

    /// The `internalError` OCSPResponse, for when the caller cannot look statuses up.
    pub fn internal_error_response() -> Vec<u8> {
        unsigned_response(OcspResponse::internal_error())
    }
}

fn unsigned_response(response: OcspResponse) -> Vec<u8> {
    // An OCSPResponse without responseBytes is three fixed octets; encoding cannot fail.
    response
        .to_der()
        .unwrap_or_else(|_| vec![0x30, 0x03, 0x0a, 0x01, 0x02])
}

fn serial_of(cert_id: &CertId) -> Option<SerialNumber> {
    let raw = cert_id.serial_number.as_bytes();
    if raw.first().is_none_or(|b| b & 0x80 != 0) {
        return None;
    }
    SerialNumber::from_be_bytes(raw).ok()
}

/// The request's nonce extension, refused unless it holds 1 to 32 octets (RFC 8954 §2.1).
fn nonce_extension(request: &OcspRequest) -> std::result::Result<Option<Extension>, String> {
    let Some(extensions) = &request.tbs_request.request_extensions else {
        return Ok(None);
    };
    let mut nonces = extensions.iter().filter(|e| e.extn_id == oids::OCSP_NONCE);
    let Some(nonce) = nonces.next() else {
        return Ok(None);
    };
    if nonces.next().is_some() {
        return Err("more than one nonce".into());
    }
    // RFC 8954 wraps the nonce in an OCTET STRING; some old clients send the bare octets.
    let value = nonce.extn_value.as_bytes();
    let length = OctetString::from_der(value).map_or(value.len(), |inner| inner.as_bytes().len());
    if !NONCE_LENGTHS.contains(&length) {
        return Err(format!("a nonce of {length} octets (1 to 32 are allowed)"));
    }
    Ok(Some(nonce.clone()))
}

/// The hash algorithms a CertID may use, with the issuing CA's name and key hashed by each.
/// SHA-1 is what openssl and most clients send by default; it identifies, it does not sign.
#[derive(Debug)]
struct IssuerHashes {
    algorithm: Oid,
    name_hash: Vec<u8>,
    key_hash: Vec<u8>,
}

fn issuer_hashes(issuing: &Certificate) -> Result<Vec<IssuerHashes>> {
    let name = issuing.tbs_certificate.subject.to_der()?;
    let key = issuing
        .tbs_certificate
        .subject_public_key_info
        .subject_public_key
        .raw_bytes();
    let algorithms = [
        (oids::SHA1, &digest::SHA1_FOR_LEGACY_USE_ONLY),
        (oids::SHA256, &digest::SHA256),
        (oids::SHA384, &digest::SHA384),
        (oids::SHA512, &digest::SHA512),
    ];
    Ok(algorithms
        .into_iter()
        .map(|(algorithm, hash)| IssuerHashes {
            algorithm,
            name_hash: digest::digest(hash, &name).as_ref().to_vec(),
            key_hash: digest::digest(hash, key).as_ref().to_vec(),
        })
        .collect())
}

/// The delegated OCSP responder of the issuing CA: its certificate and key.
pub(crate) struct Responder {
    cert_der: Vec<u8>,
    cert: Certificate,
    /// Always a software key: it signs every OCSP answer, and it is not a CA key (a stolen one
    /// can only vouch for statuses until its certificate ends or the CA certifies another).
    key: SoftwareKey,
    not_after: OffsetDateTime,
    issuer: Vec<IssuerHashes>,
    /// The issuing CA certificate, sent along so a client holding only the root can verify.
    issuing_cert: Certificate,
}

/// Parameters of a responder certificate (RFC 6960 §4.2.2.2): issued by the CA it answers
/// for, extendedKeyUsage id-kp-OCSPSigning, id-pkix-ocsp-nocheck (clients need not check its
/// own status), keyUsage digitalSignature, AKI and SKI. The name is the issuing CA's with
/// "OCSP Responder" added to the common name.
pub(crate) fn responder_params(
    issuing_name: &DistinguishedName,
    responder_key: &SoftwareKey,
    issuing_not_before: OffsetDateTime,
    issuing_not_after: OffsetDateTime,
    now: OffsetDateTime,
) -> Result<CertificateParams> {
    let now = profile::whole_seconds_utc(now)?;
    let mut params = CertificateParams::default();
    params.serial_number = Some(SerialNumber::random()?.to_rcgen());
    params.not_before = (now - time::Duration::HOUR).max(issuing_not_before);
    params.not_after = (now + time::Duration::days(RESPONDER_VALIDITY_DAYS)).min(issuing_not_after);
    if params.not_after <= now {
        return Err(PkiError::Validity(
            "the issuing CA has expired: no OCSP responder can be certified",
        ));
    }
    let mut name = issuing_name.clone();
    let issuing_cn = match name.get(&DnType::CommonName) {
        Some(DnValue::Utf8String(cn)) => cn.clone(),
        Some(DnValue::PrintableString(cn)) => cn.as_str().to_owned(),
        _ => return Err(PkiError::CaParts("issuing CA name has no commonName")),
    };
    name.push(
        DnType::CommonName,
        DnValue::Utf8String(format!("{issuing_cn} OCSP Responder")),
    );
    params.distinguished_name = name;
    params.is_ca = IsCa::NoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::OcspSigning];
    params.use_authority_key_identifier_extension = true;
    params.custom_extensions = vec![
        ext::subject_key_identifier(&params.key_identifier(responder_key))?,
        ext::ocsp_no_check()?,
    ];
    Ok(params)
}

impl Responder {
    /// Certifies a new responder key with the issuing CA.
    pub(crate) fn generate(
        issuer: &Issuer<'_, CaKey>,
        issuing_name: &DistinguishedName,
        issuing_der: &[u8],
        (issuing_not_before, issuing_not_after): (OffsetDateTime, OffsetDateTime),
        now: OffsetDateTime,
    ) -> Result<Self> {
        let key = SoftwareKey::generate()?;
        let params = responder_params(
            issuing_name,
            &key,
            issuing_not_before,
            issuing_not_after,
            now,
        )?;
        let cert_der = params.signed_by(&key, issuer)?.der().to_vec();
        Self::from_parts(cert_der, key, issuing_der)
    }

    /// A stored responder; the caller has checked that its key matches and the issuing CA
    /// signed it.
    pub(crate) fn from_parts(
        cert_der: Vec<u8>,
        key: SoftwareKey,
        issuing_der: &[u8],
    ) -> Result<Self> {
        let cert = Certificate::from_der(&cert_der)
            .map_err(|_| PkiError::CaParts("OCSP responder certificate is not DER X.509"))?;
        let issuing_cert = Certificate::from_der(issuing_der)
            .map_err(|_| PkiError::CaParts("issuing CA certificate is not DER X.509"))?;
        let not_after =
            crate::profile::to_offset_date_time(cert.tbs_certificate.validity.not_after)?;
        Ok(Responder {
            issuer: issuer_hashes(&issuing_cert)?,
            cert_der,
            cert,
            key,
            not_after,
            issuing_cert,
        })
    }

    pub(crate) fn cert_der(&self) -> &[u8] {
        &self.cert_der
    }

    pub(crate) fn key(&self) -> &SoftwareKey {
        &self.key
    }

    /// Whether the certificate should be replaced at `now` (or has already expired).
    pub(crate) fn renewal_due(&self, now: OffsetDateTime) -> bool {
        now + time::Duration::days(RESPONDER_RENEWAL_DAYS) >= self.not_after
    }

    /// The signed answer to `query`, asking `lookup` about serials of the issuing CA.
    pub(crate) fn respond(
        &self,
        query: &OcspQuery,
        now: OffsetDateTime,
        mut lookup: impl FnMut(&SerialNumber) -> CertificateStatus,
    ) -> Result<Vec<u8>> {
        let now = profile::whole_seconds_utc(now)?;
        let this_update = generalized_time(now)?;
        let next_update = generalized_time(now + OCSP_VALIDITY)?;
        let responses = query
            .request
            .tbs_request
            .request_list
            .iter()
            .map(|request| {
                let status = match self.serial_if_ours(&request.req_cert) {
                    Some(serial) => ocsp_status(lookup(&serial))?,
                    None => CertStatus::unknown(),
                };
                Ok(SingleResponse {
                    cert_id: request.req_cert.clone(),
                    cert_status: status,
                    this_update,
                    next_update: Some(next_update),
                    single_extensions: None,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let data = ResponseData {
            version: Version::V1,
            responder_id: ResponderId::ByKey(OctetString::new(self.key_hash())?),
            produced_at: this_update,
            responses,
            response_extensions: query.nonce.clone().map(|nonce| vec![nonce]),
        };
        let signature = self.key.sign(&data.to_der()?)?;
        let basic = BasicOcspResponse {
            tbs_response_data: data,
            signature_algorithm: AlgorithmIdentifierOwned {
                oid: oids::ECDSA_WITH_SHA384,
                parameters: None,
            },
            signature: BitString::from_bytes(&signature)?,
            certs: Some(vec![self.cert.clone(), self.issuing_cert.clone()]),
        };
        Ok(OcspResponse::successful(basic)?.to_der()?)
    }

    /// The serial number of a CertID that names the issuing CA (by any hash we know).
    fn serial_if_ours(&self, cert_id: &CertId) -> Option<SerialNumber> {
        let names_us = self.issuer.iter().any(|hashes| {
            hashes.algorithm == cert_id.hash_algorithm.oid
                && hashes.name_hash == cert_id.issuer_name_hash.as_bytes()
                && hashes.key_hash == cert_id.issuer_key_hash.as_bytes()
        });
        names_us.then(|| serial_of(cert_id)).flatten()
    }

    /// ResponderID byKey: SHA-1 of the responder's public key bits (RFC 6960 §4.2.1).
    fn key_hash(&self) -> Vec<u8> {
        let key = self
            .cert
            .tbs_certificate
            .subject_public_key_info
            .subject_public_key
            .raw_bytes();
        digest::digest(&digest::SHA1_FOR_LEGACY_USE_ONLY, key)
            .as_ref()
            .to_vec()
    }
}

fn ocsp_status(status: CertificateStatus) -> Result<CertStatus> {
    Ok(match status {
        CertificateStatus::Good => CertStatus::Good(Null),
        CertificateStatus::Unknown => CertStatus::unknown(),
        CertificateStatus::Revoked { revoked_at, reason } => CertStatus::Revoked(RevokedInfo {
            revocation_time: generalized_time(profile::whole_seconds_utc(revoked_at)?)?,
            revocation_reason: reason.to_x509(),
        }),
    })
}

fn generalized_time(t: OffsetDateTime) -> Result<x509_ocsp::OcspGeneralizedTime> {
    let seconds =
        u64::try_from(t.unix_timestamp()).map_err(|_| PkiError::Validity("date before 1970"))?;
    let time = GeneralizedTime::from_unix_duration(std::time::Duration::from_secs(seconds))?;
    Ok(x509_ocsp::OcspGeneralizedTime(time))
}
