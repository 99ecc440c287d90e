//! What a careful relying party checks before it believes an answer: the certificate chains
//! to its trust anchors and is valid now, is of the level asked and made for the purpose, and
//! the signature verifies over the data whose hash was sent, with the algorithm announced.
//!
//! Path validation is rustls-webpki's (the rustls project's, on aws-lc-rs): the same code
//! that checks TLS client certificates, with the EKU check relaxed because signing
//! certificates carry none.

use std::time::{Duration, SystemTime};

use aws_lc_rs::signature::{self, UnparsedPublicKey};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, TrustAnchor, UnixTime};
use splitid_proto::rp_v2::{CertificateLevel, HashType};
use webpki::{EndEntityCert, ExtendedKeyUsageValidator, KeyPurposeIdIter};

use crate::error::{RpError, RpResult};
use crate::identity::{Identity, KeyRole, identity_of, key_role, parse_certificate};
use crate::signable::SignableData;

/// How a relying party makes sure a certificate is not revoked (by OCSP, at the responder
/// the certificate names).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevocationPolicy {
    /// No check.
    Off,
    /// Ask; when no responder answers, accept. A revoked answer always refuses.
    IfAvailable,
    /// Only a verified "good" answer accepts (the default).
    Required,
}

/// The certificates a relying party trusts, and how it checks revocation.
#[derive(Debug, Clone)]
pub struct TrustConfig {
    anchors: Vec<CertificateDer<'static>>,
    intermediates: Vec<CertificateDer<'static>>,
    pub(crate) revocation: RevocationPolicy,
    /// How long a "good" answer is reused (never beyond the responder's nextUpdate).
    pub(crate) ocsp_cache: Duration,
}

impl TrustConfig {
    /// Trusts these root certificates (DER), e.g. SplitID's `/pki/root-ca.crt`, checked out
    /// of band by its fingerprint.
    pub fn new(anchors: Vec<Vec<u8>>) -> RpResult<Self> {
        if anchors.is_empty() {
            return Err(RpError::Config(
                "at least one trust anchor is needed".into(),
            ));
        }
        let config = TrustConfig {
            anchors: anchors.into_iter().map(CertificateDer::from).collect(),
            intermediates: Vec::new(),
            revocation: RevocationPolicy::Required,
            ocsp_cache: Duration::from_secs(300),
        };
        config.trust_anchors()?;
        Ok(config)
    }

    /// Trusts the root certificates of a PEM file's text.
    pub fn from_pem(pem: &[u8]) -> RpResult<Self> {
        Self::new(pem_certificates(pem)?)
    }

    /// Adds intermediate CA certificates (DER), e.g. `/pki/issuing-ca.crt`: the session
    /// answer carries only the person's certificate.
    pub fn with_intermediates(mut self, intermediates: Vec<Vec<u8>>) -> Self {
        self.intermediates
            .extend(intermediates.into_iter().map(CertificateDer::from));
        self
    }

    /// How revocation is checked (default: [`RevocationPolicy::Required`]).
    pub fn with_revocation(mut self, policy: RevocationPolicy) -> Self {
        self.revocation = policy;
        self
    }

    /// How long an OCSP answer is reused (default 5 minutes; zero asks every time).
    pub fn with_ocsp_cache(mut self, lifetime: Duration) -> Self {
        self.ocsp_cache = lifetime;
        self
    }

    /// The CA certificate (intermediate or anchor) whose subject issued `leaf`.
    pub(crate) fn issuer_of(
        &self,
        leaf: &x509_cert::Certificate,
    ) -> Option<x509_cert::Certificate> {
        use der::Decode;
        self.intermediates
            .iter()
            .chain(&self.anchors)
            .filter_map(|der| x509_cert::Certificate::from_der(der.as_ref()).ok())
            .find(|candidate| candidate.tbs_certificate.subject == leaf.tbs_certificate.issuer)
    }

    fn trust_anchors(&self) -> RpResult<Vec<TrustAnchor<'_>>> {
        self.anchors
            .iter()
            .map(|der| {
                webpki::anchor_from_trusted_cert(der)
                    .map_err(|e| RpError::Config(format!("trust anchor: {e}")))
            })
            .collect()
    }
}

/// The certificates of a PEM text, in order.
pub fn pem_certificates(pem: &[u8]) -> RpResult<Vec<Vec<u8>>> {
    let certificates = CertificateDer::pem_slice_iter(pem)
        .map(|c| c.map(|c| c.to_vec()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| RpError::Config(format!("PEM: {e}")))?;
    if certificates.is_empty() {
        return Err(RpError::Config("PEM: no certificate found".into()));
    }
    Ok(certificates)
}

/// A certificate that passed every check.
#[derive(Debug, Clone)]
pub struct ValidatedCertificate {
    pub der: Vec<u8>,
    pub identity: Identity,
    pub level: CertificateLevel,
}

/// Accepts any extended key usage: the purpose is checked on keyUsage instead, because
/// Smart-ID signing certificates carry no EKU and authentication ones carry clientAuth.
struct AnyExtendedKeyUsage;

impl ExtendedKeyUsageValidator for AnyExtendedKeyUsage {
    fn validate(&self, mut iter: KeyPurposeIdIter<'_, '_>) -> Result<(), webpki::Error> {
        iter.try_for_each(|purpose| purpose.map(|_| ()))
    }
}

fn unix_time(at: SystemTime) -> UnixTime {
    UnixTime::since_unix_epoch(
        at.duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or(Duration::ZERO),
    )
}

/// Checks a person's certificate: chain to the anchors at `at`, level, purpose.
pub(crate) fn validate_certificate(
    trust: &TrustConfig,
    der: &[u8],
    announced_level: CertificateLevel,
    wanted_level: CertificateLevel,
    role: KeyRole,
    at: SystemTime,
) -> RpResult<ValidatedCertificate> {
    let certificate_der = CertificateDer::from(der);
    let end_entity = EndEntityCert::try_from(&certificate_der)
        .map_err(|e| RpError::UntrustedCertificate(format!("unreadable: {e}")))?;
    let anchors = trust.trust_anchors()?;
    end_entity
        .verify_for_usage(
            webpki::ALL_VERIFICATION_ALGS,
            &anchors,
            &trust.intermediates,
            unix_time(at),
            AnyExtendedKeyUsage,
            None,
            None,
        )
        .map_err(|e| RpError::UntrustedCertificate(e.to_string()))?;
    if rank(announced_level) < rank(wanted_level) {
        return Err(RpError::LevelTooLow {
            wanted: wanted_level,
            got: announced_level,
        });
    }
    let certificate = parse_certificate(der)?;
    let found_role = key_role(&certificate)?;
    if found_role != role {
        return Err(RpError::InvalidResponse(format!(
            "expected a certificate for {role:?}, got one for {found_role:?}"
        )));
    }
    Ok(ValidatedCertificate {
        der: der.to_vec(),
        identity: identity_of(&certificate)?,
        level: announced_level,
    })
}

/// ADVANCED < QUALIFIED; QSCD is QUALIFIED on a secure device (answers say QUALIFIED).
fn rank(level: CertificateLevel) -> u8 {
    match level {
        CertificateLevel::Advanced => 1,
        CertificateLevel::Qualified | CertificateLevel::Qscd => 2,
    }
}

/// The certificate's RSA public key (PKCS#1 `RSAPublicKey` DER), for a verifier.
pub(crate) fn parse_certificate_key(certificate_der: &[u8]) -> RpResult<Vec<u8>> {
    let certificate = parse_certificate(certificate_der)?;
    certificate
        .tbs_certificate
        .subject_public_key_info
        .subject_public_key
        .as_bytes()
        .map(<[u8]>::to_vec)
        .ok_or_else(|| RpError::InvalidResponse("certificate: malformed public key".into()))
}

/// Verifies an RSA signature over the signed data with the certificate's key, checking the
/// announced algorithm is the one the hash type calls for.
pub(crate) fn verify_signature(
    certificate_der: &[u8],
    signed: &SignableData,
    algorithm: &str,
    signature_bytes: &[u8],
) -> RpResult<()> {
    let expected = signed.hash_type().signature_algorithm();
    if !algorithm.eq_ignore_ascii_case(expected) {
        return Err(RpError::InvalidSignature(format!(
            "algorithm {algorithm:?} announced, {expected:?} expected for {}",
            signed.hash_type().api_name()
        )));
    }
    let parameters = match signed.hash_type() {
        HashType::Sha256 => &signature::RSA_PKCS1_2048_8192_SHA256,
        HashType::Sha384 => &signature::RSA_PKCS1_2048_8192_SHA384,
        HashType::Sha512 => &signature::RSA_PKCS1_2048_8192_SHA512,
    };
    UnparsedPublicKey::new(parameters, parse_certificate_key(certificate_der)?)
        .verify(signed.data(), signature_bytes)
        .map_err(|_| {
            RpError::InvalidSignature("not made by the certificate's key over the data sent".into())
        })
}
