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
