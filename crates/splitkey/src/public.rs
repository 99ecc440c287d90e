//! The composite public key, signatures, and standard RSA verification of them.

use crate::arith::{BigNum, Modulus};
use crate::{Error, HalfSize, PUBLIC_EXPONENT, SignRequest};

/// A finished RSA signature, as many bytes as the composite modulus.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature(Vec<u8>);

impl Signature {
    pub fn from_bytes(bytes: &[u8]) -> Self {
        Signature(bytes.to_vec())
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

/// The composite RSA public key (n = n1·n2, e = 65537): an ordinary RSA key to everyone
/// who verifies with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompositePublicKey {
    half: HalfSize,
    modulus: Vec<u8>,
}

impl CompositePublicKey {
    /// A public key from its modulus, which must have exactly 4096 or 6144 bits.
    pub fn from_modulus(modulus: &[u8]) -> Result<Self, Error> {
        let bits = BigNum::from_be_bytes(modulus)?.num_bits();
        let half = HalfSize::for_composite_bits(bits)?;
        let first = modulus.len() - half.composite_bytes();
        if modulus[..first].iter().any(|&b| b != 0) {
            return Err(Error::InvalidInput("modulus has the wrong size"));
        }
        Ok(Self::from_modulus_unchecked(
            half,
            modulus[first..].to_vec(),
        ))
    }

    pub(crate) fn from_modulus_unchecked(half: HalfSize, modulus: Vec<u8>) -> Self {
        CompositePublicKey { half, modulus }
    }

    pub fn half_size(&self) -> HalfSize {
        self.half
    }

    /// The modulus n, big-endian, without leading zeros.
    pub fn modulus(&self) -> &[u8] {
        &self.modulus
    }

    pub fn exponent(&self) -> u32 {
        PUBLIC_EXPONENT
    }

    /// Standard RSA verification: `s^e mod n` must encode the request's hash with its padding.
    /// The device runs this on the signature the server returns before it accepts it.
    pub fn verify(&self, request: &SignRequest, signature: &Signature) -> Result<(), Error> {
        let k = self.half.composite_bytes();
        let bad = Error::InvalidInput("signature does not verify");
        if signature.as_bytes().len() != k {
            return Err(bad);
        }
        let n = Modulus::from_be_bytes(&self.modulus)?;
        let s = BigNum::from_be_bytes(signature.as_bytes())?;
        if !s.cmp_public(n.value()).is_lt() {
            return Err(bad);
        }
        let recovered = n
            .pow_public(&s, u64::from(PUBLIC_EXPONENT))?
            .to_be_bytes_padded(k)?;
        if request.is_encoded_by(&recovered) {
            Ok(())
        } else {
            Err(bad)
        }
    }
}
