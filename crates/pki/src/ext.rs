//! Extensions rcgen 0.14 cannot write, DER-encoded here and handed to rcgen as opaque
//! custom extensions.
//!
//! rcgen has no certificatePolicies, authorityInfoAccess or qcStatements, and its SAN type
//! has no directoryName. Where x509-cert (der 0.7) has the ASN.1 type we encode that type;
//! qcStatements (RFC 3739 / ETSI EN 319 412-5) is not in x509-cert, so its few structures are
//! declared below with `der`'s derive macros, each with the ASN.1 it implements.

use der::asn1::Utf8StringRef;
use der::asn1::{Any, Ia5String, ObjectIdentifier as Oid, OctetString, PrintableString, SetOfVec};
use der::{Decode, Encode};
use rcgen::CustomExtension;
use x509_cert::attr::AttributeTypeAndValue;
use x509_cert::ext::pkix::certpolicy::PolicyInformation;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{
    AccessDescription, AuthorityInfoAccessSyntax, CertificatePolicies, SubjectAltName,
};
use x509_cert::name::{Name, RdnSequence, RelativeDistinguishedName};

use crate::error::Result;
use crate::oids;

/// A non-critical extension with an already DER-encoded value.
fn non_critical(oid: &Oid, value_der: Vec<u8>) -> CustomExtension {
    CustomExtension::from_oid_content(&oids::rcgen_arcs(oid), value_der)
}

/// certificatePolicies with bare policy identifiers (no qualifiers): what relying parties and
/// the Smart-ID clients match on (RFC 5280 §4.2.1.4).
pub(crate) fn certificate_policies(policies: &[Oid]) -> Result<CustomExtension> {
    let value = CertificatePolicies(
        policies
            .iter()
            .map(|&policy_identifier| PolicyInformation {
                policy_identifier,
                policy_qualifiers: None,
            })
            .collect(),
    );
    Ok(non_critical(&oids::CERTIFICATE_POLICIES, value.to_der()?))
}

/// authorityInfoAccess (RFC 5280 §4.2.2.1): where to fetch the issuer's certificate and,
/// for end-user certificates, where to ask OCSP.
pub(crate) fn authority_info_access(
    ca_issuers: &str,
    ocsp: Option<&str>,
) -> Result<CustomExtension> {
    let mut descriptions = vec![access_description(oids::AD_CA_ISSUERS, ca_issuers)?];
    if let Some(ocsp) = ocsp {
        descriptions.push(access_description(oids::AD_OCSP, ocsp)?);
    }
    let value = AuthorityInfoAccessSyntax(descriptions);
    Ok(non_critical(&oids::AUTHORITY_INFO_ACCESS, value.to_der()?))
}

fn access_description(access_method: Oid, url: &str) -> Result<AccessDescription> {
    Ok(AccessDescription {
        access_method,
        access_location: GeneralName::UniformResourceIdentifier(Ia5String::new(url)?),
    })
}

/// subjectAltName with one directoryName `CN=<document number>`, as Smart-ID certificates carry
/// it. Non-critical because the subject is not empty (RFC 5280 §4.2.1.6).
pub(crate) fn subject_alt_name_document_number(document_number: &str) -> Result<CustomExtension> {
    let common_name = AttributeTypeAndValue {
        oid: oids::COMMON_NAME,
        value: Any::encode_from(&Utf8StringRef::new(document_number)?)?,
    };
    let rdn = RelativeDistinguishedName(SetOfVec::try_from(vec![common_name])?);
    let name: Name = RdnSequence(vec![rdn]);
    let value = SubjectAltName(vec![GeneralName::DirectoryName(name)]);
    Ok(non_critical(&oids::SUBJECT_ALT_NAME, value.to_der()?))
}

/// subjectKeyIdentifier for end-user certificates (rcgen writes it only for CA certificates).
pub(crate) fn subject_key_identifier(key_id: &[u8]) -> Result<CustomExtension> {
    let value = OctetString::new(key_id)?;
    Ok(non_critical(&oids::SUBJECT_KEY_IDENTIFIER, value.to_der()?))
}

/// id-pkix-ocsp-nocheck (RFC 6960 §4.2.2.2.1), value NULL: relying parties trust the
/// responder certificate for its lifetime without asking about its own status.
pub(crate) fn ocsp_no_check() -> Result<CustomExtension> {
    Ok(non_critical(
        &oids::OCSP_NO_CHECK,
        der::asn1::Null.to_der()?,
    ))
}

/// ```text
/// QCStatement ::= SEQUENCE {
///     statementId   QC-STATEMENT.&id({SupportedStatements}),
///     statementInfo QC-STATEMENT.&Type({SupportedStatements}{@statementId}) OPTIONAL }
/// ```
#[derive(der::Sequence)]
struct QcStatement {
    statement_id: Oid,
    statement_info: Option<Any>,
}

/// RFC 3739 §3.2.6 (only the identifier; no name registration authorities):
/// ```text
/// SemanticsInformation ::= SEQUENCE {
///     semanticsIdentifier        OBJECT IDENTIFIER OPTIONAL,
///     nameRegistrationAuthorities NameRegistrationAuthorities OPTIONAL }
/// ```
#[derive(der::Sequence)]
struct SemanticsInformation {
    semantics_identifier: Option<Oid>,
}

/// ETSI EN 319 412-5 §4.3.4:
/// ```text
/// PdsLocation ::= SEQUENCE { url IA5String, language PrintableString (SIZE(2)) }
/// ```
#[derive(der::Sequence)]
struct PdsLocation {
    url: Ia5String,
    language: PrintableString,
}

impl QcStatement {
    fn flag(statement_id: Oid) -> Self {
        QcStatement {
            statement_id,
            statement_info: None,
        }
    }

    fn with_info(statement_id: Oid, info: &impl Encode) -> Result<Self> {
        let statement_info = Any::from_der(&info.to_der()?)?;
        Ok(QcStatement {
            statement_id,
            statement_info: Some(statement_info),
        })
    }
}

/// qcStatements of a qualified signing certificate (ETSI EN 319 412-5 §4, EN 319 412-1 §5.1.3):
/// the subject serialNumber is a natural-person semantics identifier; the certificate is
/// EU-qualified; the key is in a QSCD; it is for electronic signatures; and where the PKI
/// disclosure statement is.
pub(crate) fn qc_statements_qualified_esign(
    pds_url: &str,
    pds_language: &str,
) -> Result<CustomExtension> {
    let semantics = SemanticsInformation {
        semantics_identifier: Some(oids::QCS_SEMANTICS_ID_NATURAL),
    };
    let qc_types: Vec<Oid> = vec![oids::QCT_ESIGN];
    let pds_locations = vec![PdsLocation {
        url: Ia5String::new(pds_url)?,
        language: PrintableString::new(pds_language)?,
    }];
    let statements = vec![
        QcStatement::with_info(oids::QCS_PKIX_QC_SYNTAX_V2, &semantics)?,
        QcStatement::flag(oids::QCS_QC_COMPLIANCE),
        QcStatement::flag(oids::QCS_QC_SSCD),
        QcStatement::with_info(oids::QCS_QC_TYPE, &qc_types)?,
        QcStatement::with_info(oids::QCS_QC_PDS, &pds_locations)?,
    ];
    Ok(non_critical(&oids::QC_STATEMENTS, statements.to_der()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certificate_policies_encode_as_a_sequence_of_policy_information() {
        let ext = certificate_policies(&[oids::POLICY_NCP]).unwrap();
        // SEQUENCE { SEQUENCE { OID 0.4.0.2042.1.1 } }
        assert_eq!(
            ext.content(),
            [
                0x30, 0x0a, 0x30, 0x08, 0x06, 0x06, 0x04, 0x00, 0x8f, 0x7a, 0x01, 0x01
            ]
        );
        assert!(!ext.criticality());
    }

    #[test]
    fn qc_statements_round_trip_through_a_generic_parser() {
        let ext = qc_statements_qualified_esign("https://id.example.org/pki/pds", "en").unwrap();
        let parsed: Vec<Any> = Vec::from_der(ext.content()).unwrap();
        assert_eq!(parsed.len(), 5);
    }
}
