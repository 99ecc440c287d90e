//! Just enough of X.509 to check that a certificate the server issued carries the key the
//! device made: the RSA public key in its subjectPublicKeyInfo.

use der::Decode;
use der::asn1::UintRef;
use x509_cert::Certificate;

/// RFC 8017's RSAPublicKey.
#[derive(der::Sequence)]
struct RsaPublicKey<'a> {
    modulus: UintRef<'a>,
    public_exponent: UintRef<'a>,
}

/// The modulus (big-endian, no leading zeros) and the public exponent of a certificate's RSA
/// key.
pub fn rsa_public_key(certificate_der: &[u8]) -> Result<(Vec<u8>, u64), String> {
    let certificate = Certificate::from_der(certificate_der).map_err(|e| e.to_string())?;
    let key_bits = certificate
        .tbs_certificate
        .subject_public_key_info
        .subject_public_key
        .as_bytes()
        .ok_or("the public key is not a whole number of bytes")?;
    let key = RsaPublicKey::from_der(key_bits).map_err(|e| format!("not an RSA key: {e}"))?;
    let exponent = key.public_exponent.as_bytes();
    if exponent.len() > 8 {
        return Err("the public exponent is too large".into());
    }
    let exponent = exponent.iter().fold(0u64, |e, b| (e << 8) | u64::from(*b));
    Ok((key.modulus.as_bytes().to_vec(), exponent))
}

/// What the app shows of a certificate: its validity and the ETSI level its policies give.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CertificateSummary {
    /// Seconds since 1970-01-01 UTC.
    pub not_before: u64,
    pub not_after: u64,
    /// `QUALIFIED` when a policy is the ETSI qualified one (QCP-n-qscd, EN 319 411-2) or
    /// NCP+ (EN 319 411-1: the qualified level's authentication certificates), else `ADVANCED`.
    pub level: &'static str,
}

/// RFC 5280 §4.2.1.4.
const CERTIFICATE_POLICIES: der::oid::ObjectIdentifier =
    der::oid::ObjectIdentifier::new_unwrap("2.5.29.32");

/// ETSI EN 319 411-2 QCP-n-qscd and EN 319 411-1 NCP+.
const QUALIFIED_POLICIES: [&str; 2] = ["0.4.0.194112.1.2", "0.4.0.2042.1.2"];

/// The validity and level of a certificate the server issued.
pub fn summary(certificate_der: &[u8]) -> Result<CertificateSummary, String> {
    let certificate = Certificate::from_der(certificate_der).map_err(|e| e.to_string())?;
    let tbs = &certificate.tbs_certificate;
    let seconds = |time: x509_cert::time::Time| time.to_unix_duration().as_secs();
    let qualified = tbs
        .extensions
        .iter()
        .flatten()
        .filter(|extension| extension.extn_id == CERTIFICATE_POLICIES)
        .filter_map(|extension| {
            x509_cert::ext::pkix::CertificatePolicies::from_der(extension.extn_value.as_bytes())
                .ok()
        })
        .flat_map(|policies| policies.0)
        .any(|policy| QUALIFIED_POLICIES.contains(&policy.policy_identifier.to_string().as_str()));
    Ok(CertificateSummary {
        not_before: seconds(tbs.validity.not_before),
        not_after: seconds(tbs.validity.not_after),
        level: if qualified { "QUALIFIED" } else { "ADVANCED" },
    })
}
