//! The pure-Rust big-number backend (crypto-bigint, crypto-primes, RustCrypto's `sha2` and
//! `pkcs1`), for targets AWS-LC does not build for: above all the browser (WebAssembly).
//!
//! It offers exactly the interface of the AWS-LC backend (`aws_lc.rs`), with the same rules:
//!
//! * Secret exponents are [`SecretExponent`]s built from fixed-length byte strings, and
//!   [`Modulus::pow_secret`] runs crypto-bigint's constant-time Montgomery exponentiation over
//!   the exponent's whole stored width, so neither its value nor its bit length shows in the
//!   timing.
//! * The RSA private operation ([`RsaPrivateKey::private_raw`]) is CRT with constant-time
//!   exponentiations, reductions and recombination, and checks its result against the public
//!   key, so that a fault cannot leak a factor. AWS-LC also blinds the base; that defends
//!   against power analysis of the hardware, which is outside a browser's threat model, and
//!   the exponentiation is constant time without it.
//! * Key generation draws probable primes with crypto-primes (a sieve, then Miller–Rabin
//!   rounds for an error bound of 2⁻¹²⁸ plus a strong Lucas test, as FIPS 186-5 B.3 allows),
//!   with the two top bits set and e = 65537 coprime to p − 1.
//! * Public values (moduli, messages, signatures) use variable-time routines, as AWS-LC's do.
//!
//! Every secret integer is wiped when dropped (`Zeroizing`).

use std::cmp::Ordering;

use crypto_bigint::modular::{BoxedMontyForm, BoxedMontyParams};
use crypto_bigint::{BoxedUint, ConcatenatingMul, Lcm, Limb, NonZero, Odd, Resize};
use crypto_primes::fips::{FipsOptions, is_prime};
use crypto_primes::hazmat::{SetBits, SmallFactorsSieveFactory};
use crypto_primes::{Flavor, sieve_and_find};
use getrandom::SysRng;
use getrandom::rand_core::UnwrapErr;
use zeroize::Zeroizing;

use crate::{Error, HashAlgorithm};

/// `value` at a precision of at least `bits`, which must not lose any of its bits.
fn widened(value: &BoxedUint, bits: u32) -> BoxedUint {
    value.resize_unchecked(bits.max(value.bits_precision()))
}

/// The narrowest precision crypto-bigint accepts for `len` bytes: whole limbs, at least one.
fn precision_for_bytes(len: usize) -> u32 {
    let bits = (len as u32).saturating_mul(8).max(1);
    bits.div_ceil(Limb::BITS) * Limb::BITS
}

/// A non-negative integer. Public values only; secret ones live in [`SecretExponent`] or
/// inside [`RsaPrivateKey`].
#[derive(Clone)]
pub(crate) struct BigNum(BoxedUint);

impl Drop for BigNum {
    fn drop(&mut self) {
        // Intermediate values of a signature (s1, s2) are public once sent, but a partial
        // result computed for a wrong PIN is not worth keeping around either.
        zeroize::Zeroize::zeroize(&mut self.0);
    }
}

impl BigNum {
    pub(crate) fn from_be_bytes(bytes: &[u8]) -> Result<Self, Error> {
        BoxedUint::from_be_slice(bytes, precision_for_bytes(bytes.len()))
            .map(BigNum)
            .map_err(|_| Error::Backend("big integer decoding"))
    }

    pub(crate) fn from_u64(value: u64) -> Result<Self, Error> {
        Self::from_be_bytes(&value.to_be_bytes())
    }

    fn from_uint(value: BoxedUint) -> Self {
        BigNum(value)
    }

    pub(crate) fn to_be_bytes_padded(&self, len: usize) -> Result<Vec<u8>, Error> {
        fixed_width_bytes(&self.0, len).map(|bytes| bytes.to_vec())
    }

    pub(crate) fn num_bits(&self) -> usize {
        self.0.bit_width_vartime() as usize
    }

    pub(crate) fn is_zero(&self) -> bool {
        self.0.is_zero().into()
    }

    pub(crate) fn is_one(&self) -> bool {
        self.0.is_one().into()
    }

    pub(crate) fn cmp_public(&self, other: &BigNum) -> Ordering {
        self.0.cmp_vartime(&other.0)
    }

    pub(crate) fn mul(&self, other: &BigNum) -> Result<BigNum, Error> {
        Ok(BigNum(self.0.concatenating_mul(&other.0)))
    }

    pub(crate) fn add(&self, other: &BigNum) -> Result<BigNum, Error> {
        // One limb more than the wider operand, so that the sum cannot wrap.
        let precision = self.0.bits_precision().max(other.0.bits_precision()) + Limb::BITS;
        Ok(BigNum(
            widened(&self.0, precision).wrapping_add(widened(&other.0, precision)),
        ))
    }

    /// `self mod w` for a small divisor (trial division by primes below 2^20, and by 2).
    pub(crate) fn mod_word(&self, w: u32) -> u32 {
        let divisor = NonZero::new(Limb::from(w)).expect("trial divisors are non-zero");
        // A limb is at least 32 bits wide and the remainder is below w.
        self.0.rem_limb(divisor).0 as u32
    }

    /// A random probable prime of exactly `bits` bits (for tests of the modulus screening).
    #[cfg(test)]
    pub(crate) fn generate_prime(bits: usize) -> Result<BigNum, Error> {
        random_prime(bits as u32, SetBits::Msb).map(|p| BigNum((*p).clone()))
    }
}

/// `value` as exactly `len` big-endian bytes, refusing a value that does not fit. The check
/// reads every excess byte whatever their values, so a secret's length does not show.
fn fixed_width_bytes(value: &BoxedUint, len: usize) -> Result<Zeroizing<Vec<u8>>, Error> {
    let stored = Zeroizing::new(value.to_be_bytes());
    let mut out = Zeroizing::new(vec![0u8; len]);
    if stored.len() <= len {
        out[len - stored.len()..].copy_from_slice(&stored);
        return Ok(out);
    }
    let excess = stored.len() - len;
    let overflow = stored[..excess].iter().fold(0u8, |acc, byte| acc | byte);
    if overflow != 0 {
        return Err(Error::InvalidInput(
            "a number does not fit its expected size",
        ));
    }
    out.copy_from_slice(&stored[excess..]);
    Ok(out)
}

/// A secret exponent held at a fixed width, wiped when dropped.
pub(crate) struct SecretExponent(Zeroizing<BoxedUint>);

impl SecretExponent {
    pub(crate) fn to_bytes(&self, len: usize) -> Result<Zeroizing<Vec<u8>>, Error> {
        fixed_width_bytes(&self.0, len)
    }

    /// `bytes` must have the fixed length the protocol prescribes for this exponent; the
    /// exponentiation then always processes `8 · bytes.len()` bits (rounded up to whole limbs).
    pub(crate) fn from_fixed_bytes(bytes: &[u8]) -> Result<Self, Error> {
        BoxedUint::from_be_slice(bytes, precision_for_bytes(bytes.len()))
            .map(|value| SecretExponent(Zeroizing::new(value)))
            .map_err(|_| Error::Backend("big integer decoding"))
    }
}

/// An odd public modulus with its Montgomery parameters.
pub(crate) struct Modulus {
    n: BigNum,
    nonzero: NonZero<BoxedUint>,
    params: BoxedMontyParams,
    bytes: usize,
}

impl Modulus {
    pub(crate) fn from_be_bytes(bytes: &[u8]) -> Result<Self, Error> {
        Self::new(BigNum::from_be_bytes(bytes)?)
    }

    pub(crate) fn new(n: BigNum) -> Result<Self, Error> {
        let odd: Option<Odd<BoxedUint>> = n.0.to_odd().into();
        let odd = odd.ok_or(Error::InvalidInput("modulus must be odd and positive"))?;
        let bits = n.num_bits();
        // Keep the modulus at its own size: every residue then has the same precision.
        let precision = precision_for_bytes(bits.div_ceil(8));
        let odd = Odd::new(odd.get().resize_unchecked(precision))
            .into_option()
            .ok_or(Error::InvalidInput("modulus must be odd and positive"))?;
        let nonzero = odd.as_nz_ref().clone();
        let n = BigNum(odd.as_ref().clone());
        Ok(Modulus {
            n,
            params: BoxedMontyParams::new_vartime(odd),
            nonzero,
            bytes: bits.div_ceil(8),
        })
    }

    pub(crate) fn value(&self) -> &BigNum {
        &self.n
    }

    pub(crate) fn bits(&self) -> usize {
        self.n.num_bits()
    }

    pub(crate) fn byte_len(&self) -> usize {
        self.bytes
    }

    pub(crate) fn to_be_bytes(&self) -> Vec<u8> {
        self.n
            .to_be_bytes_padded(self.bytes)
            .expect("a modulus fits its own length")
    }

    fn precision(&self) -> u32 {
        self.params.bits_precision()
    }

    /// `x mod n`, at the modulus's precision.
    fn residue(&self, x: &BigNum) -> BoxedUint {
        x.0.rem_vartime(&self.nonzero)
    }

    pub(crate) fn reduce(&self, x: &BigNum) -> Result<BigNum, Error> {
        Ok(BigNum(self.residue(x)))
    }

    pub(crate) fn mul(&self, a: &BigNum, b: &BigNum) -> Result<BigNum, Error> {
        Ok(BigNum(
            self.residue(a).mul_mod(&self.residue(b), &self.nonzero),
        ))
    }

    pub(crate) fn sub(&self, a: &BigNum, b: &BigNum) -> Result<BigNum, Error> {
        Ok(BigNum(
            self.residue(a).sub_mod(&self.residue(b), &self.nonzero),
        ))
    }

    pub(crate) fn invert(&self, a: &BigNum) -> Result<Option<BigNum>, Error> {
        let inverse: Option<BoxedUint> = self
            .residue(a)
            .invert_odd_mod_vartime(self.params.modulus())
            .into();
        Ok(inverse.map(BigNum))
    }

    pub(crate) fn pow_public(&self, base: &BigNum, e: u64) -> Result<BigNum, Error> {
        self.pow_public_big(base, &BigNum::from_u64(e)?)
    }

    pub(crate) fn pow_public_big(&self, base: &BigNum, exp: &BigNum) -> Result<BigNum, Error> {
        let base = BoxedMontyForm::new(self.residue(base), &self.params);
        Ok(BigNum(
            base.pow_bounded_exp(&exp.0, exp.0.bit_width_vartime())
                .retrieve(),
        ))
    }

    /// `base^exp mod n` in constant time with respect to `exp`. `base` must be reduced.
    pub(crate) fn pow_secret(&self, base: &BigNum, exp: &SecretExponent) -> Result<BigNum, Error> {
        if base.cmp_public(&self.n) != Ordering::Less {
            return Err(Error::InvalidInput("base is not reduced modulo n"));
        }
        let base = BoxedMontyForm::new(widened(&base.0, self.precision()), &self.params);
        let mut power = base.pow(&exp.0);
        let result = BigNum(power.retrieve());
        zeroize::Zeroize::zeroize(&mut power);
        Ok(result)
    }
}

/// An RSA private key with its CRT parameters, every secret part wiped when dropped.
pub(crate) struct RsaPrivateKey {
    n: BoxedUint,
    e: BoxedUint,
    d: Zeroizing<BoxedUint>,
    p: Zeroizing<BoxedUint>,
    q: Zeroizing<BoxedUint>,
    dp: Zeroizing<BoxedUint>,
    dq: Zeroizing<BoxedUint>,
    qinv: Zeroizing<BoxedUint>,
}

pub(crate) use super::RsaSecretParts;

/// OS randomness as the `rand_core` generator crypto-primes draws from. The OS generator does
/// not fail once it has worked; should it fail, key generation panics rather than go on with
/// anything less than OS randomness.
fn os_rng() -> UnwrapErr<SysRng> {
    UnwrapErr(SysRng)
}

/// A random probable prime of exactly `bits` bits with the given top bits set.
fn random_prime(bits: u32, set_bits: SetBits) -> Result<Zeroizing<BoxedUint>, Error> {
    let mut rng = os_rng();
    let factory = SmallFactorsSieveFactory::<BoxedUint>::new(Flavor::Any, bits, set_bits)
        .map_err(|_| Error::InvalidInput("prime size"))?;
    let options = FipsOptions::with_error_bound(bits, 128)
        .unwrap_or(FipsOptions::with_mr_iterations(64))
        .with_lucas_test();
    let prime = sieve_and_find(&mut rng, factory, |rng, candidate| {
        is_prime(rng, Flavor::Any, candidate, options)
    })
    .map_err(|_| Error::Backend("prime generation"))?
    .ok_or(Error::Backend("prime generation"))?;
    Ok(Zeroizing::new(prime))
}

/// FIPS 186-5 A.1.3: |p − q| > 2^(bits/2 − 100), so that n cannot be factored by Fermat's method.
fn far_enough_apart(p: &BoxedUint, q: &BoxedUint, prime_bits: u32) -> bool {
    let difference = Zeroizing::new(if p.cmp_vartime(q).is_gt() {
        p.wrapping_sub(q)
    } else {
        q.wrapping_sub(p)
    });
    difference.bit_width_vartime() > prime_bits.saturating_sub(100)
}

impl RsaPrivateKey {
    /// Generates a `bits`-bit key with e = 65537 and d = e⁻¹ mod λ(n), as AWS-LC does.
    pub(crate) fn generate(bits: usize) -> Result<Self, Error> {
        let bits = u32::try_from(bits).map_err(|_| Error::InvalidInput("key size"))?;
        if bits < 512 || bits % 2 != 0 {
            return Err(Error::InvalidInput("key size"));
        }
        let prime_bits = bits / 2;
        let e = u64::from(crate::PUBLIC_EXPONENT);
        let suitable = |prime: &BoxedUint| {
            // gcd(e, p − 1) = 1 ⟺ p ≢ 1 (mod e), e being prime.
            prime.rem_limb(NonZero::new(Limb::from(e as u32)).expect("e ≠ 0")) != Limb::ONE
        };
        let draw = || loop {
            let prime = random_prime(prime_bits, SetBits::TwoMsb)?;
            if suitable(&prime) {
                return Ok::<_, Error>(prime);
            }
        };
        let p = draw()?;
        let q = loop {
            let q = draw()?;
            if far_enough_apart(&p, &q, prime_bits) {
                break q;
            }
        };
        Self::from_primes(p, q, e)
    }

    /// The key of the primes p ≠ q and the public exponent e, with every CRT value.
    fn from_primes(
        p: Zeroizing<BoxedUint>,
        q: Zeroizing<BoxedUint>,
        e: u64,
    ) -> Result<Self, Error> {
        let (p, q) = if p.cmp_vartime(&*q).is_gt() {
            (p, q)
        } else {
            (q, p)
        };
        let precision = p.bits_precision() + q.bits_precision();
        let n = p.concatenating_mul(&*q);
        let one = BoxedUint::one_with_precision(p.bits_precision());
        let p_minus_1 = Zeroizing::new(p.wrapping_sub(&one));
        let q_minus_1 = Zeroizing::new(q.wrapping_sub(&one));
        let lambda = Zeroizing::new(widened(&p_minus_1.lcm(&*q_minus_1), precision));
        let lambda = NonZero::new((*lambda).clone())
            .into_option()
            .ok_or(Error::InconsistentKey("λ(n) is zero"))?;
        let e_wide = widened(&BoxedUint::from(e), precision);
        let d: Option<BoxedUint> = e_wide.invert_mod(&lambda).into();
        let d = Zeroizing::new(d.ok_or(Error::InconsistentKey("e is not invertible mod λ(n)"))?);
        Self::with_crt(n, BoxedUint::from(e), d, p, q)
    }

    /// Completes (n, e, d, p, q) with dp, dq and q⁻¹ mod p.
    fn with_crt(
        n: BoxedUint,
        e: BoxedUint,
        d: Zeroizing<BoxedUint>,
        p: Zeroizing<BoxedUint>,
        q: Zeroizing<BoxedUint>,
    ) -> Result<Self, Error> {
        let (dp, dq, qinv) = crt_values(&d, &p, &q)?;
        Ok(RsaPrivateKey {
            n,
            e,
            d,
            p,
            q,
            dp,
            dq,
            qinv,
        })
    }

    /// Parses a PKCS#1 `RSAPrivateKey` and checks, as AWS-LC's parser does, that its parts
    /// agree: n = p·q, and the CRT values are the ones d, p and q give.
    pub(crate) fn from_der(der: &[u8]) -> Result<Self, Error> {
        use pkcs1::der::Decode;
        let invalid = Error::InvalidInput("server key is not a consistent PKCS#1 RSA private key");
        let parsed = pkcs1::RsaPrivateKey::from_der(der).map_err(|_| invalid.clone())?;
        if parsed.other_prime_infos.is_some() {
            return Err(invalid);
        }
        let uint = |value: pkcs1::UintRef<'_>| {
            BigNum::from_be_bytes(value.as_bytes()).map(|b| b.0.clone())
        };
        let secret = |value: pkcs1::UintRef<'_>| uint(value).map(Zeroizing::new);
        let n = uint(parsed.modulus)?;
        let e = uint(parsed.public_exponent)?;
        let d = secret(parsed.private_exponent)?;
        let p = secret(parsed.prime1)?;
        let q = secret(parsed.prime2)?;
        let stated = (
            secret(parsed.exponent1)?,
            secret(parsed.exponent2)?,
            secret(parsed.coefficient)?,
        );
        let key = Self::with_crt(n, e, d, p, q).map_err(|_| invalid.clone())?;
        let product = key.p.concatenating_mul(&*key.q);
        let consistent = product.cmp_vartime(&key.n).is_eq()
            && key.dp.cmp_vartime(&*stated.0).is_eq()
            && key.dq.cmp_vartime(&*stated.1).is_eq()
            && key.qinv.cmp_vartime(&*stated.2).is_eq()
            && key.public_key_matches()?;
        if consistent { Ok(key) } else { Err(invalid) }
    }

    /// (x^e)^d ≡ x for one x: d belongs to e.
    fn public_key_matches(&self) -> Result<bool, Error> {
        let n = Modulus::new(BigNum(self.n.clone()))?;
        let x = n.reduce(&BigNum::from_u64(0x0053_504c_4954_4944)?)?;
        let e = BigNum::from_uint(self.e.clone());
        let signed = self.private_raw(&n.pow_public_big(&x, &e)?, n.byte_len());
        Ok(matches!(signed, Ok(value) if value.cmp_public(&x).is_eq()))
    }

    pub(crate) fn to_der(&self) -> Result<Zeroizing<Vec<u8>>, Error> {
        use pkcs1::der::Encode;
        let bytes =
            |value: &BoxedUint| Zeroizing::new(value.to_be_bytes_trimmed_vartime().to_vec());
        let (n, e, d, p, q) = (
            bytes(&self.n),
            bytes(&self.e),
            bytes(&self.d),
            bytes(&self.p),
            bytes(&self.q),
        );
        let (dp, dq, qinv) = (bytes(&self.dp), bytes(&self.dq), bytes(&self.qinv));
        fn uint(value: &[u8]) -> Result<pkcs1::UintRef<'_>, Error> {
            pkcs1::UintRef::new(value).map_err(|_| Error::Backend("PKCS#1 encoding"))
        }
        let key = pkcs1::RsaPrivateKey {
            modulus: uint(&n)?,
            public_exponent: uint(&e)?,
            private_exponent: uint(&d)?,
            prime1: uint(&p)?,
            prime2: uint(&q)?,
            exponent1: uint(&dp)?,
            exponent2: uint(&dq)?,
            coefficient: uint(&qinv)?,
            other_prime_infos: None,
        };
        key.to_der()
            .map(Zeroizing::new)
            .map_err(|_| Error::Backend("PKCS#1 encoding"))
    }

    pub(crate) fn modulus(&self) -> Result<BigNum, Error> {
        Ok(BigNum(self.n.clone()))
    }

    pub(crate) fn secret_parts(&self, modulus_bytes: usize) -> Result<RsaSecretParts, Error> {
        let prime_bytes = modulus_bytes / 2;
        Ok(RsaSecretParts {
            p: fixed_width_bytes(&self.p, prime_bytes)?,
            q: fixed_width_bytes(&self.q, prime_bytes)?,
            d: fixed_width_bytes(&self.d, modulus_bytes)?,
        })
    }

    /// `x^d mod n` by CRT in constant time, checked against the public key.
    pub(crate) fn private_raw(&self, x: &BigNum, _modulus_bytes: usize) -> Result<BigNum, Error> {
        let n = NonZero::new(self.n.clone())
            .into_option()
            .ok_or(Error::Backend("RSA modulus"))?;
        if x.0.cmp_vartime(&self.n).is_ge() {
            return Err(Error::InvalidInput("input is not below the modulus"));
        }
        let m1 = Zeroizing::new(crt_half(&x.0, &self.p, &self.dp)?);
        let m2 = Zeroizing::new(crt_half(&x.0, &self.q, &self.dq)?);
        // Garner: s = m2 + q · (q⁻¹ · (m1 − m2) mod p).
        let p = NonZero::new((*self.p).clone())
            .into_option()
            .ok_or(Error::Backend("RSA prime"))?;
        let m2_mod_p = Zeroizing::new(widened(&m2, n.bits_precision()).rem(&p));
        let difference = Zeroizing::new(m1.sub_mod(&m2_mod_p, &p));
        let h = Zeroizing::new(difference.mul_mod(&self.qinv, &p));
        let wide = n.bits_precision() + Limb::BITS;
        let s = widened(&self.q.concatenating_mul(&*h), wide).wrapping_add(widened(&m2, wide));
        let s = BigNum(s.rem(&n));
        let modulus = Modulus::new(BigNum(self.n.clone()))?;
        let e = BigNum::from_uint(self.e.clone());
        if !modulus.pow_public_big(&s, &e)?.cmp_public(x).is_eq() {
            return Err(Error::Backend("RSA private operation (fault detected)"));
        }
        Ok(s)
    }
}

/// `x^d mod prime` in constant time (x reduced first, also in constant time).
fn crt_half(x: &BoxedUint, prime: &BoxedUint, exponent: &BoxedUint) -> Result<BoxedUint, Error> {
    let odd = Odd::new(prime.clone())
        .into_option()
        .ok_or(Error::InconsistentKey("an RSA prime is even"))?;
    let params = BoxedMontyParams::new(odd);
    let nonzero = NonZero::new(prime.clone())
        .into_option()
        .ok_or(Error::InconsistentKey("an RSA prime is zero"))?;
    let reduced = Zeroizing::new(x.rem(&nonzero));
    let mut base = BoxedMontyForm::new((*reduced).clone(), &params);
    let mut power = base.pow(exponent);
    let result = power.retrieve();
    zeroize::Zeroize::zeroize(&mut base);
    zeroize::Zeroize::zeroize(&mut power);
    Ok(result)
}

type CrtValues = (
    Zeroizing<BoxedUint>,
    Zeroizing<BoxedUint>,
    Zeroizing<BoxedUint>,
);

/// dp = d mod (p − 1), dq = d mod (q − 1), qinv = q⁻¹ mod p.
fn crt_values(d: &BoxedUint, p: &BoxedUint, q: &BoxedUint) -> Result<CrtValues, Error> {
    let inconsistent = Error::InconsistentKey("the RSA primes are not usable");
    let one = BoxedUint::one_with_precision(p.bits_precision());
    let minus_one = |prime: &BoxedUint| {
        NonZero::new(prime.wrapping_sub(widened(&one, prime.bits_precision())))
            .into_option()
            .map(Zeroizing::new)
            .ok_or(inconsistent.clone())
    };
    let (p1, q1) = (minus_one(p)?, minus_one(q)?);
    let dp = Zeroizing::new(d.rem(&*p1));
    let dq = Zeroizing::new(d.rem(&*q1));
    let p_odd = Odd::new(p.clone())
        .into_option()
        .ok_or(inconsistent.clone())?;
    let q_mod_p = Zeroizing::new(widened(q, p.bits_precision()).rem(p_odd.as_nz_ref()));
    let qinv: Option<BoxedUint> = q_mod_p.invert_odd_mod(&p_odd).into();
    let qinv = Zeroizing::new(qinv.ok_or(inconsistent)?);
    Ok((dp, dq, qinv))
}

/// The hash of the concatenated parts (RustCrypto's SHA-2).
pub(crate) fn digest(hash: HashAlgorithm, parts: &[&[u8]]) -> Vec<u8> {
    use sha2::Digest;
    fn run<D: Digest>(parts: &[&[u8]]) -> Vec<u8> {
        let mut hasher = D::new();
        parts.iter().for_each(|part| hasher.update(part));
        hasher.finalize().to_vec()
    }
    match hash {
        HashAlgorithm::Sha256 => run::<sha2::Sha256>(parts),
        HashAlgorithm::Sha384 => run::<sha2::Sha384>(parts),
        HashAlgorithm::Sha512 => run::<sha2::Sha512>(parts),
        HashAlgorithm::Sha3_256 => run::<sha3::Sha3_256>(parts),
        HashAlgorithm::Sha3_384 => run::<sha3::Sha3_384>(parts),
        HashAlgorithm::Sha3_512 => run::<sha3::Sha3_512>(parts),
    }
}
