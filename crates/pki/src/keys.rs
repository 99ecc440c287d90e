//! The two kinds of key the CA handles: its own ECDSA P-384 keys, and the end user's RSA public
//! key, of which it only ever sees the modulus. Also certificate serial numbers.

use std::sync::Arc;

use der::asn1::UintRef;
use der::{Decode, Encode};
use rcgen::{KeyPair, PKCS_ECDSA_P384_SHA384, PublicKeyData, SignatureAlgorithm, SigningKey};

use zeroize::{Zeroize, Zeroizing};

use crate::error::{PkiError, Result};

/// Bit lengths accepted for an end user's composite modulus: two 2048- or 3072-bit halves.
pub const ACCEPTED_MODULUS_BITS: [usize; 2] = [4096, 6144];

/// The only public exponent SplitID keys use.
const PUBLIC_EXPONENT: [u8; 3] = [0x01, 0x00, 0x01];

/// ```text
/// RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }   -- RFC 8017 A.1.1
/// ```
#[derive(der::Sequence)]
pub(crate) struct RsaPublicKey<'a> {
    pub(crate) modulus: UintRef<'a>,
    pub(crate) public_exponent: UintRef<'a>,
}

/// An end user's RSA public key (modulus n, e = 65537), in the form rcgen embeds as the
/// subject public key of a certificate it signs with the CA key.
pub(crate) struct RsaSubjectKey {
    rsa_public_key_der: Vec<u8>,
}

impl RsaSubjectKey {
    /// Accepts only a 4096- or 6144-bit odd modulus (leading zero octets are ignored).
    pub(crate) fn from_modulus(modulus: &[u8]) -> Result<Self> {
        let n = strip_leading_zeros(modulus);
        let bits = bit_length(n);
        if !ACCEPTED_MODULUS_BITS.contains(&bits) {
            return Err(PkiError::ModulusSize { bits });
        }
        if n.last().is_some_and(|low| low & 1 == 0) {
            return Err(PkiError::Modulus("an RSA modulus is odd"));
        }
        let key = RsaPublicKey {
            modulus: UintRef::new(n)?,
            public_exponent: UintRef::new(&PUBLIC_EXPONENT)?,
        };
        Ok(RsaSubjectKey {
            rsa_public_key_der: key.to_der()?,
        })
    }
}

impl PublicKeyData for RsaSubjectKey {
    fn der_bytes(&self) -> &[u8] {
        &self.rsa_public_key_der
    }

    /// rcgen takes the SubjectPublicKeyInfo algorithm from a signature algorithm; every
    /// PKCS#1 v1.5 entry writes `rsaEncryption` with NULL parameters, which is what an RSA key
    /// is. The hash in the name is not used: the user signs with PKCS#1 v1.5 or PSS as asked.
    fn algorithm(&self) -> &'static SignatureAlgorithm {
        &rcgen::PKCS_RSA_SHA256
    }
}

/// Reads back (n, e) from an RSAPublicKey, requiring e = 65537. Returns n without leading zeros.
pub(crate) fn modulus_from_rsa_public_key(
    rsa_public_key_der: &[u8],
) -> std::result::Result<Vec<u8>, &'static str> {
    let key = RsaPublicKey::from_der(rsa_public_key_der)
        .map_err(|_| "subject key is not an RSAPublicKey")?;
    if key.public_exponent.as_bytes() != PUBLIC_EXPONENT {
        return Err("public exponent is not 65537");
    }
    Ok(key.modulus.as_bytes().to_vec())
}

fn strip_leading_zeros(bytes: &[u8]) -> &[u8] {
    let first_nonzero = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    &bytes[first_nonzero..]
}

/// Bit length of a big-endian number without leading zero octets.
fn bit_length(n: &[u8]) -> usize {
    match n.first() {
        None => 0,
        Some(&top) => n.len() * 8 - top.leading_zeros() as usize,
    }
}

/// A software ECDSA P-384 key, signing with SHA-384 (as SK's 2024E CA line): a CA key kept by
/// the caller in PKCS#8 form, or the OCSP responder's key (always in software: it is not a CA
/// key, and answering OCSP must not wait on an HSM).
///
/// rcgen keeps a PKCS#8 copy of the private key in its `KeyPair`; this wrapper wipes it on drop.
/// (AWS-LC clears its own key object when freeing it.)
pub(crate) struct SoftwareKey(pub(crate) KeyPair);

impl SoftwareKey {
    pub(crate) fn generate() -> Result<Self> {
        Ok(SoftwareKey(KeyPair::generate_for(&PKCS_ECDSA_P384_SHA384)?))
    }

    /// Loads a stored key, refusing anything but an ECDSA P-384 key.
    pub(crate) fn from_pkcs8(pkcs8: &[u8]) -> Result<Self> {
        let key = KeyPair::try_from(pkcs8)
            .map_err(|_| PkiError::CaParts("CA key is not a readable private key"))?;
        if key.algorithm() != &PKCS_ECDSA_P384_SHA384 {
            return Err(PkiError::CaParts("CA key is not an ECDSA P-384 key"));
        }
        Ok(SoftwareKey(key))
    }

    pub(crate) fn pkcs8(&self) -> Zeroizing<Vec<u8>> {
        Zeroizing::new(self.0.serialize_der())
    }
}

impl Drop for SoftwareKey {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl PublicKeyData for SoftwareKey {
    fn der_bytes(&self) -> &[u8] {
        self.0.der_bytes()
    }

    fn algorithm(&self) -> &'static SignatureAlgorithm {
        self.0.algorithm()
    }
}

impl SigningKey for SoftwareKey {
    fn sign(&self, msg: &[u8]) -> std::result::Result<Vec<u8>, rcgen::Error> {
        self.0.sign(msg)
    }
}

/// A CA key that the caller keeps out of this crate's reach, typically in an HSM: the CA never
/// sees the private key and asks for each signature (certificates, CRLs, the OCSP responder's
/// certificate). Implementations must be ECDSA P-384 keys signing SHA-384 digests.
///
/// This crate does no I/O, so it knows nothing of how the key is reached (the server implements
/// this for PKCS#11 tokens).
pub trait CaSigner: Send + Sync {
    /// The public key: an uncompressed SEC1 point, `0x04 ‖ x ‖ y` (97 octets for P-384).
    fn public_key(&self) -> &[u8];

    /// The ECDSA P-384 signature of SHA-384(`message`), DER-encoded as an ECDSA-Sig-Value
    /// (`SEQUENCE { r INTEGER, s INTEGER }`, RFC 3279 §2.2.3), as X.509 carries it.
    fn sign(&self, message: &[u8]) -> std::result::Result<Vec<u8>, CaSignerError>;
}

/// A [`CaSigner`] could not sign (the HSM is unreachable, the session is gone, …). The message
/// is for logs: it must not contain secrets.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct CaSignerError(pub String);

/// Octets of an uncompressed P-384 point.
const P384_POINT_LEN: usize = 97;

/// A CA key, root or issuing: in software (stored by the caller in PKCS#8 form, sealed) or
/// external (a [`CaSigner`]).
pub(crate) enum CaKey {
    Software(SoftwareKey),
    External(Arc<dyn CaSigner>),
}

impl CaKey {
    pub(crate) fn generate() -> Result<Self> {
        Ok(CaKey::Software(SoftwareKey::generate()?))
    }

    pub(crate) fn from_pkcs8(pkcs8: &[u8]) -> Result<Self> {
        Ok(CaKey::Software(SoftwareKey::from_pkcs8(pkcs8)?))
    }

    /// An external key, refusing one whose public key is not a P-384 point.
    pub(crate) fn external(signer: Arc<dyn CaSigner>) -> Result<Self> {
        let point = signer.public_key();
        if point.len() != P384_POINT_LEN || point[0] != 0x04 {
            return Err(PkiError::CaParts(
                "external CA key is not an uncompressed ECDSA P-384 public key",
            ));
        }
        Ok(CaKey::External(signer))
    }

    /// The stored form: PKCS#8 for a software key, the signer itself for an external one.
    pub(crate) fn to_parts(&self) -> CaKeyParts {
        match self {
            CaKey::Software(key) => CaKeyParts::Pkcs8(key.pkcs8()),
            CaKey::External(signer) => CaKeyParts::External(signer.clone()),
        }
    }
}

impl PublicKeyData for CaKey {
    /// For ECDSA, rcgen's "DER bytes" are the raw public key point (the BIT STRING content of
    /// the SubjectPublicKeyInfo).
    fn der_bytes(&self) -> &[u8] {
        match self {
            CaKey::Software(key) => key.der_bytes(),
            CaKey::External(signer) => signer.public_key(),
        }
    }

    fn algorithm(&self) -> &'static SignatureAlgorithm {
        &PKCS_ECDSA_P384_SHA384
    }
}

impl SigningKey for CaKey {
    fn sign(&self, msg: &[u8]) -> std::result::Result<Vec<u8>, rcgen::Error> {
        match self {
            CaKey::Software(key) => key.sign(msg),
            // The signer logs its own failure (with what it knows: token, key label); rcgen
            // has no error variant that carries a message.
            CaKey::External(signer) => signer.sign(msg).map_err(|_| rcgen::Error::RemoteKeyError),
        }
    }
}

/// A certificate serial number: positive, at most 20 octets once DER-encoded (RFC 5280 §4.1.2.2).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SerialNumber(Vec<u8>);

/// Octets of a random serial: 16 octets with the top bit cleared (so it stays positive and needs
/// no sign octet) and the next bit set (so it is always exactly 16 octets): 126 random bits,
/// well above the 64 that the CA/B Forum and ETSI EN 319 412 ask for.
const RANDOM_SERIAL_OCTETS: usize = 16;

impl SerialNumber {
    /// A fresh serial with 126 random bits from the operating system.
    pub fn random() -> Result<Self> {
        let mut octets = [0u8; RANDOM_SERIAL_OCTETS];
        aws_lc_rs::rand::fill(&mut octets)
            .map_err(|_| PkiError::Backend("random number generator failed".into()))?;
        octets[0] = (octets[0] & 0x7f) | 0x40;
        Ok(SerialNumber(octets.to_vec()))
    }

    /// A serial chosen by the caller, as an unsigned big-endian number (leading zeros ignored).
    pub fn from_be_bytes(bytes: &[u8]) -> Result<Self> {
        let n = strip_leading_zeros(bytes);
        if n.is_empty() {
            return Err(PkiError::Serial("a serial number is positive"));
        }
        let needs_sign_octet = n[0] & 0x80 != 0;
        if n.len() + usize::from(needs_sign_octet) > 20 {
            return Err(PkiError::Serial(
                "a serial number is at most 20 octets encoded",
            ));
        }
        Ok(SerialNumber(n.to_vec()))
    }

    /// The serial as an unsigned big-endian number without leading zeros.
    pub fn as_be_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Lower-case hex, as CRL and OCSP tooling print it.
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    pub(crate) fn to_rcgen(&self) -> rcgen::SerialNumber {
        rcgen::SerialNumber::from_slice(&self.0)
    }
}

/// Where a CA's private key is: in software (PKCS#8 DER, for the caller to store sealed) or
/// behind a [`CaSigner`] (an HSM: the caller stores only its reference to the key).
#[derive(Clone)]
pub enum CaKeyParts {
    /// ECDSA P-384 private key, PKCS#8 DER.
    Pkcs8(Zeroizing<Vec<u8>>),
    /// A key this crate can only ask for signatures.
    External(Arc<dyn CaSigner>),
}

impl CaKeyParts {
    pub(crate) fn to_key(&self) -> Result<CaKey> {
        match self {
            CaKeyParts::Pkcs8(pkcs8) => CaKey::from_pkcs8(pkcs8),
            CaKeyParts::External(signer) => CaKey::external(signer.clone()),
        }
    }
}

impl std::fmt::Debug for CaKeyParts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CaKeyParts::Pkcs8(_) => f.write_str("Pkcs8([secret])"),
            CaKeyParts::External(_) => f.write_str("External"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn modulus(bits: usize) -> Vec<u8> {
        let mut n = vec![0x5au8; bits.div_ceil(8)];
        n[0] = 0x80 >> ((8 - bits % 8) % 8);
        *n.last_mut().unwrap() |= 1;
        n
    }

    #[test]
    fn only_4096_and_6144_bit_odd_moduli_are_accepted() {
        assert!(RsaSubjectKey::from_modulus(&modulus(4096)).is_ok());
        assert!(RsaSubjectKey::from_modulus(&modulus(6144)).is_ok());
        let mut padded = vec![0, 0];
        padded.extend(modulus(4096));
        assert!(RsaSubjectKey::from_modulus(&padded).is_ok());
        for bits in [0, 2048, 3072, 4095, 4097, 6143, 8192] {
            let n = if bits == 0 { vec![] } else { modulus(bits) };
            assert_eq!(
                RsaSubjectKey::from_modulus(&n).err(),
                Some(PkiError::ModulusSize { bits })
            );
        }
        let mut even = modulus(4096);
        *even.last_mut().unwrap() &= 0xfe;
        assert!(matches!(
            RsaSubjectKey::from_modulus(&even),
            Err(PkiError::Modulus(_))
        ));
    }

    #[test]
    fn the_modulus_reads_back_unchanged() {
        let n = modulus(6144);
        let key = RsaSubjectKey::from_modulus(&n).unwrap();
        assert_eq!(modulus_from_rsa_public_key(key.der_bytes()).unwrap(), n);
    }

    #[test]
    fn random_serials_are_positive_16_octets_and_differ() {
        let a = SerialNumber::random().unwrap();
        let b = SerialNumber::random().unwrap();
        assert_ne!(a, b);
        for s in [a, b] {
            assert_eq!(s.as_be_bytes().len(), 16);
            assert_eq!(s.as_be_bytes()[0] & 0xc0, 0x40);
        }
    }

    #[test]
    fn caller_serials_are_checked() {
        assert_eq!(
            SerialNumber::from_be_bytes(&[0, 0, 7])
                .unwrap()
                .as_be_bytes(),
            [7]
        );
        assert!(SerialNumber::from_be_bytes(&[]).is_err());
        assert!(SerialNumber::from_be_bytes(&[0, 0]).is_err());
        assert!(SerialNumber::from_be_bytes(&[0x7f; 20]).is_ok());
        assert!(SerialNumber::from_be_bytes(&[0x80; 20]).is_err());
        assert!(SerialNumber::from_be_bytes(&[0x01; 21]).is_err());
    }
}
