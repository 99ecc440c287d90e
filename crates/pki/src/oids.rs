//! Every object identifier the profile uses, in one place, named after the standard that defines it.
//!
//! Public so that the server and the SDKs test for the same policy OIDs the CA writes.

use der::asn1::ObjectIdentifier as Oid;

// --- X.520 attribute types (subject and issuer names) ---

/// id-at-commonName
pub const COMMON_NAME: Oid = Oid::new_unwrap("2.5.4.3");
/// id-at-surname
pub const SURNAME: Oid = Oid::new_unwrap("2.5.4.4");
/// id-at-serialNumber (carries the ETSI semantics identifier, EN 319 412-1 §5.1.3)
pub const SERIAL_NUMBER: Oid = Oid::new_unwrap("2.5.4.5");
/// id-at-countryName
pub const COUNTRY_NAME: Oid = Oid::new_unwrap("2.5.4.6");
/// id-at-organizationName
pub const ORGANIZATION_NAME: Oid = Oid::new_unwrap("2.5.4.10");
/// id-at-givenName
pub const GIVEN_NAME: Oid = Oid::new_unwrap("2.5.4.42");
/// id-at-organizationIdentifier (EN 319 412-1 §5.1.4, e.g. `NTREE-12345678`)
pub const ORGANIZATION_IDENTIFIER: Oid = Oid::new_unwrap("2.5.4.97");

// --- RFC 5280 / RFC 3739 extensions ---

/// id-ce-subjectKeyIdentifier
pub const SUBJECT_KEY_IDENTIFIER: Oid = Oid::new_unwrap("2.5.29.14");
/// id-ce-keyUsage
pub const KEY_USAGE: Oid = Oid::new_unwrap("2.5.29.15");
/// id-ce-subjectAltName
pub const SUBJECT_ALT_NAME: Oid = Oid::new_unwrap("2.5.29.17");
/// id-ce-certificatePolicies
pub const CERTIFICATE_POLICIES: Oid = Oid::new_unwrap("2.5.29.32");
/// anyPolicy, asserted by the issuing CA so that it constrains no leaf policy
pub const ANY_POLICY: Oid = Oid::new_unwrap("2.5.29.32.0");
/// id-pe-authorityInfoAccess
pub const AUTHORITY_INFO_ACCESS: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.1.1");
/// id-pe-qcStatements (RFC 3739)
pub const QC_STATEMENTS: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.1.3");
/// id-ad-ocsp
pub const AD_OCSP: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.48.1");
/// id-ad-caIssuers
pub const AD_CA_ISSUERS: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.48.2");
/// id-kp-clientAuth
pub const KP_CLIENT_AUTH: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.3.2");
/// id-kp-OCSPSigning (RFC 6960 §4.2.2.2): the delegated responder's extended key usage
pub const KP_OCSP_SIGNING: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.3.9");
/// id-ce-cRLNumber
pub const CRL_NUMBER: Oid = Oid::new_unwrap("2.5.29.20");
/// id-ce-cRLReasons (the reasonCode CRL entry extension)
pub const CRL_REASON: Oid = Oid::new_unwrap("2.5.29.21");
/// id-ce-authorityKeyIdentifier
pub const AUTHORITY_KEY_IDENTIFIER: Oid = Oid::new_unwrap("2.5.29.35");

// --- RFC 6960 / RFC 8954 OCSP ---

/// id-pkix-ocsp-nonce
pub const OCSP_NONCE: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.48.1.2");
/// id-pkix-ocsp-nocheck: clients need not check the responder certificate's own status
pub const OCSP_NO_CHECK: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.48.1.5");

// --- Algorithms ---

/// SHA-1 (OCSP CertIDs only: openssl's default; it identifies, it signs nothing)
pub const SHA1: Oid = Oid::new_unwrap("1.3.14.3.2.26");
/// SHA-256
pub const SHA256: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.1");
/// SHA-384
pub const SHA384: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.2");
/// SHA-512
pub const SHA512: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.3");
/// ecdsa-with-SHA384: how every CA key (and the OCSP responder) signs
pub const ECDSA_WITH_SHA384: Oid = Oid::new_unwrap("1.2.840.10045.4.3.3");
/// rsaEncryption: the algorithm of every end-user (split-key RSA) public key
pub const RSA_ENCRYPTION: Oid = Oid::new_unwrap("1.2.840.113549.1.1.1");

// --- Certificate policies ---

/// SplitID's own policy for the advanced (non-qualified) level.
/// PLACEHOLDER arc: 99999 is not an assigned IANA private enterprise number; replace it with
/// ours before issuing anything that leaves a test environment.
pub const SPLITID_POLICY_ADVANCED: Oid = Oid::new_unwrap("1.3.6.1.4.1.99999.1.1");
/// SplitID's own policy for the qualified level (same PLACEHOLDER arc as above).
pub const SPLITID_POLICY_QUALIFIED: Oid = Oid::new_unwrap("1.3.6.1.4.1.99999.1.2");
/// ETSI EN 319 411-1 NCP (normalized certificate policy)
pub const POLICY_NCP: Oid = Oid::new_unwrap("0.4.0.2042.1.1");
/// ETSI EN 319 411-1 NCP+ (NCP with a secure cryptographic device)
pub const POLICY_NCP_PLUS: Oid = Oid::new_unwrap("0.4.0.2042.1.2");
/// ETSI EN 319 411-2 QCP-n-qscd (qualified, natural person, key in a QSCD)
pub const POLICY_QCP_N_QSCD: Oid = Oid::new_unwrap("0.4.0.194112.1.2");

// --- ETSI EN 319 412-5 / 319 412-1 QC statements ---

/// id-qcs-pkixQCSyntax-v2 (RFC 3739), carries the semantics identifier
pub const QCS_PKIX_QC_SYNTAX_V2: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.11.2");
/// id-etsi-qcs-semanticsId-Natural (EN 319 412-1 §5.1.3)
pub const QCS_SEMANTICS_ID_NATURAL: Oid = Oid::new_unwrap("0.4.0.194121.1.1");
/// id-etsi-qcs-QcCompliance
pub const QCS_QC_COMPLIANCE: Oid = Oid::new_unwrap("0.4.0.1862.1.1");
/// id-etsi-qcs-QcSSCD
pub const QCS_QC_SSCD: Oid = Oid::new_unwrap("0.4.0.1862.1.4");
/// id-etsi-qcs-QcPDS
pub const QCS_QC_PDS: Oid = Oid::new_unwrap("0.4.0.1862.1.5");
/// id-etsi-qcs-QcType
pub const QCS_QC_TYPE: Oid = Oid::new_unwrap("0.4.0.1862.1.6");
/// id-etsi-qct-esign
pub const QCT_ESIGN: Oid = Oid::new_unwrap("0.4.0.1862.1.6.1");

/// The arcs of `oid` in the `u64` form rcgen's API takes.
pub(crate) fn rcgen_arcs(oid: &Oid) -> Vec<u64> {
    oid.arcs().map(u64::from).collect()
}
