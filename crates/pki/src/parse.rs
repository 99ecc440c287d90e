//! Reading back what the CA issued: the identity, purpose and level of an end-user certificate.

use der::asn1::{Any, ObjectIdentifier as Oid};
use der::{Decode, Tag, Tagged};
use time::OffsetDateTime;
use x509_cert::Certificate;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{CertificatePolicies, KeyUsage, SubjectAltName};
use x509_cert::name::Name;

use crate::error::{PkiError, Result};
use crate::keys::{SerialNumber, modulus_from_rsa_public_key};
use crate::oids;
use crate::profile::to_offset_date_time;
use crate::profile::{Level, Purpose, policies_for};

/// The identity and terms an end-user certificate certifies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertifiedIdentity {
    /// Subject givenName.
    pub given_name: String,
    /// Subject surname.
    pub surname: String,
    /// Subject serialNumber: the ETSI semantics identifier, e.g. `PNOEE-30303039914`.
    pub semantics_identifier: String,
    /// Subject countryName.
    pub country: String,
    /// The directoryName CN in subjectAltName, e.g. `PNOEE-30303039914-ABCD-Q`.
    pub document_number: String,
    /// From keyUsage.
    pub purpose: Purpose,
    /// From the certificate policies.
    pub level: Level,
    /// Start of validity.
    pub not_before: OffsetDateTime,
    /// End of validity.
    pub not_after: OffsetDateTime,
    /// Big-endian RSA modulus without leading zeros (the exponent is checked to be 65537).
    pub rsa_modulus: Vec<u8>,
    /// The certificate's serial number (what CRLs and OCSP refer to).
    pub serial: SerialNumber,
}

/// Reads an end-user certificate of SplitID's profile.
///
/// This reads; it does not validate. It checks neither the signature nor the chain nor the
/// dates against the clock: a relying party does that with its trust anchors, and the server
/// only calls this on certificates it issued.
pub fn parse_identity(cert_der: &[u8]) -> Result<CertifiedIdentity> {
    let cert =
        Certificate::from_der(cert_der).map_err(|e| unreadable(format!("not DER X.509: {e}")))?;
    let tbs = &cert.tbs_certificate;
    let subject = SubjectAttributes::read(&tbs.subject)?;
    let extensions = ProfileExtensions::read(&cert)?;
    let purpose = purpose_from_key_usage(extensions.key_usage)?;
    let level = level_from_policies(purpose, &extensions.policies)?;
    Ok(CertifiedIdentity {
        given_name: subject.given_name,
        surname: subject.surname,
        semantics_identifier: subject.serial_number,
        country: subject.country,
        document_number: extensions.document_number,
        purpose,
        level,
        not_before: to_offset_date_time(tbs.validity.not_before)?,
        not_after: to_offset_date_time(tbs.validity.not_after)?,
        rsa_modulus: rsa_modulus(&cert)?,
        serial: serial_number(&cert)?,
    })
}

fn unreadable(reason: impl Into<String>) -> PkiError {
    PkiError::Certificate(reason.into())
}

/// The subject attributes the profile requires, each exactly once.
struct SubjectAttributes {
    country: String,
    surname: String,
    given_name: String,
    serial_number: String,
}

impl SubjectAttributes {
    fn read(name: &Name) -> Result<Self> {
        Ok(SubjectAttributes {
            country: single_attribute(name, oids::COUNTRY_NAME, "countryName")?,
            surname: single_attribute(name, oids::SURNAME, "surname")?,
            given_name: single_attribute(name, oids::GIVEN_NAME, "givenName")?,
            serial_number: single_attribute(name, oids::SERIAL_NUMBER, "serialNumber")?,
        })
    }
}

fn single_attribute(name: &Name, oid: Oid, label: &str) -> Result<String> {
    let mut values = name
        .0
        .iter()
        .flat_map(|rdn| rdn.0.iter())
        .filter(|atv| atv.oid == oid);
    let (Some(first), None) = (values.next(), values.next()) else {
        return Err(unreadable(format!("name must have exactly one {label}")));
    };
    directory_string(&first.value)
        .ok_or_else(|| unreadable(format!("{label} is not a UTF8String or PrintableString")))
}

/// The string types the CA writes (UTF8String, PrintableString; both are valid UTF-8).
fn directory_string(value: &Any) -> Option<String> {
    match value.tag() {
        Tag::Utf8String | Tag::PrintableString => String::from_utf8(value.value().to_vec()).ok(),
        _ => None,
    }
}

/// The extensions that carry the profile's meaning.
struct ProfileExtensions {
    document_number: String,
    key_usage: KeyUsage,
    policies: Vec<Oid>,
}

impl ProfileExtensions {
    fn read(cert: &Certificate) -> Result<Self> {
        let extensions = cert
            .tbs_certificate
            .extensions
            .as_deref()
            .unwrap_or_default();
        let find = |oid: Oid, label: &str| {
            let mut matching = extensions.iter().filter(|e| e.extn_id == oid);
            match (matching.next(), matching.next()) {
                (Some(e), None) => Ok(e.extn_value.as_bytes()),
                _ => Err(unreadable(format!(
                    "must have exactly one {label} extension"
                ))),
            }
        };
        let san = SubjectAltName::from_der(find(oids::SUBJECT_ALT_NAME, "subjectAltName")?)
            .map_err(|_| unreadable("malformed subjectAltName"))?;
        let key_usage = KeyUsage::from_der(find(oids::KEY_USAGE, "keyUsage")?)
            .map_err(|_| unreadable("malformed keyUsage"))?;
        let policies =
            CertificatePolicies::from_der(find(oids::CERTIFICATE_POLICIES, "certificatePolicies")?)
                .map_err(|_| unreadable("malformed certificatePolicies"))?;
        Ok(ProfileExtensions {
            document_number: document_number(&san)?,
            key_usage,
            policies: policies.0.iter().map(|p| p.policy_identifier).collect(),
        })
    }
}

/// The document number is the CN of the (only) directoryName in subjectAltName.
fn document_number(san: &SubjectAltName) -> Result<String> {
    let mut directory_names = san.0.iter().filter_map(|name| match name {
        GeneralName::DirectoryName(dn) => Some(dn),
        _ => None,
    });
    let (Some(dn), None) = (directory_names.next(), directory_names.next()) else {
        return Err(unreadable(
            "subjectAltName must have exactly one directoryName",
        ));
    };
    single_attribute(dn, oids::COMMON_NAME, "document number commonName")
}

/// Signing certificates have nonRepudiation without digitalSignature; authentication
/// certificates the reverse. Anything else is not ours.
fn purpose_from_key_usage(key_usage: KeyUsage) -> Result<Purpose> {
    match (key_usage.digital_signature(), key_usage.non_repudiation()) {
        (true, false) => Ok(Purpose::Authentication),
        (false, true) => Ok(Purpose::Signing),
        _ => Err(unreadable("keyUsage is neither authentication nor signing")),
    }
}

/// The level whose policy set (the same table the CA issues from) the certificate asserts.
fn level_from_policies(purpose: Purpose, policies: &[Oid]) -> Result<Level> {
    [Level::Qualified, Level::Advanced]
        .into_iter()
        .find(|&level| {
            policies_for(purpose, level)
                .iter()
                .all(|p| policies.contains(p))
        })
        .ok_or_else(|| unreadable("certificate policies match no SplitID level for its purpose"))
}

fn rsa_modulus(cert: &Certificate) -> Result<Vec<u8>> {
    let spki = &cert.tbs_certificate.subject_public_key_info;
    if spki.algorithm.oid != oids::RSA_ENCRYPTION {
        return Err(unreadable("subject key is not rsaEncryption"));
    }
    let key = spki
        .subject_public_key
        .as_bytes()
        .ok_or_else(|| unreadable("malformed subject key"))?;
    modulus_from_rsa_public_key(key).map_err(unreadable)
}

fn serial_number(cert: &Certificate) -> Result<SerialNumber> {
    let raw = cert.tbs_certificate.serial_number.as_bytes();
    if raw.first().is_some_and(|b| b & 0x80 != 0) {
        return Err(unreadable("negative serial number"));
    }
    SerialNumber::from_be_bytes(raw).map_err(|_| unreadable("invalid serial number"))
}
