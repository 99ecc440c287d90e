//! Proofing with an existing eID certificate (ID card, Mobile-ID): the registrant's key signs
//! the challenge; the certificate must chain to a configured trust anchor, be valid at the
//! service's time and not be revoked; the identity is read from its subject.
//!
//! Path validation is rustls-webpki's (it is not TLS-specific: chain building, signatures,
//! validity, basicConstraints, name constraints, CRLs). What it leaves out for non-TLS use —
//! the leaf's keyUsage and reading the subject — is done here with x509-cert; OCSP with the CA library's client (splitid_pki::ocsp_client).

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use der::asn1::{ObjectIdentifier as Oid, PrintableStringRef, Utf8StringRef};
use der::{Decode, Tag, Tagged};
use rustls_pki_types::{CertificateDer, SignatureVerificationAlgorithm, TrustAnchor, UnixTime};
use splitid_proto::app_v1::eid_signature_algorithm as alg;
use time::OffsetDateTime;
use webpki::aws_lc_rs as algs;
use x509_cert::Certificate;
use x509_cert::ext::pkix::name::{DistributionPointName, GeneralName};
use x509_cert::ext::pkix::{CrlDistributionPoints, KeyUsage};
use x509_cert::name::Name;

use splitid_pki::ocsp_client as ocsp;

use crate::{
    Assurance, EvidenceError, EvidenceResult, ProvenIdentity, check_name, check_semantics_id,
};

/// Longest chain a registrant may send (leaf and intermediates).
const MAX_CHAIN: usize = 5;
/// How long fetching a CRL may take.
const CRL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);
/// Largest CRL fetched.
const MAX_CRL_BYTES: usize = 10 * 1024 * 1024;

const OID_COUNTRY: Oid = Oid::new_unwrap("2.5.4.6");
const OID_SURNAME: Oid = Oid::new_unwrap("2.5.4.4");
const OID_GIVEN_NAME: Oid = Oid::new_unwrap("2.5.4.42");
const OID_SERIAL_NUMBER: Oid = Oid::new_unwrap("2.5.4.5");

/// The signature algorithms certificates in an eID chain may use (aws-lc-rs only).
pub static CHAIN_ALGORITHMS: &[&dyn SignatureVerificationAlgorithm] = &[
    algs::ECDSA_P256_SHA256,
    algs::ECDSA_P256_SHA384,
    algs::ECDSA_P384_SHA256,
    algs::ECDSA_P384_SHA384,
    algs::ECDSA_P521_SHA512,
    algs::RSA_PKCS1_2048_8192_SHA256,
    algs::RSA_PKCS1_2048_8192_SHA384,
    algs::RSA_PKCS1_2048_8192_SHA512,
    algs::RSA_PSS_2048_8192_SHA256_LEGACY_KEY,
    algs::RSA_PSS_2048_8192_SHA384_LEGACY_KEY,
    algs::RSA_PSS_2048_8192_SHA512_LEGACY_KEY,
];

/// Whether, and how strictly, revocation is checked (OCSP from the certificate's
/// authorityInfoAccess, else the CRL from its CRL distribution point, over HTTP).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevocationCheck {
    Off,
    /// Check where the CRL can be fetched; accept when it cannot.
    IfReachable,
    /// Refuse unless an OCSP answer or a CRL says the certificate is good.
    Required,
}

impl RevocationCheck {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "off" => Some(Self::Off),
            "if-reachable" => Some(Self::IfReachable),
            "required" => Some(Self::Required),
            _ => None,
        }
    }
}

/// The operator's settings for the method.
#[derive(Debug, Clone)]
pub struct EidCertificateConfig {
    /// Trust anchors (DER certificates).
    pub trust_anchors: Vec<Vec<u8>>,
    pub level: Assurance,
    pub revocation: RevocationCheck,
}

/// What the registrant sent.
pub struct Evidence<'a> {
    pub chain: &'a [String],
    pub signature_algorithm: &'a str,
    pub signature: &'a str,
    pub message: &'a [u8],
}

fn refused(what: impl std::fmt::Display) -> EvidenceError {
    EvidenceError::Refused(format!("eID certificate: {what}"))
}

pub async fn verify(
    config: &EidCertificateConfig,
    evidence: &Evidence<'_>,
    now: OffsetDateTime,
) -> EvidenceResult<ProvenIdentity> {
    if evidence.chain.is_empty() || evidence.chain.len() > MAX_CHAIN {
        return Err(refused(format!(
            "certificateChain: 1 to {MAX_CHAIN} certificates, the registrant's first"
        )));
    }
    let chain = evidence
        .chain
        .iter()
        .map(|c| BASE64.decode(c))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| refused("certificateChain: each certificate must be standard base64 DER"))?;
    let leaf = Certificate::from_der(&chain[0])
        .map_err(|e| refused(format!("the first certificate is not DER X.509: {e}")))?;
    require_digital_signature(&leaf)?;
    let signature = BASE64
        .decode(evidence.signature)
        .map_err(|_| refused("signature: must be standard base64"))?;
    let algorithm = signature_algorithm(evidence.signature_algorithm)?;
    // The path first: the server fetches revocation data from addresses in the certificate
    // only once a trusted issuer vouches for them (never for whatever a registrant made up).
    check_path(config, &chain, None, now)?;
    if config.revocation != RevocationCheck::Off {
        check_revocation(config, &leaf, &chain, now).await?;
    }
    let leaf_der = CertificateDer::from(chain[0].as_slice());
    let end_entity = webpki::EndEntityCert::try_from(&leaf_der)
        .map_err(|e| refused(format!("unreadable certificate: {e}")))?;
    end_entity
        .verify_signature(algorithm, evidence.message, &signature)
        .map_err(|_| {
            refused("the signature over the proofing challenge does not verify with the certificate's key")
        })?;
    identity_of(&leaf, config.level)
}

fn signature_algorithm(name: &str) -> EvidenceResult<&'static dyn SignatureVerificationAlgorithm> {
    Ok(match name {
        alg::RSA_PKCS1_SHA256 => algs::RSA_PKCS1_2048_8192_SHA256,
        alg::RSA_PSS_SHA256 => algs::RSA_PSS_2048_8192_SHA256_LEGACY_KEY,
        alg::ECDSA_P256_SHA256 => algs::ECDSA_P256_SHA256,
        alg::ECDSA_P384_SHA384 => algs::ECDSA_P384_SHA384,
        other => {
            return Err(refused(format!(
                "signatureAlgorithm: {other:?} is not one of {}, {}, {}, {}",
                alg::RSA_PKCS1_SHA256,
                alg::RSA_PSS_SHA256,
                alg::ECDSA_P256_SHA256,
                alg::ECDSA_P384_SHA384
            )));
        }
    })
}

fn require_digital_signature(leaf: &Certificate) -> EvidenceResult<()> {
    let usage = leaf
        .tbs_certificate
        .get::<KeyUsage>()
        .map_err(|e| refused(format!("unreadable keyUsage: {e}")))?;
    match usage {
        Some((_, usage)) if usage.digital_signature() => Ok(()),
        _ => Err(refused(
            "the certificate's keyUsage does not allow digitalSignature",
        )),
    }
}

/// Chain to a trust anchor, validity now, CA constraints, and the CRL when there is one.
fn check_path(
    config: &EidCertificateConfig,
    chain: &[Vec<u8>],
    crl: Option<&webpki::CertRevocationList<'static>>,
    now: OffsetDateTime,
) -> EvidenceResult<()> {
    let anchor_ders: Vec<CertificateDer<'_>> = config
        .trust_anchors
        .iter()
        .map(|der| CertificateDer::from(der.as_slice()))
        .collect();
    let anchors: Vec<TrustAnchor<'_>> = anchor_ders
        .iter()
        .map(webpki::anchor_from_trusted_cert)
        .collect::<Result<_, _>>()
        .map_err(|e| EvidenceError::unavailable(format!("a configured trust anchor: {e}")))?;
    let end_entity = CertificateDer::from(chain[0].as_slice());
    let end_entity = webpki::EndEntityCert::try_from(&end_entity)
        .map_err(|e| refused(format!("unreadable certificate: {e}")))?;
    let intermediates: Vec<CertificateDer<'_>> = chain[1..]
        .iter()
        .map(|der| CertificateDer::from(der.as_slice()))
        .collect();
    let seconds = u64::try_from(now.unix_timestamp())
        .map_err(|_| EvidenceError::unavailable("clock before 1970"))?;
    let crls: Vec<&webpki::CertRevocationList<'_>> = crl.into_iter().collect();
    let revocation = webpki::RevocationOptionsBuilder::new(&crls)
        .ok()
        .map(|builder| {
            builder
                .with_depth(webpki::RevocationCheckDepth::EndEntity)
                .with_status_policy(webpki::UnknownStatusPolicy::Deny)
                .with_expiration_policy(webpki::ExpirationPolicy::Enforce)
                .build()
        });
    let path = end_entity
        .verify_for_usage(
            CHAIN_ALGORITHMS,
            &anchors,
            &intermediates,
            UnixTime::since_unix_epoch(std::time::Duration::from_secs(seconds)),
            webpki::KeyUsage::client_auth(),
            revocation,
            None,
        )
        .map_err(path_error)?;
    // webpki ignores keyUsage (as browsers do); an eID path's CAs must be for signing
    // certificates.
    for intermediate in path.intermediate_certificates() {
        let certificate = Certificate::from_der(intermediate.der().as_ref())
            .map_err(|e| refused(format!("unreadable intermediate certificate: {e}")))?;
        if let Ok(Some((_, usage))) = certificate.tbs_certificate.get::<KeyUsage>()
            && !usage.key_cert_sign()
        {
            return Err(refused(
                "an intermediate certificate's keyUsage does not allow signing certificates",
            ));
        }
    }
    Ok(())
}

fn path_error(error: webpki::Error) -> EvidenceError {
    use webpki::Error as E;
    match error {
        E::UnknownIssuer => refused("the certificate does not chain to a trusted eID issuer"),
        E::CertExpired { .. } => refused("the certificate has expired"),
        E::CertNotValidYet { .. } => refused("the certificate is not valid yet"),
        E::CertRevoked => refused("the certificate is revoked"),
        E::UnknownRevocationStatus => refused("the certificate's revocation status is unknown"),
        E::CrlExpired { .. } => refused("the issuer's CRL has expired; revocation unknown"),
        E::InvalidSignatureForPublicKey => refused("a certificate's signature does not verify"),
        E::RequiredEkuNotFoundContext(_) => {
            refused("the certificate is not for authentication (extendedKeyUsage)")
        }
        E::CaUsedAsEndEntity => refused("the first certificate is a CA certificate"),
        other => refused(format!("the certificate path is not valid ({other})")),
    }
}

/// OCSP where the certificate names a responder, else (or when it does not answer) the CRL.
async fn check_revocation(
    config: &EidCertificateConfig,
    leaf: &Certificate,
    chain: &[Vec<u8>],
    now: OffsetDateTime,
) -> EvidenceResult<()> {
    if let Some(url) = ocsp::responder_url(leaf)
        && let Some(issuer) = issuer_of(leaf, chain, &config.trust_anchors)
    {
        match ask_responder(&url, leaf, &issuer, now)
            .await
            .map(|answer| answer.status)
        {
            Ok(ocsp::Status::Good) => return Ok(()),
            Ok(ocsp::Status::Revoked) => return Err(refused("the certificate is revoked")),
            Err(why) => tracing::warn!(%url, %why, "OCSP gave no answer; trying the CRL"),
        }
    }
    if let Some(crl) = fetch_crl(leaf, config.revocation).await? {
        check_path(config, chain, Some(&crl), now)?;
    }
    Ok(())
}

/// Asks the OCSP responder at `url` about `leaf` and checks its answer.
async fn ask_responder(
    url: &str,
    leaf: &Certificate,
    issuer: &Certificate,
    now: OffsetDateTime,
) -> Result<ocsp::Answer, String> {
    let question = ocsp::Question::new(leaf, issuer)?;
    let exchange = Exchange {
        what: "the OCSP answer",
        body: Some(question.body.clone()),
        timeout: ocsp::TIMEOUT,
        limit: ocsp::MAX_ANSWER_BYTES,
    };
    let answer = exchange.run(url).await?;
    question.check(&answer, issuer, now)
}

/// The certificate (intermediate from the chain, or trust anchor) that issued `leaf`.
fn issuer_of(leaf: &Certificate, chain: &[Vec<u8>], anchors: &[Vec<u8>]) -> Option<Certificate> {
    chain[1..]
        .iter()
        .chain(anchors)
        .filter_map(|der| Certificate::from_der(der).ok())
        .find(|candidate| candidate.tbs_certificate.subject == leaf.tbs_certificate.issuer)
}

/// The CRL from the certificate's HTTP CRL distribution point. In `IfReachable` mode a
/// certificate without one, or an unreachable one, is accepted without a revocation check.
async fn fetch_crl(
    leaf: &Certificate,
    mode: RevocationCheck,
) -> EvidenceResult<Option<webpki::CertRevocationList<'static>>> {
    let unknown = |why: String| {
        if mode == RevocationCheck::Required {
            Err(refused(format!("revocation status unknown: {why}")))
        } else {
            tracing::warn!(%why, "eID certificate accepted without a revocation check");
            Ok(None)
        }
    };
    let Some(url) = crl_url(leaf) else {
        return unknown("the certificate names no HTTP CRL distribution point".into());
    };
    let exchange = Exchange {
        what: "the CRL",
        body: None,
        timeout: CRL_TIMEOUT,
        limit: MAX_CRL_BYTES,
    };
    match exchange.run(&url).await {
        Ok(der) => match webpki::OwnedCertRevocationList::from_der(&der) {
            Ok(crl) => Ok(Some(crl.into())),
            Err(e) => unknown(format!("the CRL at {url} is unreadable: {e}")),
        },
        Err(e) => unknown(format!("cannot fetch {url}: {e}")),
    }
}

/// One HTTP exchange with an eID issuer's CRL server (a GET) or OCSP responder (a POST of
/// `body`): the answer's body, if it succeeded within `timeout` and is at most `limit` bytes.
/// (The SDK's OCSP client carries the same question with its own client, `splitid_rp::ocsp`.)
struct Exchange {
    /// What the answer is, for messages ("the CRL").
    what: &'static str,
    body: Option<Vec<u8>>,
    timeout: std::time::Duration,
    limit: usize,
}

impl Exchange {
    async fn run(self, url: &str) -> Result<Vec<u8>, String> {
        let client = reqwest::Client::builder()
            .timeout(self.timeout)
            .build()
            .map_err(|e| e.to_string())?;
        let request = match self.body {
            Some(body) => client
                .post(url)
                .header("Content-Type", ocsp::REQUEST_CONTENT_TYPE)
                .body(body),
            None => client.get(url),
        };
        let response = request.send().await.map_err(|e| e.to_string())?;
        if !response.status().is_success() {
            return Err(format!("HTTP {}", response.status()));
        }
        let body = response.bytes().await.map_err(|e| e.to_string())?;
        if body.len() > self.limit {
            return Err(format!("{} is too large", self.what));
        }
        Ok(body.to_vec())
    }
}

fn crl_url(leaf: &Certificate) -> Option<String> {
    let (_, points) = leaf
        .tbs_certificate
        .get::<CrlDistributionPoints>()
        .ok()
        .flatten()?;
    points
        .0
        .iter()
        .filter_map(|point| match &point.distribution_point {
            Some(DistributionPointName::FullName(names)) => Some(names),
            _ => None,
        })
        .flatten()
        .find_map(|name| match name {
            GeneralName::UniformResourceIdentifier(uri)
                if uri.as_str().starts_with("http://") || uri.as_str().starts_with("https://") =>
            {
                Some(uri.as_str().to_owned())
            }
            _ => None,
        })
}

/// The person in the certificate: subject serialNumber (semantics identifier), givenName,
/// surname, countryName.
fn identity_of(leaf: &Certificate, level: Assurance) -> EvidenceResult<ProvenIdentity> {
    let subject = &leaf.tbs_certificate.subject;
    let required = |oid: Oid, name: &str| {
        attribute(subject, oid)
            .ok_or_else(|| refused(format!("the certificate's subject has no {name}")))
    };
    let person = check_semantics_id(
        "the certificate's subject serialNumber",
        &required(OID_SERIAL_NUMBER, "serialNumber")?,
    )?;
    let country = required(OID_COUNTRY, "countryName")?;
    if country != person.country() {
        return Err(refused(format!(
            "the subject's country {country} differs from its identifier's {}",
            person.country()
        )));
    }
    Ok(ProvenIdentity {
        semantics_id: person.to_string(),
        given_name: check_name("givenName", &required(OID_GIVEN_NAME, "givenName")?)?,
        surname: check_name("surname", &required(OID_SURNAME, "surname")?)?,
        country,
        level: level.as_str().into(),
        method: "eid_certificate".into(),
        evidence: serde_json::json!({
            "issuer": leaf.tbs_certificate.issuer.to_string(),
            "serial": leaf
                .tbs_certificate
                .serial_number
                .as_bytes()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>(),
            "subject": subject.to_string(),
        }),
    })
}

/// The single value of a subject attribute (UTF8String or PrintableString).
fn attribute(name: &Name, oid: Oid) -> Option<String> {
    let mut values = name
        .0
        .iter()
        .flat_map(|rdn| rdn.0.iter())
        .filter(|attribute| attribute.oid == oid);
    let value = values.next()?;
    if values.next().is_some() {
        return None;
    }
    let any = &value.value;
    match any.tag() {
        Tag::Utf8String => Utf8StringRef::try_from(any).ok().map(|s| s.to_string()),
        Tag::PrintableString => PrintableStringRef::try_from(any)
            .ok()
            .map(|s| s.to_string()),
        _ => None,
    }
}
