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

    /// Checks that this key is n1·n2 for the device's own modulus n1, with an n2 of exactly
    /// the half's size: what a device checks before it trusts a composite key the server
    /// formed (a server could otherwise certify a key the device's share has no part in).
    pub fn check_made_of(&self, device_modulus: &[u8]) -> Result<(), Error> {
        let n1 = Modulus::from_be_bytes(device_modulus)?;
        if n1.bits() != self.half.bits() {
            return Err(Error::InvalidInput("the device modulus has the wrong size"));
        }
        let n = BigNum::from_be_bytes(&self.modulus)?;
        if !n1.reduce(&n)?.is_zero() {
            return Err(Error::InvalidInput(
                "the composite modulus is not a multiple of the device's modulus",
            ));
        }
        // n2 = n / n1 has exactly `half` bits iff n < n1 · 2^half (n has 2·half bits, so n2
        // has at least half of them).
        let mut power = vec![0u8; self.half.bytes() + 1];
        power[0] = 1;
        let bound = n1.value().mul(&BigNum::from_be_bytes(&power)?)?;
        if n.cmp_public(&bound) != std::cmp::Ordering::Less {
            return Err(Error::InvalidInput(
                "the server's half of the composite modulus has the wrong size",
            ));
        }
        Ok(())
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
