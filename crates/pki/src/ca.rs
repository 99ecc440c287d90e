//! The certificate authority: a root CA and an issuing CA it certified, both ECDSA P-384.

use std::fmt;
use std::sync::Arc;

use aws_lc_rs::signature::{ECDSA_P384_SHA384_ASN1, UnparsedPublicKey};
use der::{Decode, Encode, Tag, Tagged};
use rcgen::{
    BasicConstraints, CertificateParams, CrlDistributionPoint, DistinguishedName, DnType, DnValue,
    IsCa, Issuer, KeyIdMethod, KeyUsagePurpose, PublicKeyData,
};
use time::OffsetDateTime;
use x509_cert::Certificate;
use x509_cert::ext::pkix::SubjectKeyIdentifier;
use x509_cert::name::Name;
use zeroize::Zeroizing;

use crate::config::{CaConfig, PublicationUrls};
use crate::crl::{CrlTerms, RevokedCertificate, sign_crl};
use crate::error::{PkiError, Result};
use crate::keys::{CaKey, CaKeyParts, CaSigner, RsaSubjectKey, SerialNumber, SoftwareKey};
use crate::ocsp::{CertificateStatus, OcspQuery, Responder};
use crate::profile::{self, CertificateRequest, to_offset_date_time};
use crate::{ext, oids};

/// The root CA certificate is valid for 20 years.
pub const ROOT_VALIDITY_YEARS: i32 = 20;
/// The issuing CA certificate is valid for 10 years; it can issue three-year certificates
/// for its first seven.
pub const ISSUING_VALIDITY_YEARS: i32 = 10;

/// The stored form of a CA: both certificates and both private keys (PKCS#8 DER, or a
/// [`CaSigner`] for keys the caller keeps in an HSM), and the OCSP responder's. Where and how
/// these are kept (database, HSM wrapping, files) is the caller's business.
pub struct CaParts {
    /// Root CA certificate, DER.
    pub root_cert_der: Vec<u8>,
    /// Root CA private key.
    pub root_key: CaKeyParts,
    /// Issuing CA certificate, DER.
    pub issuing_cert_der: Vec<u8>,
    /// Issuing CA private key.
    pub issuing_key: CaKeyParts,
    /// The delegated OCSP responder; `None` in parts stored before it existed, in which case
    /// [`CertificateAuthority::from_parts`] certifies a new one (store the result again).
    pub ocsp_responder: Option<ResponderParts>,
}

/// The stored form of the OCSP responder: its certificate and private key (PKCS#8 DER). The
/// responder's key is always a software key, even when the CA keys are in an HSM: it is not a
/// CA key (its certificate, one year long and renewed, only vouches for OCSP answers) and it
/// signs every OCSP answer, which should not queue behind an HSM.
#[derive(Clone)]
pub struct ResponderParts {
    /// Responder certificate, DER, issued by the issuing CA.
    pub cert_der: Vec<u8>,
    /// Responder private key (ECDSA P-384), PKCS#8 DER.
    pub key_pkcs8: Zeroizing<Vec<u8>>,
}

impl fmt::Debug for CaParts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CaParts")
            .field(
                "root_cert_der",
                &format_args!("{} bytes", self.root_cert_der.len()),
            )
            .field("root_key", &self.root_key)
            .field(
                "issuing_cert_der",
                &format_args!("{} bytes", self.issuing_cert_der.len()),
            )
            .field("issuing_key", &self.issuing_key)
            .field("ocsp_responder", &self.ocsp_responder.is_some())
            .finish()
    }
}

/// A root CA and the issuing CA that signs end-user certificates.
pub struct CertificateAuthority {
    urls: PublicationUrls,
    root: CaCertificate,
    /// The root CA's name, key identifier and key, as rcgen signs with them (its CRL).
    root_issuer: Issuer<'static, CaKey>,
    issuing: CaCertificate,
    /// The issuing CA's name, key identifier and key, as rcgen signs with them.
    issuer: Issuer<'static, CaKey>,
    /// The issuing CA's name in rcgen's form (for the responder certificate's name).
    issuing_name: DistinguishedName,
    responder: Responder,
}

/// A CA certificate with what the CA reads from it more than once.
struct CaCertificate {
    der: Vec<u8>,
    pem: String,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
    /// subjectKeyIdentifier: the AKI of what this CA signs, CRLs included.
    key_id: Vec<u8>,
}

impl fmt::Debug for CertificateAuthority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CertificateAuthority")
            .field("urls", &self.urls)
            .field("issuer", &self.issuer)
            .field("issuing_not_after", &self.issuing.not_after)
            .finish_non_exhaustive()
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum CaRole {
    Root,
    Issuing,
}

impl CaRole {
    /// "SplitID Root CA 2026" / "SplitID EID-Q 2026", after SK's "ROOT G1E" / "EID-Q 2024E";
    /// a test CA's names start with "TEST of ", as SK's demo CAs do.
    fn common_name(self, test: bool, year: i32) -> String {
        let prefix = if test { "TEST of " } else { "" };
        let role = match self {
            CaRole::Root => "Root CA",
            CaRole::Issuing => "EID-Q",
        };
        format!("{prefix}SplitID {role} {year}")
    }

    fn validity_years(self) -> i32 {
        match self {
            CaRole::Root => ROOT_VALIDITY_YEARS,
            CaRole::Issuing => ISSUING_VALIDITY_YEARS,
        }
    }
}

impl CertificateAuthority {
    /// Generates a new root CA and an issuing CA certified by it.
    pub fn generate(config: &CaConfig) -> Result<Self> {
        Self::generate_with(config, CaKey::generate()?, CaKey::generate()?)
    }

    /// Generates a new root CA and issuing CA whose keys the caller keeps (in an HSM): every
    /// CA signature, from the two CA certificates on, is asked of `root` or `issuing`. The
    /// OCSP responder's key is still made in software (see [`ResponderParts`]).
    pub fn generate_with_signers(
        config: &CaConfig,
        root: Arc<dyn CaSigner>,
        issuing: Arc<dyn CaSigner>,
    ) -> Result<Self> {
        Self::generate_with(config, CaKey::external(root)?, CaKey::external(issuing)?)
    }

    fn generate_with(config: &CaConfig, root_key: CaKey, issuing_key: CaKey) -> Result<Self> {
        config.validate()?;
        let now = profile::whole_seconds_utc(OffsetDateTime::now_utc())?;
        // An hour's backdating lets the first end-user certificates be backdated for clock skew.
        let not_before = now - time::Duration::HOUR;

        let root_params = ca_params(config, CaRole::Root, now.year(), not_before)?;
        let root_cert = root_params.self_signed(&root_key)?;

        let issuing_params = ca_params(config, CaRole::Issuing, now.year(), not_before)?;
        let issuing_cert = issuing_params
            .signed_by(&issuing_key, &Issuer::from_params(&root_params, &root_key))?;

        Self::assemble(
            config,
            root_cert.der().to_vec(),
            root_key,
            issuing_cert.der().to_vec(),
            issuing_key,
            None,
        )
    }

    /// Rebuilds a CA from stored parts, checking that each key belongs to its certificate and
    /// that the root certified the issuing CA (and the issuing CA the OCSP responder). The
    /// CA's names come from the certificates; `config` supplies the publication URLs for what
    /// it issues from now on. Parts without an OCSP responder, or with one due for renewal
    /// (see [`CertificateAuthority::renew_ocsp_responder_if_due`]), get a new one: compare
    /// [`CertificateAuthority::to_parts`] with what was stored, and store it again if it differs.
    pub fn from_parts(parts: &CaParts, config: &CaConfig) -> Result<Self> {
        config.validate()?;
        let root_key = parts.root_key.to_key()?;
        let issuing_key = parts.issuing_key.to_key()?;
        let responder = match &parts.ocsp_responder {
            Some(stored) => Some((
                stored.cert_der.clone(),
                SoftwareKey::from_pkcs8(&stored.key_pkcs8)?,
            )),
            None => None,
        };
        let mut ca = Self::assemble(
            config,
            parts.root_cert_der.clone(),
            root_key,
            parts.issuing_cert_der.clone(),
            issuing_key,
            responder,
        )?;
        ca.renew_ocsp_responder_if_due(OffsetDateTime::now_utc())?;
        Ok(ca)
    }

    /// The stored form of this CA (see [`CaParts`]).
    pub fn to_parts(&self) -> CaParts {
        CaParts {
            root_cert_der: self.root.der.clone(),
            root_key: self.root_issuer.key().to_parts(),
            issuing_cert_der: self.issuing.der.clone(),
            issuing_key: self.issuer.key().to_parts(),
            ocsp_responder: Some(ResponderParts {
                cert_der: self.responder.cert_der().to_vec(),
                key_pkcs8: self.responder.key().pkcs8(),
            }),
        }
    }

    /// Certifies a new OCSP responder key when the current certificate ends within
    /// [`crate::RESPONDER_RENEWAL_DAYS`] days. Returns whether it did (then store
    /// [`CertificateAuthority::to_parts`] again).
    pub fn renew_ocsp_responder_if_due(&mut self, now: OffsetDateTime) -> Result<bool> {
        if !self.responder.renewal_due(now) {
            return Ok(false);
        }
        self.responder = Responder::generate(
            &self.issuer,
            &self.issuing_name,
            &self.issuing.der,
            (self.issuing.not_before, self.issuing.not_after),
            now,
        )?;
        Ok(true)
    }

    /// The OCSP responder certificate (DER), issued by the issuing CA.
    pub fn ocsp_responder_certificate_der(&self) -> &[u8] {
        self.responder.cert_der()
    }

    /// The signed OCSP response (DER) to `query` at `now`; `lookup` tells the status of each
    /// serial number asked about that belongs to the issuing CA (any other CertID is answered
    /// `unknown` without asking). The response carries the responder and issuing CA
    /// certificates and echoes the request's nonce.
    pub fn ocsp_response(
        &self,
        query: &OcspQuery,
        now: OffsetDateTime,
        lookup: impl FnMut(&SerialNumber) -> CertificateStatus,
    ) -> Result<Vec<u8>> {
        self.responder.respond(query, now, lookup)
    }

    /// The issuing CA's CRL (DER) listing `revoked`; see [`CrlTerms`] for the number.
    pub fn issuing_crl(&self, terms: CrlTerms, revoked: &[RevokedCertificate]) -> Result<Vec<u8>> {
        sign_crl(&self.issuer, &self.issuing.key_id, terms, revoked)
    }

    /// The root CA's CRL (DER): the issuing CA certificate points at it. The root has never
    /// revoked its issuing CA, so it is empty.
    pub fn root_crl(&self, terms: CrlTerms) -> Result<Vec<u8>> {
        sign_crl(&self.root_issuer, &self.root.key_id, terms, &[])
    }

    /// Issues an end-user certificate (DER) signed by the issuing CA.
    pub fn issue(&self, request: &CertificateRequest) -> Result<Vec<u8>> {
        request.validate()?;
        let subject_key = RsaSubjectKey::from_modulus(&request.rsa_modulus)?;
        let validity = profile::end_user_validity(request.not_before)?;
        self.check_within_issuing_validity(validity)?;
        let serial = match &request.serial {
            Some(serial) => serial.clone(),
            None => SerialNumber::random()?,
        };
        let params =
            profile::end_user_params(request, &subject_key, &serial, validity, &self.urls)?;
        Ok(params.signed_by(&subject_key, &self.issuer)?.der().to_vec())
    }

    /// Relying parties that validate in the "shell model" (e.g. for qualified signatures)
    /// reject a certificate that outlives its issuer, so the CA refuses to issue one.
    fn check_within_issuing_validity(
        &self,
        (not_before, not_after): (OffsetDateTime, OffsetDateTime),
    ) -> Result<()> {
        if not_before < self.issuing.not_before {
            return Err(PkiError::Validity(
                "not_before precedes the issuing CA's validity",
            ));
        }
        if not_after > self.issuing.not_after {
            return Err(PkiError::Validity(
                "the certificate would outlive the issuing CA",
            ));
        }
        Ok(())
    }

    /// Root CA certificate, DER (the trust anchor relying parties configure).
    pub fn root_certificate_der(&self) -> &[u8] {
        &self.root.der
    }

    /// Root CA certificate, PEM.
    pub fn root_certificate_pem(&self) -> &str {
        &self.root.pem
    }

    /// Issuing CA certificate, DER (served at [`PublicationUrls::issuing_ca_certificate`]).
    pub fn issuing_certificate_der(&self) -> &[u8] {
        &self.issuing.der
    }

    /// Issuing CA certificate, PEM.
    pub fn issuing_certificate_pem(&self) -> &str {
        &self.issuing.pem
    }

    /// End of the issuing CA's validity: the last moment an end-user certificate may end.
    pub fn issuing_not_after(&self) -> OffsetDateTime {
        self.issuing.not_after
    }

    /// Where the certificates say CA certificates, CRLs, OCSP and the PDS are published.
    pub fn urls(&self) -> &PublicationUrls {
        &self.urls
    }

    /// The one constructor behind `generate` and `from_parts`, so that a fresh CA and a
    /// reloaded one are built, and checked, the same way.
    fn assemble(
        config: &CaConfig,
        root_der: Vec<u8>,
        root_key: CaKey,
        issuing_der: Vec<u8>,
        issuing_key: CaKey,
        responder: Option<(Vec<u8>, SoftwareKey)>,
    ) -> Result<Self> {
        let root_cert = parse_ca_certificate(&root_der, "root CA certificate is not DER X.509")?;
        let issuing_cert =
            parse_ca_certificate(&issuing_der, "issuing CA certificate is not DER X.509")?;
        ensure_key_matches(
            &root_cert,
            &root_key,
            "root key does not match the root CA certificate",
        )?;
        ensure_key_matches(
            &issuing_cert,
            &issuing_key,
            "issuing key does not match the issuing CA certificate",
        )?;
        ensure_issued_by(&issuing_cert, &root_cert, &root_key)?;

        let issuing_params = issuer_params(&issuing_cert)?;
        let issuing_name = issuing_params.distinguished_name.clone();
        let issuer = Issuer::new(issuing_params, issuing_key);
        let root_issuer = Issuer::new(issuer_params(&root_cert)?, root_key);
        let issuing = CaCertificate::new(issuing_der, &issuing_cert)?;
        let responder = match responder {
            Some((cert_der, key)) => {
                let cert = Certificate::from_der(&cert_der).map_err(|_| {
                    PkiError::CaParts("OCSP responder certificate is not DER X.509")
                })?;
                ensure_key_matches(
                    &cert,
                    &key,
                    "OCSP responder key does not match its certificate",
                )?;
                ensure_issued_by(&cert, &issuing_cert, issuer.key()).map_err(|_| {
                    PkiError::CaParts("the OCSP responder was not certified by the issuing CA")
                })?;
                Responder::from_parts(cert_der, key, &issuing.der)?
            }
            None => Responder::generate(
                &issuer,
                &issuing_name,
                &issuing.der,
                (issuing.not_before, issuing.not_after),
                OffsetDateTime::now_utc(),
            )?,
        };
        Ok(CertificateAuthority {
            urls: config.urls(),
            root: CaCertificate::new(root_der, &root_cert)?,
            root_issuer,
            issuing,
            issuer,
            issuing_name,
            responder,
        })
    }
}

impl CaCertificate {
    fn new(der: Vec<u8>, parsed: &Certificate) -> Result<Self> {
        let pem = der::pem::encode_string("CERTIFICATE", der::pem::LineEnding::LF, &der)
            .map_err(|e| PkiError::Backend(format!("PEM encoding: {e}")))?;
        let validity = &parsed.tbs_certificate.validity;
        Ok(CaCertificate {
            key_id: subject_key_identifier(parsed)?,
            der,
            pem,
            not_before: to_offset_date_time(validity.not_before)?,
            not_after: to_offset_date_time(validity.not_after)?,
        })
    }
}

/// Parameters of a CA certificate (RFC 5280 §4.2.1.9/§4.2.1.3, EN 319 412-2 §4.2.3 for the
/// issuer name): basicConstraints critical cA (pathLen 0 below the root), keyUsage critical
/// keyCertSign + cRLSign, SKI on both (rcgen derives it), AKI on the issuing CA, and for the
/// issuing CA where to fetch the root certificate and the root's CRL.
fn ca_params(
    config: &CaConfig,
    role: CaRole,
    year: i32,
    not_before: OffsetDateTime,
) -> Result<CertificateParams> {
    let mut params = CertificateParams::default();
    params.serial_number = Some(SerialNumber::random()?.to_rcgen());
    params.not_before = not_before;
    params.not_after = profile::add_years(not_before, role.validity_years())?;
    params.distinguished_name = ca_name(config, &role.common_name(config.test, year))?;
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params.is_ca = match role {
        CaRole::Root => IsCa::Ca(BasicConstraints::Unconstrained),
        CaRole::Issuing => IsCa::Ca(BasicConstraints::Constrained(0)),
    };
    if role == CaRole::Issuing {
        let urls = config.urls();
        params.use_authority_key_identifier_extension = true;
        params.crl_distribution_points = vec![CrlDistributionPoint {
            uris: vec![urls.root_ca_crl.clone()],
        }];
        params.custom_extensions = vec![
            ext::authority_info_access(&urls.root_ca_certificate, None)?,
            // anyPolicy: the issuing CA does not restrict which of our policies its leaves assert.
            ext::certificate_policies(&[oids::ANY_POLICY])?,
        ];
    }
    Ok(params)
}

/// CA name per EN 319 412-2 §4.2.3.2 / 319 412-1 §5.1.4: C, O, organizationIdentifier, CN.
fn ca_name(config: &CaConfig, common_name: &str) -> Result<DistinguishedName> {
    let country = rcgen::string::PrintableString::try_from(config.country.as_str())
        .map_err(|_| PkiError::Config("country is not a PrintableString"))?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CountryName, DnValue::PrintableString(country));
    dn.push(
        DnType::OrganizationName,
        DnValue::Utf8String(config.organization.clone()),
    );
    dn.push(
        DnType::CustomDnType(oids::rcgen_arcs(&oids::ORGANIZATION_IDENTIFIER)),
        DnValue::Utf8String(config.organization_identifier.clone()),
    );
    dn.push(
        DnType::CommonName,
        DnValue::Utf8String(common_name.to_owned()),
    );
    Ok(dn)
}

fn parse_ca_certificate(der: &[u8], problem: &'static str) -> Result<Certificate> {
    Certificate::from_der(der).map_err(|_| PkiError::CaParts(problem))
}

fn ensure_key_matches(
    cert: &Certificate,
    key: &impl PublicKeyData,
    problem: &'static str,
) -> Result<()> {
    let cert_spki = cert.tbs_certificate.subject_public_key_info.to_der()?;
    if cert_spki == key.subject_public_key_info() {
        Ok(())
    } else {
        Err(PkiError::CaParts(problem))
    }
}

/// A certificate (the issuing CA's, the OCSP responder's) must name its CA as issuer and carry
/// the CA key's signature.
fn ensure_issued_by(issuing: &Certificate, root: &Certificate, root_key: &CaKey) -> Result<()> {
    let not_issued = PkiError::CaParts("the issuing CA certificate was not issued by the root");
    if issuing.tbs_certificate.issuer != root.tbs_certificate.subject {
        return Err(not_issued);
    }
    let tbs = issuing.tbs_certificate.to_der()?;
    let signature = issuing
        .signature
        .as_bytes()
        .ok_or(PkiError::CaParts("malformed signature"))?;
    UnparsedPublicKey::new(&ECDSA_P384_SHA384_ASN1, root_key.der_bytes())
        .verify(&tbs, signature)
        .map_err(|_| not_issued)
}

/// What rcgen needs to sign as the issuing CA, read from its certificate rather than rebuilt
/// from configuration, so that issuer names and AKIs always match the certificate byte for byte.
fn issuer_params(issuing: &Certificate) -> Result<CertificateParams> {
    let mut params = CertificateParams::default();
    params.distinguished_name = rcgen_name(&issuing.tbs_certificate.subject)?;
    params.key_identifier_method = KeyIdMethod::PreSpecified(subject_key_identifier(issuing)?);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    Ok(params)
}

fn subject_key_identifier(cert: &Certificate) -> Result<Vec<u8>> {
    let extensions = cert
        .tbs_certificate
        .extensions
        .as_deref()
        .unwrap_or_default();
    let ski = extensions
        .iter()
        .find(|e| e.extn_id == oids::SUBJECT_KEY_IDENTIFIER)
        .ok_or(PkiError::CaParts(
            "issuing CA certificate has no subjectKeyIdentifier",
        ))?;
    let ski = SubjectKeyIdentifier::from_der(ski.extn_value.as_bytes())
        .map_err(|_| PkiError::CaParts("malformed subjectKeyIdentifier"))?;
    Ok(ski.0.as_bytes().to_vec())
}

/// Converts a parsed name into rcgen's, keeping attribute order and string types. rcgen holds
/// one value per attribute type and one attribute per RDN, so names outside that are refused.
fn rcgen_name(name: &Name) -> Result<DistinguishedName> {
    let mut dn = DistinguishedName::new();
    for rdn in name.0.iter() {
        let [attribute] = rdn.0.as_slice() else {
            return Err(PkiError::CaParts("CA name has a multi-valued RDN"));
        };
        let dn_type = DnType::from_oid(&oids::rcgen_arcs(&attribute.oid));
        if dn.get(&dn_type).is_some() {
            return Err(PkiError::CaParts("CA name repeats an attribute type"));
        }
        let text = std::str::from_utf8(attribute.value.value())
            .map_err(|_| PkiError::CaParts("CA name is not text"))?;
        let value = match attribute.value.tag() {
            Tag::Utf8String => DnValue::Utf8String(text.to_owned()),
            Tag::PrintableString => DnValue::PrintableString(
                rcgen::string::PrintableString::try_from(text)
                    .map_err(|_| PkiError::CaParts("bad PrintableString in CA name"))?,
            ),
            _ => {
                return Err(PkiError::CaParts(
                    "CA name uses a string type other than UTF8String/PrintableString",
                ));
            }
        };
        dn.push(dn_type, value);
    }
    Ok(dn)
}
