//! The device side: key generation, the PIN-sealed share, and the partial signature.

use std::fmt;

use crypto_bigint::{BoxedUint, NonZero};
use zeroize::Zeroizing;

use crate::arith::{BigNum, Modulus, RsaPrivateKey, SecretExponent, os_random};
use crate::pin::xor_with_pin_pad;
use crate::screen::is_high_modulus;
use crate::{Error, HalfSize, KdfParams, PUBLIC_EXPONENT, Pin, SignRequest};

/// Length of the random salt of the PIN key derivation.
pub const SALT_LEN: usize = 16;

/// Choices made when a device generates a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeviceKeyOptions {
    pub half: HalfSize,
    pub kdf: KdfParams,
    /// Fewest PIN digits this key accepts (4 for PIN1, 5 for PIN2).
    pub min_pin_digits: usize,
}

impl Default for DeviceKeyOptions {
    fn default() -> Self {
        DeviceKeyOptions {
            half: HalfSize::default(),
            kdf: KdfParams::default(),
            min_pin_digits: crate::pin::MIN_PIN_DIGITS,
        }
    }
}

/// What the device keeps: the modulus n1 and the PIN-sealed exponent share
/// `c = d1ᴬ ⊕ Argon2id(PIN, salt ‖ context)`. Nothing in it can tell a right PIN from a wrong
/// one, so it may be stored as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceShare {
    half: HalfSize,
    modulus: Vec<u8>,
    salt: [u8; SALT_LEN],
    context: Vec<u8>,
    kdf: KdfParams,
    sealed: Vec<u8>,
}

/// What the device sends to the server once, at registration: n1 and the server's exponent
/// share d1ˢ. Wiped from memory when dropped; the device must not keep it.
pub struct ServerShareHandover {
    half: HalfSize,
    device_modulus: Vec<u8>,
    server_exponent: Zeroizing<Vec<u8>>,
}

impl fmt::Debug for ServerShareHandover {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerShareHandover")
            .field("half", &self.half)
            .field("server_exponent", &"<redacted>")
            .finish_non_exhaustive()
    }
}

impl ServerShareHandover {
    /// Rebuilds a handover received over the wire; lengths are checked here, the modulus is
    /// screened when the server accepts it.
    pub fn from_parts(
        half: HalfSize,
        device_modulus: &[u8],
        server_exponent: &[u8],
    ) -> Result<Self, Error> {
        if device_modulus.len() != half.bytes() || server_exponent.len() != half.bytes() {
            return Err(Error::InvalidInput(
                "modulus and server share must each be as long as the half key",
            ));
        }
        Ok(ServerShareHandover {
            half,
            device_modulus: device_modulus.to_vec(),
            server_exponent: Zeroizing::new(server_exponent.to_vec()),
        })
    }

    pub fn half_size(&self) -> HalfSize {
        self.half
    }

    /// The device modulus n1.
    pub fn device_modulus(&self) -> &[u8] {
        &self.device_modulus
    }

    /// The server's exponent share d1ˢ (secret: transport it encrypted, store it wrapped).
    pub fn server_exponent(&self) -> &[u8] {
        &self.server_exponent
    }
}

/// A device's partial signature `s1' = μ^{d̃1ᴬ} mod n1`, as many bytes as n1. Together with
/// the device's storage it tells a right PIN from a wrong one, so it is wiped when dropped,
/// never printed, and crosses the wire only sealed to the server.
#[derive(Clone, PartialEq, Eq, zeroize::Zeroize, zeroize::ZeroizeOnDrop)]
pub struct PartialSignature(Vec<u8>);

impl fmt::Debug for PartialSignature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PartialSignature({} bytes)", self.0.len())
    }
}

impl PartialSignature {
    pub fn from_bytes(bytes: &[u8]) -> Self {
        PartialSignature(bytes.to_vec())
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

/// Generates a device key: n1 from fresh primes, d1 split into the PIN-sealed device share and
/// the server share. `context` binds the sealed share to its key (for example a key id and
/// whether it is the authentication or the signing key); it is stored with the share.
///
/// The primes, d1 and the unsealed device share are wiped before this returns.
pub fn generate_device_key(
    pin: &Pin,
    context: &[u8],
    options: DeviceKeyOptions,
) -> Result<(DeviceShare, ServerShareHandover), Error> {
    if pin.len() < options.min_pin_digits {
        return Err(Error::InvalidPin(
            "the PIN is shorter than this key requires",
        ));
    }
    options.kdf.to_argon2(options.half.device_share_bytes())?;
    let half = options.half;
    let (modulus, key) = generate_high_modulus_key(half)?;
    let parts = key.secret_parts(half.bytes())?;
    drop(key);
    let shares = split_exponent(half, &modulus, &parts)?;
    drop(parts);
    self_test(&modulus, &shares.device, &shares.server)?;

    let mut salt = [0u8; SALT_LEN];
    os_random(&mut salt)?;
    let sealed = xor_with_pin_pad(&shares.device, pin, &salt, context, options.kdf)?;
    let share = DeviceShare {
        half,
        modulus: modulus.clone(),
        salt,
        context: context.to_vec(),
        kdf: options.kdf,
        sealed: sealed.to_vec(),
    };
    let handover = ServerShareHandover {
        half,
        device_modulus: modulus,
        server_exponent: shares.server,
    };
    Ok((share, handover))
}

/// Generates RSA keys until the modulus is above √2·2^(bits−1), so that the server can always
/// find a partner modulus giving a composite of exactly twice the size (about 2 tries).
pub(crate) fn generate_high_modulus_key(half: HalfSize) -> Result<(Vec<u8>, RsaPrivateKey), Error> {
    loop {
        let key = RsaPrivateKey::generate(half.bits())?;
        let modulus = key.modulus()?.to_be_bytes_padded(half.bytes())?;
        if is_high_modulus(&modulus, half.bits()) {
            return Ok((modulus, key));
        }
    }
}

/// Splits d1 into `d1ᴬ ←$ [0, 2^L)` and `d1ˢ = (d1 − d1ᴬ) mod φ(n1)`, in constant time
/// (crypto-bigint). φ is a multiple of λ, so `d1ᴬ + d1ˢ ≡ d1 (mod λ(n1))` and the two partial
/// exponentiations multiply to μ^{d1}.
fn split_exponent(
    half: HalfSize,
    modulus: &[u8],
    parts: &crate::arith::RsaSecretParts,
) -> Result<ExponentShares, Error> {
    let precision = (half.device_share_bytes() * 8) as u32;
    let decode = |bytes: &[u8]| {
        BoxedUint::from_be_slice(bytes, precision)
            .map(Zeroizing::new)
            .map_err(|_| Error::Backend("big integer decoding"))
    };
    let n = decode(modulus)?;
    let p = decode(&parts.p)?;
    let q = decode(&parts.q)?;
    let d = decode(&parts.d)?;
    let phi = Zeroizing::new(
        n.wrapping_sub(&*p)
            .wrapping_sub(&*q)
            .wrapping_add(BoxedUint::one_with_precision(precision)),
    );
    let phi_nonzero = Zeroizing::new(
        NonZero::new((*phi).clone())
            .into_option()
            .ok_or(Error::InconsistentKey("φ(n1) is zero"))?,
    );

    let mut device_exponent = Zeroizing::new(vec![0u8; half.device_share_bytes()]);
    os_random(&mut device_exponent)?;
    let d_device = decode(&device_exponent)?;
    // div_rem rather than rem, so that the quotient (also secret) is wiped too.
    let (quotient, d_device_reduced) = d_device.div_rem(&*phi_nonzero);
    let (_quotient, d_device_reduced) =
        (Zeroizing::new(quotient), Zeroizing::new(d_device_reduced));
    let d_server = Zeroizing::new(d.sub_mod(&d_device_reduced, &phi_nonzero));

    let full = Zeroizing::new(d_server.to_be_bytes());
    let server_exponent = Zeroizing::new(full[full.len() - half.bytes()..].to_vec());
    Ok(ExponentShares {
        device: device_exponent,
        server: server_exponent,
    })
}

/// The two additive shares of d1, each at its fixed width: d1ᴬ as L/8 bytes, d1ˢ as |n1|/8.
struct ExponentShares {
    device: Zeroizing<Vec<u8>>,
    server: Zeroizing<Vec<u8>>,
}

/// Checks `(x^{d1ᴬ} · x^{d1ˢ})^e ≡ x (mod n1)` for a random x before anything leaves the
/// device, so a faulty split is never registered.
fn self_test(modulus: &[u8], device_exponent: &[u8], server_exponent: &[u8]) -> Result<(), Error> {
    let n1 = Modulus::from_be_bytes(modulus)?;
    let mut random = vec![0u8; n1.byte_len()];
    os_random(&mut random)?;
    let x = n1.reduce(&BigNum::from_be_bytes(&random)?)?;
    let a = n1.pow_secret(&x, &SecretExponent::from_fixed_bytes(device_exponent)?)?;
    let b = n1.pow_secret(&x, &SecretExponent::from_fixed_bytes(server_exponent)?)?;
    let s = n1.mul(&a, &b)?;
    if n1
        .pow_public(&s, u64::from(PUBLIC_EXPONENT))?
        .cmp_public(&x)
        .is_eq()
    {
        Ok(())
    } else {
        Err(Error::InconsistentKey("device key self-test failed"))
    }
}

impl DeviceShare {
    /// Rebuilds a stored share, checking every length.
    pub fn from_parts(
        half: HalfSize,
        modulus: &[u8],
        salt: [u8; SALT_LEN],
        context: &[u8],
        kdf: KdfParams,
        sealed: &[u8],
    ) -> Result<Self, Error> {
        let n1 = BigNum::from_be_bytes(modulus)?;
        if modulus.len() != half.bytes() || n1.num_bits() != half.bits() {
            return Err(Error::InvalidInput("device modulus has the wrong size"));
        }
        if sealed.len() != half.device_share_bytes() {
            return Err(Error::InvalidInput("sealed share has the wrong length"));
        }
        kdf.to_argon2(sealed.len())?;
        Ok(DeviceShare {
            half,
            modulus: modulus.to_vec(),
            salt,
            context: context.to_vec(),
            kdf,
            sealed: sealed.to_vec(),
        })
    }

    pub fn half_size(&self) -> HalfSize {
        self.half
    }

    /// The device modulus n1.
    pub fn modulus(&self) -> &[u8] {
        &self.modulus
    }

    pub fn salt(&self) -> [u8; SALT_LEN] {
        self.salt
    }

    pub fn context(&self) -> &[u8] {
        &self.context
    }

    pub fn kdf(&self) -> KdfParams {
        self.kdf
    }

    /// The sealed share c. Not secret on its own, but it must never reach the server.
    pub fn sealed(&self) -> &[u8] {
        &self.sealed
    }

    /// Opens the share with `pin` and computes `s1' = μ^{d̃1ᴬ} mod n1`.
    ///
    /// Any PIN opens the share to some exponent and yields some partial signature; only the
    /// server can tell whether it was the right one. `request` was checked, when it was built,
    /// to encode the hash it carries, so the PIN is only ever used on the hash the person saw.
    pub fn partial_sign(
        &self,
        pin: &Pin,
        request: &SignRequest,
    ) -> Result<PartialSignature, Error> {
        if request.half_size()? != self.half {
            return Err(Error::InvalidInput(
                "request was encoded for another key size",
            ));
        }
        let exponent = self.open(pin)?;
        let n1 = Modulus::from_be_bytes(&self.modulus)?;
        let mu1 = n1.reduce(&BigNum::from_be_bytes(request.encoded())?)?;
        let s1 = n1.pow_secret(&mu1, &SecretExponent::from_fixed_bytes(&exponent)?)?;
        Ok(PartialSignature(s1.to_be_bytes_padded(self.half.bytes())?))
    }

    /// d̃1ᴬ = c ⊕ Argon2id(PIN, …): the real share for the right PIN, an unrelated value of
    /// the same shape for any other.
    pub(crate) fn open(&self, pin: &Pin) -> Result<Zeroizing<Vec<u8>>, Error> {
        xor_with_pin_pad(&self.sealed, pin, &self.salt, &self.context, self.kdf)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;
    use crate::{Error, HashAlgorithm, Padding, ServerShare, Signature};

    const HALF: HalfSize = HalfSize::Bits2048;

    fn four_digit_pins() -> impl Iterator<Item = Pin> {
        (0..10_000).map(|i| Pin::new(&format!("{i:04}")).unwrap())
    }

    fn key(pin: &str) -> (DeviceShare, ServerShareHandover) {
        let options = DeviceKeyOptions {
            half: HALF,
            kdf: KdfParams::INSECURE_FAST,
            ..Default::default()
        };
        generate_device_key(&Pin::new(pin).unwrap(), b"ctx", options).unwrap()
    }

    fn request() -> SignRequest {
        let digest = HashAlgorithm::Sha256.digest(b"login");
        SignRequest::new(HALF, HashAlgorithm::Sha256, Padding::Pkcs1v15, &digest).unwrap()
    }

    /// Every one of the 10,000 four-digit PINs opens the sealed share to a candidate of the
    /// same shape, and the device's only operation succeeds with each: nothing on the device
    /// can tell the right PIN from a wrong one.
    #[test]
    fn every_four_digit_pin_opens_the_share_to_a_plausible_candidate() {
        let (device, _handover) = key("4711");
        let real = device.open(&Pin::new("4711").unwrap()).unwrap();
        assert_eq!(
            device.sealed().len(),
            HALF.device_share_bytes(),
            "sealed share is exactly L bits: no tag, no checksum"
        );

        let request = request();
        let mut seen = HashSet::new();
        let mut ones = 0u64;
        let mut top_byte_counts = [0u32; 256];
        for pin in four_digit_pins() {
            let candidate = device.open(&pin).unwrap();
            assert_eq!(candidate.len(), HALF.device_share_bytes());
            ones += candidate
                .iter()
                .map(|b| u64::from(b.count_ones()))
                .sum::<u64>();
            top_byte_counts[usize::from(candidate[0])] += 1;
            assert!(
                seen.insert(candidate.to_vec()),
                "two PINs open to the same value"
            );
            let partial = device
                .partial_sign(&pin, &request)
                .expect("any PIN yields a partial signature");
            assert_eq!(partial.as_bytes().len(), HALF.bytes());
        }
        assert!(seen.contains(real.as_slice()));

        // The candidates look uniformly random: half the bits set, every top-byte value
        // about equally often (chi-square, 255 degrees of freedom; 99.99th percentile ≈ 360).
        let total_bits = 10_000.0 * HALF.device_share_bytes() as f64 * 8.0;
        let share_of_ones = ones as f64 / total_bits;
        assert!(
            (share_of_ones - 0.5).abs() < 0.001,
            "bit balance {share_of_ones}"
        );
        let expected = 10_000.0 / 256.0;
        let chi_square: f64 = top_byte_counts
            .iter()
            .map(|&c| (f64::from(c) - expected).powi(2) / expected)
            .sum();
        assert!(
            chi_square < 360.0,
            "top byte not uniform: χ² = {chi_square}"
        );
    }

    /// The server's share alone, or the device's share alone, never gives a valid signature.
    #[test]
    fn neither_share_alone_can_sign() {
        let (device, handover) = key("4711");
        let server = ServerShare::establish(&handover).unwrap();
        let request = request();

        // Server alone: a "partial signature" of 1 means no device contribution at all.
        let mut one = vec![0u8; HALF.bytes()];
        *one.last_mut().unwrap() = 1;
        let result = server.complete(&request, &PartialSignature::from_bytes(&one));
        assert_eq!(result, Err(Error::WrongPin));

        // Device alone: s1' with the right PIN is not a signature modulo n1 …
        let partial = device
            .partial_sign(&Pin::new("4711").unwrap(), &request)
            .unwrap();
        let n1 = Modulus::from_be_bytes(device.modulus()).unwrap();
        let mu1 = n1
            .reduce(&BigNum::from_be_bytes(request.encoded()).unwrap())
            .unwrap();
        let s1_partial = BigNum::from_be_bytes(partial.as_bytes()).unwrap();
        let recovered = n1
            .pow_public(&s1_partial, u64::from(PUBLIC_EXPONENT))
            .unwrap();
        assert!(!recovered.cmp_public(&mu1).is_eq());

        // … nor, padded out, under the composite key.
        let mut padded = vec![0u8; HALF.composite_bytes() - HALF.bytes()];
        padded.extend_from_slice(partial.as_bytes());
        let verdict = server
            .public_key()
            .verify(&request, &Signature::from_bytes(&padded));
        assert!(verdict.is_err());

        // Together they sign.
        let signature = server.complete(&request, &partial).unwrap();
        server.public_key().verify(&request, &signature).unwrap();
    }

    #[test]
    fn shares_add_up_to_the_private_exponent_for_any_message() {
        let (device, handover) = key("0000");
        let n1 = Modulus::from_be_bytes(device.modulus()).unwrap();
        let d_device = device.open(&Pin::new("0000").unwrap()).unwrap();
        for seed in 1u8..=5 {
            let x = n1
                .reduce(&BigNum::from_be_bytes(&[seed; 200]).unwrap())
                .unwrap();
            let a = n1
                .pow_secret(&x, &SecretExponent::from_fixed_bytes(&d_device).unwrap())
                .unwrap();
            let b = n1
                .pow_secret(
                    &x,
                    &SecretExponent::from_fixed_bytes(handover.server_exponent()).unwrap(),
                )
                .unwrap();
            let s = n1.mul(&a, &b).unwrap();
            let back = n1.pow_public(&s, u64::from(PUBLIC_EXPONENT)).unwrap();
            assert!(back.cmp_public(&x).is_eq());
        }
    }
}
