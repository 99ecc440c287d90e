//! The AWS-LC big-number backend: a small safe wrapper over AWS-LC's `BIGNUM` API.
//!
//! Everything that touches a secret exponent goes through [`Modulus::pow_secret`], which calls
//! `BN_mod_exp_mont_consttime`. That function is constant time with respect to the exponent and
//! processes *every word stored* in it (AWS-LC uses the stored width, not the bit length), so
//! secret exponents are always built from fixed-length byte strings ([`SecretExponent`]) and
//! their bit length never shows in the timing.
//!
//! Public values (moduli, messages, signatures) use the ordinary, faster routines.
//!
//! This module is the one place with `unsafe` code; the rest of the crate sees only safe types.
//! The pure-Rust backend (`pure.rs`) offers the same interface.

use std::cmp::Ordering;
use std::ptr::{self, NonNull};

use aws_lc_sys as ffi;
use zeroize::Zeroizing;

use super::RsaSecretParts;
use crate::{Error, HashAlgorithm};

fn backend_failure(what: &'static str) -> Error {
    Error::Backend(what)
}

/// An owned `BIGNUM`. Freed with `BN_clear_free`, so secret values are wiped too.
pub(crate) struct BigNum(NonNull<ffi::BIGNUM>);

// SAFETY: a BIGNUM is plain heap memory owned by this value; AWS-LC keeps no thread-local or
// shared state in it. Shared references only ever reach `*const BIGNUM` functions.
unsafe impl Send for BigNum {}
unsafe impl Sync for BigNum {}

impl Drop for BigNum {
    fn drop(&mut self) {
        // SAFETY: we own the pointer and free it exactly once.
        unsafe { ffi::BN_clear_free(self.0.as_ptr()) }
    }
}

impl BigNum {
    fn new() -> Result<Self, Error> {
        // SAFETY: BN_new has no preconditions; a null return means allocation failure.
        NonNull::new(unsafe { ffi::BN_new() })
            .map(BigNum)
            .ok_or_else(|| backend_failure("BN_new"))
    }

    /// Parses a big-endian unsigned integer. The internal width is `ceil(len / 8)` words
    /// whatever the value, which is what keeps secret exponents fixed-width.
    pub(crate) fn from_be_bytes(bytes: &[u8]) -> Result<Self, Error> {
        let bn = Self::new()?;
        // SAFETY: `bytes` is a valid slice; `bn` is a valid BIGNUM that BN_bin2bn overwrites.
        let out = unsafe { ffi::BN_bin2bn(bytes.as_ptr(), bytes.len(), bn.as_ptr()) };
        if out.is_null() {
            return Err(backend_failure("BN_bin2bn"));
        }
        Ok(bn)
    }

    pub(crate) fn from_u64(value: u64) -> Result<Self, Error> {
        let bn = Self::new()?;
        // SAFETY: valid BIGNUM.
        if unsafe { ffi::BN_set_u64(bn.as_ptr(), value) } != 1 {
            return Err(backend_failure("BN_set_u64"));
        }
        Ok(bn)
    }

    /// Big-endian bytes, left-padded with zeros to exactly `len` bytes.
    /// Fails if the value does not fit.
    pub(crate) fn to_be_bytes_padded(&self, len: usize) -> Result<Vec<u8>, Error> {
        let mut out = vec![0u8; len];
        // SAFETY: `out` has room for `len` bytes; BN_bn2bin_padded writes exactly that many.
        let ok = unsafe { ffi::BN_bn2bin_padded(out.as_mut_ptr(), len, self.as_const()) };
        if ok != 1 {
            return Err(Error::InvalidInput(
                "a number does not fit its expected size",
            ));
        }
        Ok(out)
    }

    /// As [`Self::to_be_bytes_padded`], for values that must be wiped after use.
    pub(crate) fn to_secret_bytes(&self, len: usize) -> Result<Zeroizing<Vec<u8>>, Error> {
        self.to_be_bytes_padded(len).map(Zeroizing::new)
    }

    pub(crate) fn num_bits(&self) -> usize {
        // SAFETY: valid BIGNUM.
        unsafe { ffi::BN_num_bits(self.as_const()) as usize }
    }

    pub(crate) fn is_zero(&self) -> bool {
        // SAFETY: valid BIGNUM.
        unsafe { ffi::BN_is_zero(self.as_const()) == 1 }
    }

    pub(crate) fn is_one(&self) -> bool {
        // SAFETY: valid BIGNUM.
        unsafe { ffi::BN_is_one(self.as_const()) == 1 }
    }

    /// Compares two public values (variable time).
    pub(crate) fn cmp_public(&self, other: &BigNum) -> Ordering {
        // SAFETY: both valid BIGNUMs.
        unsafe { ffi::BN_cmp(self.as_const(), other.as_const()) }.cmp(&0)
    }

    /// Product of two public values.
    pub(crate) fn mul(&self, other: &BigNum) -> Result<BigNum, Error> {
        let ctx = Ctx::new()?;
        let r = Self::new()?;
        // SAFETY: valid BIGNUMs and context.
        let ok = unsafe { ffi::BN_mul(r.as_ptr(), self.as_const(), other.as_const(), ctx.0) };
        check(ok, "BN_mul")?;
        Ok(r)
    }

    /// Sum of two public values.
    pub(crate) fn add(&self, other: &BigNum) -> Result<BigNum, Error> {
        let r = Self::new()?;
        // SAFETY: valid BIGNUMs.
        let ok = unsafe { ffi::BN_add(r.as_ptr(), self.as_const(), other.as_const()) };
        check(ok, "BN_add")?;
        Ok(r)
    }

    /// `self mod w` for a small public divisor (trial division).
    pub(crate) fn mod_word(&self, w: u32) -> u32 {
        // SAFETY: valid BIGNUM; w is non-zero at every call site (small primes).
        // The remainder is below w, so it fits.
        unsafe { ffi::BN_mod_word(self.as_const(), u64::from(w)) as u32 }
    }

    /// A random probable prime of exactly `bits` bits (for tests of the modulus screening).
    #[cfg(test)]
    pub(crate) fn generate_prime(bits: usize) -> Result<BigNum, Error> {
        let r = Self::new()?;
        // SAFETY: valid BIGNUM; null add/rem/callback are allowed.
        let ok = unsafe {
            ffi::BN_generate_prime_ex(
                r.as_ptr(),
                bits as i32,
                0,
                ptr::null(),
                ptr::null(),
                ptr::null_mut(),
            )
        };
        check(ok, "BN_generate_prime_ex")?;
        Ok(r)
    }

    fn as_ptr(&self) -> *mut ffi::BIGNUM {
        self.0.as_ptr()
    }

    fn as_const(&self) -> *const ffi::BIGNUM {
        self.0.as_ptr()
    }
}

fn check(ok: i32, what: &'static str) -> Result<(), Error> {
    if ok == 1 {
        Ok(())
    } else {
        Err(backend_failure(what))
    }
}

/// A scratch `BN_CTX`, one per operation (cheap next to a modular exponentiation).
struct Ctx(*mut ffi::BN_CTX);

impl Ctx {
    fn new() -> Result<Self, Error> {
        // SAFETY: no preconditions.
        let ctx = unsafe { ffi::BN_CTX_new() };
        if ctx.is_null() {
            return Err(backend_failure("BN_CTX_new"));
        }
        Ok(Ctx(ctx))
    }
}

impl Drop for Ctx {
    fn drop(&mut self) {
        // SAFETY: owned, freed once.
        unsafe { ffi::BN_CTX_free(self.0) }
    }
}

/// A secret exponent held at a fixed width. Its bytes are wiped on drop (the inner `BigNum`
/// is freed with `BN_clear_free`).
pub(crate) struct SecretExponent(BigNum);

impl SecretExponent {
    /// The exponent's bytes at the given fixed width, wiped when dropped (for key storage).
    pub(crate) fn to_bytes(&self, len: usize) -> Result<Zeroizing<Vec<u8>>, Error> {
        self.0.to_secret_bytes(len)
    }

    /// `bytes` must have the fixed length the protocol prescribes for this exponent; leading
    /// zero bytes are kept as part of the width.
    pub(crate) fn from_fixed_bytes(bytes: &[u8]) -> Result<Self, Error> {
        BigNum::from_be_bytes(bytes).map(SecretExponent)
    }
}

/// AWS-LC's shape of a modular binary operation: `r = op(a, b) mod m`.
type ModularBinaryOp = unsafe extern "C" fn(
    *mut ffi::BIGNUM,
    *const ffi::BIGNUM,
    *const ffi::BIGNUM,
    *const ffi::BIGNUM,
    *mut ffi::BN_CTX,
) -> std::os::raw::c_int;

/// An odd public modulus with its cached Montgomery context.
pub(crate) struct Modulus {
    n: BigNum,
    mont: NonNull<ffi::BN_MONT_CTX>,
    bytes: usize,
}

// SAFETY: the Montgomery context is immutable after construction and only read by AWS-LC's
// exponentiation routines, which take it as `*const`.
unsafe impl Send for Modulus {}
unsafe impl Sync for Modulus {}

impl Drop for Modulus {
    fn drop(&mut self) {
        // SAFETY: owned, freed once.
        unsafe { ffi::BN_MONT_CTX_free(self.mont.as_ptr()) }
    }
}

impl Modulus {
    /// Builds a modulus from its big-endian bytes (leading zeros are ignored).
    /// Fails for an even or zero value, which no RSA modulus can be.
    pub(crate) fn from_be_bytes(bytes: &[u8]) -> Result<Self, Error> {
        let n = BigNum::from_be_bytes(bytes)?;
        Self::new(n)
    }

    pub(crate) fn new(n: BigNum) -> Result<Self, Error> {
        // SAFETY: valid BIGNUM.
        if n.is_zero() || unsafe { ffi::BN_is_odd(n.as_const()) } != 1 {
            return Err(Error::InvalidInput("modulus must be odd and positive"));
        }
        let ctx = Ctx::new()?;
        // SAFETY: n is odd and positive, as BN_MONT_CTX_new_for_modulus requires.
        let mont = unsafe { ffi::BN_MONT_CTX_new_for_modulus(n.as_const(), ctx.0) };
        let mont = NonNull::new(mont).ok_or_else(|| backend_failure("BN_MONT_CTX_new"))?;
        let bytes = n.num_bits().div_ceil(8);
        Ok(Modulus { n, mont, bytes })
    }

    pub(crate) fn value(&self) -> &BigNum {
        &self.n
    }

    pub(crate) fn bits(&self) -> usize {
        self.n.num_bits()
    }

    /// Length in bytes of the modulus, and of every residue encoded for it.
    pub(crate) fn byte_len(&self) -> usize {
        self.bytes
    }

    pub(crate) fn to_be_bytes(&self) -> Vec<u8> {
        self.n
            .to_be_bytes_padded(self.bytes)
            .expect("a modulus fits its own length")
    }

    /// `x mod n` for a public `x`.
    pub(crate) fn reduce(&self, x: &BigNum) -> Result<BigNum, Error> {
        let ctx = Ctx::new()?;
        let r = BigNum::new()?;
        // SAFETY: valid BIGNUMs; n is non-zero.
        let ok = unsafe { ffi::BN_nnmod(r.as_ptr(), x.as_const(), self.n.as_const(), ctx.0) };
        check(ok, "BN_nnmod")?;
        Ok(r)
    }

    /// `a · b mod n` for public inputs.
    pub(crate) fn mul(&self, a: &BigNum, b: &BigNum) -> Result<BigNum, Error> {
        self.binary_op(ffi::BN_mod_mul, "BN_mod_mul", a, b)
    }

    /// `a − b mod n` for public inputs.
    pub(crate) fn sub(&self, a: &BigNum, b: &BigNum) -> Result<BigNum, Error> {
        self.binary_op(ffi::BN_mod_sub, "BN_mod_sub", a, b)
    }

    fn binary_op(
        &self,
        op: ModularBinaryOp,
        what: &'static str,
        a: &BigNum,
        b: &BigNum,
    ) -> Result<BigNum, Error> {
        let ctx = Ctx::new()?;
        let r = BigNum::new()?;
        // SAFETY: `op` is one of AWS-LC's (r, a, b, m, ctx) modular functions; all pointers are
        // valid BIGNUMs and a context.
        let ok = unsafe {
            op(
                r.as_ptr(),
                a.as_const(),
                b.as_const(),
                self.n.as_const(),
                ctx.0,
            )
        };
        check(ok, what)?;
        Ok(r)
    }

    /// `a⁻¹ mod n` for a public `a`; `None` when it does not exist.
    ///
    /// Variable time (`BN_mod_inverse_odd`): both values are public moduli here, and this runs
    /// for every signature the server completes, so the constant-time gcd it replaced (1.3 ms
    /// at 3072 bits) was a noticeable share of a transaction.
    pub(crate) fn invert(&self, a: &BigNum) -> Result<Option<BigNum>, Error> {
        let reduced = self.reduce(a)?;
        let ctx = Ctx::new()?;
        let r = BigNum::new()?;
        let mut no_inverse = 0;
        // SAFETY: valid BIGNUMs and context; n is odd (a `Modulus` invariant) and
        // 0 ≤ reduced < n, as BN_mod_inverse_odd requires.
        let ok = unsafe {
            ffi::BN_mod_inverse_odd(
                r.as_ptr(),
                &mut no_inverse,
                reduced.as_const(),
                self.n.as_const(),
                ctx.0,
            )
        };
        match (ok, no_inverse) {
            (1, _) => Ok(Some(r)),
            (_, 0) => Err(backend_failure("BN_mod_inverse_odd")),
            _ => Ok(None),
        }
    }

    /// `base^e mod n` for a small public exponent (signature verification).
    pub(crate) fn pow_public(&self, base: &BigNum, e: u64) -> Result<BigNum, Error> {
        let exponent = BigNum::from_u64(e)?;
        self.pow_public_big(base, &exponent)
    }

    /// `base^exp mod n` with everything public (variable time).
    pub(crate) fn pow_public_big(&self, base: &BigNum, exp: &BigNum) -> Result<BigNum, Error> {
        let base = self.reduce(base)?;
        let ctx = Ctx::new()?;
        let r = BigNum::new()?;
        // SAFETY: valid BIGNUMs, context and Montgomery context for this modulus.
        let ok = unsafe {
            ffi::BN_mod_exp_mont(
                r.as_ptr(),
                base.as_const(),
                exp.as_const(),
                self.n.as_const(),
                ctx.0,
                self.mont.as_ptr(),
            )
        };
        check(ok, "BN_mod_exp_mont")?;
        Ok(r)
    }

    /// `base^exp mod n` in constant time with respect to `exp` (and to `base`'s value).
    /// `base` must already be reduced modulo `n`.
    pub(crate) fn pow_secret(&self, base: &BigNum, exp: &SecretExponent) -> Result<BigNum, Error> {
        if base.cmp_public(&self.n) != Ordering::Less {
            return Err(Error::InvalidInput("base is not reduced modulo n"));
        }
        let ctx = Ctx::new()?;
        let r = BigNum::new()?;
        // SAFETY: valid BIGNUMs; base < n; the Montgomery context belongs to n.
        let ok = unsafe {
            ffi::BN_mod_exp_mont_consttime(
                r.as_ptr(),
                base.as_const(),
                exp.0.as_const(),
                self.n.as_const(),
                ctx.0,
                self.mont.as_ptr(),
            )
        };
        check(ok, "BN_mod_exp_mont_consttime")?;
        Ok(r)
    }
}

/// An RSA private key held by AWS-LC (with its CRT parameters and blinding).
pub(crate) struct RsaPrivateKey(NonNull<ffi::RSA>);

// SAFETY: AWS-LC's RSA objects are internally locked where they cache state (blinding,
// Montgomery contexts), and are documented as safe to use from several threads.
unsafe impl Send for RsaPrivateKey {}
unsafe impl Sync for RsaPrivateKey {}

impl Drop for RsaPrivateKey {
    fn drop(&mut self) {
        // SAFETY: owned, freed once. RSA_free clears the private components.
        unsafe { ffi::RSA_free(self.0.as_ptr()) }
    }
}

impl RsaPrivateKey {
    /// Generates a key with AWS-LC's FIPS 186-style prime generation (probable primes with
    /// Miller–Rabin rounds per FIPS 186-4 Table C.2, |p − q| large, e = 65537) from its
    /// OS-seeded DRBG.
    pub(crate) fn generate(bits: usize) -> Result<Self, Error> {
        // SAFETY: no preconditions.
        let rsa =
            NonNull::new(unsafe { ffi::RSA_new() }).ok_or_else(|| backend_failure("RSA_new"))?;
        let key = RsaPrivateKey(rsa);
        let e = BigNum::from_u64(u64::from(crate::PUBLIC_EXPONENT))?;
        let bits = i32::try_from(bits).map_err(|_| Error::InvalidInput("key size"))?;
        // SAFETY: valid RSA and exponent; a null callback is allowed.
        let ok = unsafe {
            ffi::RSA_generate_key_ex(key.0.as_ptr(), bits, e.as_const(), ptr::null_mut())
        };
        check(ok, "RSA_generate_key_ex")?;
        Ok(key)
    }

    /// Parses a PKCS#1 `RSAPrivateKey` DER structure. AWS-LC's parser runs `RSA_check_key`
    /// itself (n = p·q, the exponents and the CRT values agree), so a key that parses is
    /// consistent; checking again would only double that cost on every signature.
    pub(crate) fn from_der(der: &[u8]) -> Result<Self, Error> {
        // SAFETY: `der` is a valid slice; a null return means it did not parse or failed
        // RSA_check_key.
        let rsa = unsafe { ffi::RSA_private_key_from_bytes(der.as_ptr(), der.len()) };
        NonNull::new(rsa)
            .map(RsaPrivateKey)
            .ok_or(Error::InvalidInput(
                "server key is not a consistent PKCS#1 RSA private key",
            ))
    }

    /// PKCS#1 `RSAPrivateKey` DER, wiped when dropped.
    pub(crate) fn to_der(&self) -> Result<Zeroizing<Vec<u8>>, Error> {
        let mut out: *mut u8 = ptr::null_mut();
        let mut len = 0usize;
        // SAFETY: valid RSA; on success AWS-LC allocates `len` bytes at `out`, which we copy
        // and then wipe and free.
        let ok = unsafe { ffi::RSA_private_key_to_bytes(&mut out, &mut len, self.0.as_ptr()) };
        check(ok, "RSA_private_key_to_bytes")?;
        // SAFETY: `out` points to `len` initialised bytes owned by us.
        let der = Zeroizing::new(unsafe { std::slice::from_raw_parts(out, len) }.to_vec());
        // SAFETY: `out` was allocated by AWS-LC; cleanse then free it.
        unsafe {
            ffi::OPENSSL_cleanse(out.cast(), len);
            ffi::OPENSSL_free(out.cast());
        }
        Ok(der)
    }

    fn component(&self, which: Component) -> Result<BigNum, Error> {
        let mut n = ptr::null();
        let mut e = ptr::null();
        let mut d = ptr::null();
        let mut p = ptr::null();
        let mut q = ptr::null();
        // SAFETY: valid RSA; the getters fill borrowed pointers owned by the RSA object.
        unsafe {
            ffi::RSA_get0_key(self.0.as_ptr(), &mut n, &mut e, &mut d);
            ffi::RSA_get0_factors(self.0.as_ptr(), &mut p, &mut q);
        }
        let ptr = match which {
            Component::N => n,
            Component::D => d,
            Component::P => p,
            Component::Q => q,
        };
        if ptr.is_null() {
            return Err(backend_failure("RSA component missing"));
        }
        // SAFETY: ptr is a valid BIGNUM owned by the RSA object; BN_dup makes our own copy.
        NonNull::new(unsafe { ffi::BN_dup(ptr) })
            .map(BigNum)
            .ok_or_else(|| backend_failure("BN_dup"))
    }

    pub(crate) fn modulus(&self) -> Result<BigNum, Error> {
        self.component(Component::N)
    }

    /// p, q and d as fixed-width big-endian bytes (`half_bytes` for the modulus size).
    pub(crate) fn secret_parts(&self, modulus_bytes: usize) -> Result<RsaSecretParts, Error> {
        let prime_bytes = modulus_bytes / 2;
        Ok(RsaSecretParts {
            p: self.component(Component::P)?.to_secret_bytes(prime_bytes)?,
            q: self.component(Component::Q)?.to_secret_bytes(prime_bytes)?,
            d: self
                .component(Component::D)?
                .to_secret_bytes(modulus_bytes)?,
        })
    }

    /// The raw private operation `x^d mod n` (no padding), with AWS-LC's CRT, base blinding and
    /// its check of the result against the public key (so a fault cannot leak a factor).
    pub(crate) fn private_raw(&self, x: &BigNum, modulus_bytes: usize) -> Result<BigNum, Error> {
        let input = x.to_be_bytes_padded(modulus_bytes)?;
        let mut out = vec![0u8; modulus_bytes];
        let mut out_len = 0usize;
        // SAFETY: valid RSA; `input` is exactly RSA_size bytes and below n; `out` has room.
        let ok = unsafe {
            ffi::RSA_sign_raw(
                self.0.as_ptr(),
                &mut out_len,
                out.as_mut_ptr(),
                out.len(),
                input.as_ptr(),
                input.len(),
                ffi::RSA_NO_PADDING,
            )
        };
        check(ok, "RSA_sign_raw")?;
        BigNum::from_be_bytes(&out[..out_len])
    }
}

enum Component {
    N,
    D,
    P,
    Q,
}

/// The hash of the concatenated parts (AWS-LC's SHA-2).
pub(crate) fn digest(hash: HashAlgorithm, parts: &[&[u8]]) -> Vec<u8> {
    use aws_lc_rs::digest;
    let algorithm = match hash {
        HashAlgorithm::Sha256 => &digest::SHA256,
        HashAlgorithm::Sha384 => &digest::SHA384,
        HashAlgorithm::Sha512 => &digest::SHA512,
        HashAlgorithm::Sha3_256 => &digest::SHA3_256,
        HashAlgorithm::Sha3_384 => &digest::SHA3_384,
        HashAlgorithm::Sha3_512 => &digest::SHA3_512,
    };
    let mut context = digest::Context::new(algorithm);
    parts.iter().for_each(|part| context.update(part));
    context.finish().as_ref().to_vec()
}
