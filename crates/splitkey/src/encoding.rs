//! Message encoding: how the hash a relying party sends becomes the number μ that is signed.
//!
//! Written here rather than taken from a crate because the split-key protocol needs the
//! *encoded message itself* (both parties exponentiate μ), which RSA libraries keep internal.
//! The code follows RFC 8017 §9.1 (EMSA-PSS) and §9.2 (EMSA-PKCS1-v1_5) step by step.

use crate::arith::os_random;
use crate::{Error, HalfSize};

/// Hash functions a relying party may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HashAlgorithm {
    Sha256,
    Sha384,
    Sha512,
    /// SHA3 (FIPS 202): RP API v3 signs with RSASSA-PSS over these too.
    Sha3_256,
    Sha3_384,
    Sha3_512,
}

impl HashAlgorithm {
    /// Every supported algorithm: SHA-2 weakest first, then SHA3 weakest first.
    pub const ALL: [HashAlgorithm; 6] = [
        Self::Sha256,
        Self::Sha384,
        Self::Sha512,
        Self::Sha3_256,
        Self::Sha3_384,
        Self::Sha3_512,
    ];

    /// Digest length in bytes.
    pub fn output_len(self) -> usize {
        match self {
            Self::Sha256 | Self::Sha3_256 => 32,
            Self::Sha384 | Self::Sha3_384 => 48,
            Self::Sha512 | Self::Sha3_512 => 64,
        }
    }

    /// The name FIPS 180-4 and FIPS 202 give it (`SHA-256`, …, `SHA3-512`), as RP API v3 and
    /// the app API write it.
    pub fn api_name(self) -> &'static str {
        match self {
            Self::Sha256 => "SHA-256",
            Self::Sha384 => "SHA-384",
            Self::Sha512 => "SHA-512",
            Self::Sha3_256 => "SHA3-256",
            Self::Sha3_384 => "SHA3-384",
            Self::Sha3_512 => "SHA3-512",
        }
    }

    /// Hashes `data` with this algorithm.
    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        self.digest_parts(&[data])
    }

    fn digest_parts(self, parts: &[&[u8]]) -> Vec<u8> {
        crate::arith::digest(self, parts)
    }

    /// DER of the `DigestInfo` header that precedes the hash in PKCS#1 v1.5 (RFC 8017 §9.2
    /// note 1; for SHA3 the same structure with the NIST OIDs 2.16.840.1.101.3.4.2.8–10).
    fn digest_info_prefix(self) -> &'static [u8] {
        match self {
            Self::Sha3_256 => &[
                0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
                0x08, 0x05, 0x00, 0x04, 0x20,
            ],
            Self::Sha3_384 => &[
                0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
                0x09, 0x05, 0x00, 0x04, 0x30,
            ],
            Self::Sha3_512 => &[
                0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
                0x0a, 0x05, 0x00, 0x04, 0x40,
            ],
            Self::Sha256 => &[
                0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
                0x01, 0x05, 0x00, 0x04, 0x20,
            ],
            Self::Sha384 => &[
                0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
                0x02, 0x05, 0x00, 0x04, 0x30,
            ],
            Self::Sha512 => &[
                0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
                0x03, 0x05, 0x00, 0x04, 0x40,
            ],
        }
    }
}

/// Signature padding scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Padding {
    /// RSASSA-PKCS1-v1_5 with DigestInfo (Smart-ID RP API v1/v2).
    Pkcs1v15,
    /// RSASSA-PSS, MGF1 with the same hash, salt as long as the hash (RP API v3).
    Pss,
}

/// What is to be signed: the hash, how it is padded, and the resulting encoded message μ
/// (big-endian, exactly as long as the composite modulus).
///
/// The server builds it from a relying party's request; the device rebuilds or checks it
/// with [`SignRequest::from_parts`] before it lets a PIN anywhere near it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignRequest {
    hash: HashAlgorithm,
    padding: Padding,
    digest: Vec<u8>,
    encoded: Vec<u8>,
}

impl SignRequest {
    /// Encodes `digest` for a key of size `half` with the given padding (PSS draws a fresh
    /// random salt).
    pub fn new(
        half: HalfSize,
        hash: HashAlgorithm,
        padding: Padding,
        digest: &[u8],
    ) -> Result<Self, Error> {
        check_digest_len(hash, digest)?;
        let k = half.composite_bytes();
        let encoded = match padding {
            Padding::Pkcs1v15 => emsa_pkcs1v15_encode(hash, digest, k)?,
            Padding::Pss => {
                let mut salt = vec![0u8; hash.output_len()];
                os_random(&mut salt)?;
                emsa_pss_encode(hash, digest, &salt, half.composite_bits())?
            }
        };
        Ok(SignRequest {
            hash,
            padding,
            digest: digest.to_vec(),
            encoded,
        })
    }

    /// Rebuilds a request received from the other party and checks that `encoded` really
    /// encodes `digest` with `hash` and `padding` for a key of size `half`.
    pub fn from_parts(
        half: HalfSize,
        hash: HashAlgorithm,
        padding: Padding,
        digest: &[u8],
        encoded: &[u8],
    ) -> Result<Self, Error> {
        check_digest_len(hash, digest)?;
        if encoded.len() != half.composite_bytes() {
            return Err(Error::InvalidInput(
                "encoded message is not as long as the modulus",
            ));
        }
        let matches = match padding {
            Padding::Pkcs1v15 => emsa_pkcs1v15_encode(hash, digest, encoded.len())? == encoded,
            Padding::Pss => emsa_pss_verify(hash, digest, encoded, half.composite_bits()),
        };
        if !matches {
            return Err(Error::InvalidInput(
                "encoded message does not encode the given hash",
            ));
        }
        Ok(SignRequest {
            hash,
            padding,
            digest: digest.to_vec(),
            encoded: encoded.to_vec(),
        })
    }

    pub fn hash(&self) -> HashAlgorithm {
        self.hash
    }

    pub fn padding(&self) -> Padding {
        self.padding
    }

    /// The hash that is being signed.
    pub fn digest(&self) -> &[u8] {
        &self.digest
    }

    /// The encoded message μ, as many bytes as the composite modulus.
    pub fn encoded(&self) -> &[u8] {
        &self.encoded
    }

    /// The key size this request was encoded for.
    pub fn half_size(&self) -> Result<HalfSize, Error> {
        HalfSize::for_composite_bits(self.encoded.len() * 8)
    }

    /// Checks that a recovered message (`s^e mod n`, as bytes) encodes this request's hash.
    /// For PSS any salt is accepted, as a standard verifier does.
    pub(crate) fn is_encoded_by(&self, recovered: &[u8]) -> bool {
        match self.padding {
            Padding::Pkcs1v15 => recovered == self.encoded.as_slice(),
            Padding::Pss => {
                emsa_pss_verify(self.hash, &self.digest, recovered, recovered.len() * 8)
            }
        }
    }
}

fn check_digest_len(hash: HashAlgorithm, digest: &[u8]) -> Result<(), Error> {
    if digest.len() == hash.output_len() {
        Ok(())
    } else {
        Err(Error::InvalidInput(
            "hash length does not match its algorithm",
        ))
    }
}

/// RFC 8017 §9.2: `0x00 ‖ 0x01 ‖ 0xff… ‖ 0x00 ‖ DigestInfo ‖ H`, `k` bytes long.
fn emsa_pkcs1v15_encode(hash: HashAlgorithm, digest: &[u8], k: usize) -> Result<Vec<u8>, Error> {
    let prefix = hash.digest_info_prefix();
    let t_len = prefix.len() + digest.len();
    if k < t_len + 11 {
        return Err(Error::InvalidInput("modulus too short for the hash"));
    }
    let mut em = Vec::with_capacity(k);
    em.extend_from_slice(&[0x00, 0x01]);
    em.resize(k - t_len - 1, 0xff);
    em.push(0x00);
    em.extend_from_slice(prefix);
    em.extend_from_slice(digest);
    Ok(em)
}

/// MGF1 (RFC 8017 B.2.1) with the given hash.
fn mgf1(hash: HashAlgorithm, seed: &[u8], len: usize) -> Vec<u8> {
    let mut mask = Vec::with_capacity(len + hash.output_len());
    let mut counter: u32 = 0;
    while mask.len() < len {
        mask.extend(hash.digest_parts(&[seed, &counter.to_be_bytes()]));
        counter += 1;
    }
    mask.truncate(len);
    mask
}

/// The number of leading bits of EM that must be zero: `8·emLen − emBits`.
fn pss_lengths(modulus_bits: usize) -> (usize, usize, u8) {
    let em_bits = modulus_bits - 1;
    let em_len = em_bits.div_ceil(8);
    let unused_bits = 8 * em_len - em_bits;
    let top_mask = 0xffu8 >> unused_bits;
    (em_bits, em_len, top_mask)
}

/// RFC 8017 §9.1.1 with `sLen = hLen`, returned left-padded to the modulus length.
fn emsa_pss_encode(
    hash: HashAlgorithm,
    digest: &[u8],
    salt: &[u8],
    modulus_bits: usize,
) -> Result<Vec<u8>, Error> {
    let h_len = hash.output_len();
    let (_, em_len, top_mask) = pss_lengths(modulus_bits);
    if em_len < h_len + salt.len() + 2 {
        return Err(Error::InvalidInput("modulus too short for the hash"));
    }
    let h = hash.digest_parts(&[&[0u8; 8], digest, salt]);
    let db_len = em_len - h_len - 1;
    let mut db = vec![0u8; db_len - salt.len() - 1];
    db.push(0x01);
    db.extend_from_slice(salt);
    let mask = mgf1(hash, &h, db_len);
    db.iter_mut().zip(&mask).for_each(|(b, m)| *b ^= m);
    db[0] &= top_mask;

    let k = modulus_bits.div_ceil(8);
    let mut out = vec![0u8; k - em_len];
    out.extend_from_slice(&db);
    out.extend_from_slice(&h);
    out.push(0xbc);
    Ok(out)
}

/// RFC 8017 §9.1.2 with `sLen = hLen`. `encoded` is left-padded to the modulus length.
fn emsa_pss_verify(
    hash: HashAlgorithm,
    digest: &[u8],
    encoded: &[u8],
    modulus_bits: usize,
) -> bool {
    let h_len = hash.output_len();
    let s_len = h_len;
    let (_, em_len, top_mask) = pss_lengths(modulus_bits);
    let k = modulus_bits.div_ceil(8);
    if encoded.len() != k || em_len < h_len + s_len + 2 {
        return false;
    }
    let (padding, em) = encoded.split_at(k - em_len);
    if padding.iter().any(|&b| b != 0) || em[em_len - 1] != 0xbc || em[0] & !top_mask != 0 {
        return false;
    }
    let db_len = em_len - h_len - 1;
    let (masked_db, rest) = em.split_at(db_len);
    let h = &rest[..h_len];
    let mask = mgf1(hash, h, db_len);
    let mut db: Vec<u8> = masked_db.iter().zip(&mask).map(|(b, m)| b ^ m).collect();
    db[0] &= top_mask;
    let separator = db_len - s_len - 1;
    if db[..separator].iter().any(|&b| b != 0) || db[separator] != 0x01 {
        return false;
    }
    let salt = &db[separator + 1..];
    hash.digest_parts(&[&[0u8; 8], digest, salt]) == h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkcs1_layout_matches_rfc8017() {
        let digest = HashAlgorithm::Sha256.digest(b"abc");
        let em = emsa_pkcs1v15_encode(HashAlgorithm::Sha256, &digest, 512).unwrap();
        assert_eq!(em.len(), 512);
        assert_eq!(&em[..2], &[0x00, 0x01]);
        let t_start = 512 - 19 - 32;
        assert!(em[2..t_start - 1].iter().all(|&b| b == 0xff));
        assert_eq!(em[t_start - 1], 0x00);
        assert_eq!(&em[t_start + 19..], digest.as_slice());
    }

    #[test]
    fn pss_round_trips_and_rejects_tampering() {
        for hash in HashAlgorithm::ALL {
            for bits in [4096, 6144, 4095] {
                let digest = hash.digest(b"message");
                let salt = vec![7u8; hash.output_len()];
                let em = emsa_pss_encode(hash, &digest, &salt, bits).unwrap();
                assert_eq!(em.len(), bits.div_ceil(8));
                assert!(emsa_pss_verify(hash, &digest, &em, bits));
                let other = hash.digest(b"other message");
                assert!(!emsa_pss_verify(hash, &other, &em, bits));
                for i in [0, em.len() / 2, em.len() - 2, em.len() - 1] {
                    let mut bad = em.clone();
                    bad[i] ^= 0x01;
                    assert!(!emsa_pss_verify(hash, &digest, &bad, bits), "byte {i}");
                }
            }
        }
    }

    #[test]
    fn from_parts_refuses_mismatched_encoding() {
        let half = HalfSize::Bits2048;
        let digest = HashAlgorithm::Sha512.digest(b"pay 10 EUR");
        let request =
            SignRequest::new(half, HashAlgorithm::Sha512, Padding::Pkcs1v15, &digest).unwrap();
        let other = HashAlgorithm::Sha512.digest(b"pay 10000 EUR");
        let forged = SignRequest::from_parts(
            half,
            HashAlgorithm::Sha512,
            Padding::Pkcs1v15,
            &other,
            request.encoded(),
        );
        assert!(matches!(forged, Err(Error::InvalidInput(_))));
        let wrong_len = SignRequest::new(half, HashAlgorithm::Sha512, Padding::Pss, &digest[..32]);
        assert!(matches!(wrong_len, Err(Error::InvalidInput(_))));
    }
}
