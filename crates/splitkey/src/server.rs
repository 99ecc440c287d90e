//! The server side: accepting a device's handover, the server's own key, and completing a
//! signature with the one check that can judge a PIN.

use std::fmt;

use zeroize::Zeroizing;

use crate::arith::{BigNum, Modulus, RsaPrivateKey, SecretExponent};
use crate::device::generate_high_modulus_key;
use crate::screen::screen_device_modulus;
use crate::{
    CompositePublicKey, Error, HalfSize, PUBLIC_EXPONENT, PartialSignature, ServerShareHandover,
    SignRequest, Signature,
};

/// Tries at generating a server modulus that pairs with the device's before giving up
/// (each try succeeds with probability about ½ for a screened n1).
const SERVER_KEYGEN_ATTEMPTS: usize = 64;

/// A stored n2⁻¹ mod n1, accepted only if it is one: `c < n1` and `n2·c ≡ 1 (mod n1)`.
fn check_inverse(n1: &Modulus, n2: &BigNum, c: BigNum) -> Result<BigNum, Error> {
    if c.cmp_public(n1.value()).is_lt() && n1.mul(n2, &c)?.is_one() {
        Ok(c)
    } else {
        Err(Error::InconsistentKey(
            "the stored CRT coefficient is wrong",
        ))
    }
}

/// Everything the server holds for one composite key: n1 and its exponent share d1ˢ, its own
/// RSA key (n2, d2) with CRT parameters, and the composite modulus n = n1·n2.
pub struct ServerShare {
    half: HalfSize,
    device_modulus: Modulus,
    server_exponent: SecretExponent,
    server_key: RsaPrivateKey,
    server_modulus: Modulus,
    composite: Modulus,
    /// n2⁻¹ mod n1, for the CRT combination.
    n2_inverse: BigNum,
}

impl fmt::Debug for ServerShare {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerShare")
            .field("half", &self.half)
            .field("secrets", &"<redacted>")
            .finish_non_exhaustive()
    }
}

impl ServerShare {
    /// Accepts a device's handover: screens n1, then generates the server's key until
    /// gcd(n1, n2) = 1 and n1·n2 has exactly twice the half size.
    pub fn establish(handover: &ServerShareHandover) -> Result<Self, Error> {
        let half = handover.half_size();
        screen_device_modulus(handover.device_modulus(), half)?;
        for _ in 0..SERVER_KEYGEN_ATTEMPTS {
            let (_, server_key) = generate_high_modulus_key(half)?;
            match Self::assemble(
                half,
                handover.device_modulus(),
                handover.server_exponent(),
                server_key,
                None,
            ) {
                Err(Error::InconsistentKey(_)) => continue,
                result => return result,
            }
        }
        Err(Error::InconsistentKey(
            "no server modulus pairs with the device modulus",
        ))
    }

    /// Rebuilds a stored share from n1, d1ˢ and the server key (PKCS#1 DER).
    pub fn from_stored(
        half: HalfSize,
        device_modulus: &[u8],
        server_exponent: &[u8],
        server_key_der: &[u8],
    ) -> Result<Self, Error> {
        Self::rebuild(half, device_modulus, server_exponent, server_key_der, None)
    }

    /// [`from_stored`](Self::from_stored) with the stored
    /// [`crt_coefficient`](Self::crt_coefficient), which spares the modular inversion (a
    /// tenth of rebuilding's cost besides the exponentiations). It is checked with one
    /// multiplication: a wrong one is refused as [`Error::InconsistentKey`].
    pub fn from_stored_with_coefficient(
        half: HalfSize,
        device_modulus: &[u8],
        server_exponent: &[u8],
        server_key_der: &[u8],
        crt_coefficient: &[u8],
    ) -> Result<Self, Error> {
        let coefficient = BigNum::from_be_bytes(crt_coefficient)?;
        Self::rebuild(
            half,
            device_modulus,
            server_exponent,
            server_key_der,
            Some(coefficient),
        )
    }

    fn rebuild(
        half: HalfSize,
        device_modulus: &[u8],
        server_exponent: &[u8],
        server_key_der: &[u8],
        crt_coefficient: Option<BigNum>,
    ) -> Result<Self, Error> {
        let handover = ServerShareHandover::from_parts(half, device_modulus, server_exponent)?;
        let server_key = RsaPrivateKey::from_der(server_key_der)?;
        Self::assemble(
            half,
            handover.device_modulus(),
            handover.server_exponent(),
            server_key,
            crt_coefficient,
        )
    }

    fn assemble(
        half: HalfSize,
        device_modulus: &[u8],
        server_exponent: &[u8],
        server_key: RsaPrivateKey,
        crt_coefficient: Option<BigNum>,
    ) -> Result<Self, Error> {
        let device_modulus = Modulus::from_be_bytes(device_modulus)?;
        let server_modulus = Modulus::new(server_key.modulus()?)?;
        if server_modulus.bits() != half.bits() {
            return Err(Error::InvalidInput("server key has the wrong size"));
        }
        let composite = Modulus::new(device_modulus.value().mul(server_modulus.value())?)?;
        if composite.bits() != half.composite_bits() {
            return Err(Error::InconsistentKey("composite modulus is not full size"));
        }
        let n2_inverse = match crt_coefficient {
            Some(stored) => check_inverse(&device_modulus, server_modulus.value(), stored)?,
            None => {
                device_modulus
                    .invert(server_modulus.value())?
                    .ok_or(Error::InconsistentKey(
                        "device and server moduli share a factor",
                    ))?
            }
        };
        Ok(ServerShare {
            half,
            server_exponent: SecretExponent::from_fixed_bytes(server_exponent)?,
            device_modulus,
            server_key,
            server_modulus,
            composite,
            n2_inverse,
        })
    }

    pub fn half_size(&self) -> HalfSize {
        self.half
    }

    /// The composite public key (n, e) that certificates are issued for.
    pub fn public_key(&self) -> CompositePublicKey {
        CompositePublicKey::from_modulus_unchecked(self.half, self.composite.to_be_bytes())
    }

    /// n2⁻¹ mod n1, the coefficient of the CRT combination: public (both moduli are), for
    /// storage beside the share (see [`from_stored_with_coefficient`](Self::from_stored_with_coefficient)).
    pub fn crt_coefficient(&self) -> Result<Vec<u8>, Error> {
        self.n2_inverse.to_be_bytes_padded(self.half.bytes())
    }

    /// n1, for storage.
    pub fn device_modulus(&self) -> Vec<u8> {
        self.device_modulus.to_be_bytes()
    }

    /// d1ˢ at its fixed width, for wrapped storage. Wiped when dropped.
    pub fn server_exponent(&self) -> Result<Zeroizing<Vec<u8>>, Error> {
        self.server_exponent.to_bytes(self.half.bytes())
    }

    /// The server's RSA key as PKCS#1 DER, for wrapped storage. Wiped when dropped.
    pub fn server_key_der(&self) -> Result<Zeroizing<Vec<u8>>, Error> {
        self.server_key.to_der()
    }

    /// Completes a signature from the device's partial signature:
    ///
    /// 1. `s1 = s1' · μ^{d1ˢ} mod n1`, and the PIN check `s1^e ≡ μ (mod n1)` (else
    ///    [`Error::WrongPin`]: the caller counts it);
    /// 2. `s2 = μ^{d2} mod n2` with CRT and blinding;
    /// 3. `s = s2 + n2·((s1 − s2)·n2⁻¹ mod n1)`, released only if `s^e ≡ μ (mod n)`.
    pub fn complete(
        &self,
        request: &SignRequest,
        partial: &PartialSignature,
    ) -> Result<Signature, Error> {
        if request.half_size()? != self.half {
            return Err(Error::InvalidInput(
                "request was encoded for another key size",
            ));
        }
        let mu = BigNum::from_be_bytes(request.encoded())?;
        let s1_partial = self.parse_partial(partial)?;
        let s1 = self.complete_device_half(&mu, &s1_partial)?;
        let mu2 = self.server_modulus.reduce(&mu)?;
        let s2 = self.server_key.private_raw(&mu2, self.half.bytes())?;
        let s = self.combine(&s1, &s2)?;
        let recovered = self.composite.pow_public(&s, u64::from(PUBLIC_EXPONENT))?;
        if !recovered.cmp_public(&mu).is_eq() {
            return Err(Error::InconsistentKey(
                "final signature check failed (possible fault)",
            ));
        }
        Ok(Signature::from_bytes(
            &s.to_be_bytes_padded(self.half.composite_bytes())?,
        ))
    }

    fn parse_partial(&self, partial: &PartialSignature) -> Result<BigNum, Error> {
        let bytes = partial.as_bytes();
        if bytes.len() != self.half.bytes() {
            return Err(Error::InvalidInput(
                "partial signature has the wrong length",
            ));
        }
        let s = BigNum::from_be_bytes(bytes)?;
        if s.is_zero() || !s.cmp_public(self.device_modulus.value()).is_lt() {
            return Err(Error::InvalidInput("partial signature is out of range"));
        }
        Ok(s)
    }

    /// `s1 = s1' · μ1^{d1ˢ} mod n1`, accepted only if `s1^e ≡ μ1`: the one place a PIN is
    /// judged. Nothing derived from the shares leaves this function on failure.
    fn complete_device_half(&self, mu: &BigNum, s1_partial: &BigNum) -> Result<BigNum, Error> {
        let n1 = &self.device_modulus;
        let mu1 = n1.reduce(mu)?;
        let server_part = n1.pow_secret(&mu1, &self.server_exponent)?;
        let s1 = n1.mul(s1_partial, &server_part)?;
        if n1
            .pow_public(&s1, u64::from(PUBLIC_EXPONENT))?
            .cmp_public(&mu1)
            .is_eq()
        {
            Ok(s1)
        } else {
            Err(Error::WrongPin)
        }
    }

    /// Garner's CRT combination of s1 (mod n1) and s2 (mod n2) into s (mod n1·n2).
    fn combine(&self, s1: &BigNum, s2: &BigNum) -> Result<BigNum, Error> {
        let n1 = &self.device_modulus;
        let h = n1.mul(&n1.sub(s1, s2)?, &self.n2_inverse)?;
        self.server_modulus.value().mul(&h)?.add(s2)
    }
}
