//! The big-number backend, one of two with the same interface, chosen by a Cargo feature:
//!
//! * `aws-lc` (the default): AWS-LC's `BIGNUM` and RSA code through `aws-lc-sys`
//!   ([`aws_lc`](self::aws_lc)), for the service and the command-line app;
//! * `pure-rust`: crypto-bigint and crypto-primes (`pure`), for targets AWS-LC does
//!   not build for, such as the browser's WebAssembly.
//!
//! With both features (a workspace build unifies features), AWS-LC is used and the pure
//! backend is compiled only to be compared with it, value for value, in the tests below.
//! The rest of the crate sees the same safe types either way: [`BigNum`] (public values),
//! [`SecretExponent`] (fixed-width secret exponents, used only in constant time),
//! [`Modulus`] and [`RsaPrivateKey`].

use zeroize::Zeroizing;

use crate::Error;

#[cfg(not(any(feature = "aws-lc", feature = "pure-rust")))]
compile_error!(
    "splitkey needs a big-number backend: enable the `aws-lc` or the `pure-rust` feature"
);

#[cfg(feature = "aws-lc")]
mod aws_lc;
#[cfg(feature = "pure-rust")]
#[cfg_attr(feature = "aws-lc", allow(dead_code))]
mod pure;

#[cfg(feature = "aws-lc")]
pub(crate) use aws_lc::{BigNum, Modulus, RsaPrivateKey, SecretExponent, digest};
#[cfg(all(feature = "pure-rust", not(feature = "aws-lc")))]
pub(crate) use pure::{BigNum, Modulus, RsaPrivateKey, SecretExponent, digest};

/// The name of the backend in use, for benchmarks and diagnostics.
pub const BACKEND: &str = if cfg!(feature = "aws-lc") {
    "aws-lc"
} else {
    "pure-rust"
};

/// The secret parts of a freshly generated device key, each at its fixed width.
pub(crate) struct RsaSecretParts {
    pub(crate) p: Zeroizing<Vec<u8>>,
    pub(crate) q: Zeroizing<Vec<u8>>,
    pub(crate) d: Zeroizing<Vec<u8>>,
}

/// Fills `out` from the operating system's CSPRNG (the browser's `crypto.getRandomValues`
/// in WebAssembly).
pub(crate) fn os_random(out: &mut [u8]) -> Result<(), Error> {
    getrandom::fill(out).map_err(|_| Error::Backend("OS random number generator"))
}

#[cfg(test)]
mod tests {
    use num_bigint::BigUint;
    use proptest::prelude::*;

    use super::*;

    fn big(bytes: &[u8]) -> BigUint {
        BigUint::from_bytes_be(bytes)
    }

    fn euclid_gcd(mut a: BigUint, mut b: BigUint) -> BigUint {
        while b != BigUint::ZERO {
            let r = &a % &b;
            a = std::mem::replace(&mut b, r);
        }
        a
    }

    fn to_big(n: &BigNum) -> BigUint {
        big(&n
            .to_be_bytes_padded(n.num_bits().div_ceil(8).max(1))
            .unwrap())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

        /// The inverse the CRT combination uses, against num-bigint: a·a⁻¹ ≡ 1 when
        /// gcd(a, n) = 1, and `None` exactly when they share a factor.
        #[test]
        fn inverse_agrees_with_an_independent_gcd(
            modulus in prop::collection::vec(any::<u8>(), 1..48),
            a in prop::collection::vec(any::<u8>(), 1..64),
        ) {
            let mut modulus = modulus;
            *modulus.last_mut().unwrap() |= 1; // odd
            let n_big = big(&modulus);
            prop_assume!(n_big > BigUint::from(1u8));
            let n = Modulus::from_be_bytes(&modulus).unwrap();

            // a itself, and a multiple of n (no inverse whatever a is).
            for candidate in [big(&a), big(&a) * &n_big] {
                let a_bn = BigNum::from_be_bytes(&candidate.to_bytes_be()).unwrap();
                let coprime = euclid_gcd(candidate.clone(), n_big.clone()) == BigUint::from(1u8);
                match n.invert(&a_bn).unwrap() {
                    Some(inverse) => {
                        prop_assert!(coprime);
                        prop_assert_eq!((candidate * to_big(&inverse)) % &n_big, BigUint::from(1u8));
                    }
                    None => prop_assert!(!coprime),
                }
            }
        }

        /// A multiple of a factor of n never has an inverse.
        #[test]
        fn a_shared_factor_has_no_inverse(p in 3u64..10_000, q in 3u64..10_000, k in 1u64..1000) {
            let (p, q) = (p | 1, q | 1);
            let n = Modulus::new(BigNum::from_u64(p * q).unwrap()).unwrap();
            let shares = BigNum::from_u64(p * k).unwrap();
            prop_assert!(n.invert(&shares).unwrap().is_none());
        }

        /// The secret exponentiation and the arithmetic around it, against num-bigint, for
        /// odd moduli of any size and exponents of a fixed width.
        #[test]
        fn modular_arithmetic_agrees_with_num_bigint(
            modulus in prop::collection::vec(any::<u8>(), 1..80),
            a in prop::collection::vec(any::<u8>(), 1..100),
            b in prop::collection::vec(any::<u8>(), 1..100),
            exponent in prop::collection::vec(any::<u8>(), 1..90),
        ) {
            let mut modulus = modulus;
            *modulus.last_mut().unwrap() |= 1;
            let n_big = big(&modulus);
            prop_assume!(n_big > BigUint::from(1u8));
            let n = Modulus::from_be_bytes(&modulus).unwrap();
            let (a_bn, b_bn) = (BigNum::from_be_bytes(&a).unwrap(), BigNum::from_be_bytes(&b).unwrap());
            let (a_big, b_big) = (big(&a), big(&b));

            prop_assert_eq!(to_big(&n.reduce(&a_bn).unwrap()), &a_big % &n_big);
            prop_assert_eq!(to_big(&n.mul(&a_bn, &b_bn).unwrap()), (&a_big * &b_big) % &n_big);
            prop_assert_eq!(
                to_big(&n.sub(&a_bn, &b_bn).unwrap()),
                (&a_big % &n_big + &n_big - &b_big % &n_big) % &n_big
            );
            prop_assert_eq!(to_big(&a_bn.mul(&b_bn).unwrap()), &a_big * &b_big);
            prop_assert_eq!(to_big(&a_bn.add(&b_bn).unwrap()), &a_big + &b_big);
            prop_assert_eq!(a_bn.mod_word(65_537), (&a_big % 65_537u32).to_u32_digits().first().copied().unwrap_or(0));

            let base = n.reduce(&a_bn).unwrap();
            let secret = SecretExponent::from_fixed_bytes(&exponent).unwrap();
            let expected = (&a_big % &n_big).modpow(&big(&exponent), &n_big);
            prop_assert_eq!(to_big(&n.pow_secret(&base, &secret).unwrap()), expected.clone());
            prop_assert_eq!(to_big(&n.pow_public_big(&a_bn, &BigNum::from_be_bytes(&exponent).unwrap()).unwrap()), expected);
            let stored = secret.to_bytes(exponent.len()).unwrap();
            prop_assert_eq!(stored.as_slice(), exponent.as_slice());
            prop_assert!(n.pow_secret(&n.value().add(&base).unwrap(), &secret).is_err(), "an unreduced base is refused");
        }

        /// Fixed-width encoding: left-padded when it fits, refused when it does not.
        #[test]
        fn fixed_width_bytes_pad_or_refuse(value in prop::collection::vec(any::<u8>(), 1..70), len in 0usize..80) {
            let n = BigNum::from_be_bytes(&value).unwrap();
            let significant = value.iter().skip_while(|&&byte| byte == 0).count();
            match n.to_be_bytes_padded(len) {
                Ok(bytes) => {
                    prop_assert!(significant <= len);
                    prop_assert_eq!(bytes.len(), len);
                    prop_assert_eq!(big(&bytes), big(&value));
                }
                Err(_) => prop_assert!(significant > len),
            }
        }
    }

    /// The RSA private operation of a generated key inverts the public one, survives its own
    /// PKCS#1 encoding, and gives the secret parts that make up its modulus.
    #[test]
    fn a_generated_rsa_key_is_consistent() {
        let key = RsaPrivateKey::generate(1024).unwrap();
        let n_bytes = key.modulus().unwrap().to_be_bytes_padded(128).unwrap();
        let n = Modulus::from_be_bytes(&n_bytes).unwrap();
        assert_eq!(n.bits(), 1024);
        let parts = key.secret_parts(128).unwrap();
        assert_eq!(big(&parts.p) * big(&parts.q), big(&n_bytes));

        let reparsed = RsaPrivateKey::from_der(&key.to_der().unwrap()).unwrap();
        for seed in [1u8, 7, 200] {
            let x = n
                .reduce(&BigNum::from_be_bytes(&[seed; 127]).unwrap())
                .unwrap();
            let signed = reparsed.private_raw(&x, 128).unwrap();
            let recovered = n
                .pow_public(&signed, u64::from(crate::PUBLIC_EXPONENT))
                .unwrap();
            assert!(recovered.cmp_public(&x).is_eq());
            assert!(
                key.private_raw(&x, 128)
                    .unwrap()
                    .cmp_public(&signed)
                    .is_eq()
            );
        }
    }

    /// A key whose parts do not agree is refused (here: the CRT coefficient changed).
    #[test]
    fn an_inconsistent_rsa_key_is_refused() {
        let der = RsaPrivateKey::generate(1024).unwrap().to_der().unwrap();
        let mut broken = der.to_vec();
        // The coefficient is the last INTEGER: flip a bit of its last byte.
        *broken.last_mut().unwrap() ^= 1;
        assert!(RsaPrivateKey::from_der(&broken).is_err());
        assert!(RsaPrivateKey::from_der(&der[..der.len() - 1]).is_err());
    }
}

/// With both features, the two backends against each other: the same values for the same
/// inputs, and each one's RSA keys read by the other.
#[cfg(all(test, feature = "aws-lc", feature = "pure-rust"))]
mod backends_agree {
    use proptest::prelude::*;

    use super::{aws_lc, pure};
    use crate::HashAlgorithm;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

        #[test]
        fn on_modular_arithmetic(
            modulus in prop::collection::vec(any::<u8>(), 1..400),
            a in prop::collection::vec(any::<u8>(), 1..400),
            b in prop::collection::vec(any::<u8>(), 1..400),
            exponent in prop::collection::vec(any::<u8>(), 1..420),
        ) {
            let mut modulus = modulus;
            *modulus.last_mut().unwrap() |= 1;
            prop_assume!(modulus.iter().rev().skip(1).any(|&byte| byte != 0) || modulus[modulus.len() - 1] > 1);
            let len = modulus.len();
            let (aws_n, pure_n) = (
                aws_lc::Modulus::from_be_bytes(&modulus).unwrap(),
                pure::Modulus::from_be_bytes(&modulus).unwrap(),
            );
            let aws = |bytes: &[u8]| aws_lc::BigNum::from_be_bytes(bytes).unwrap();
            let pure = |bytes: &[u8]| pure::BigNum::from_be_bytes(bytes).unwrap();
            let aws_bytes = |n: aws_lc::BigNum| n.to_be_bytes_padded(len).unwrap();
            let pure_bytes = |n: pure::BigNum| n.to_be_bytes_padded(len).unwrap();

            prop_assert_eq!(aws_bytes(aws_n.reduce(&aws(&a)).unwrap()), pure_bytes(pure_n.reduce(&pure(&a)).unwrap()));
            prop_assert_eq!(aws_bytes(aws_n.mul(&aws(&a), &aws(&b)).unwrap()), pure_bytes(pure_n.mul(&pure(&a), &pure(&b)).unwrap()));
            prop_assert_eq!(aws_bytes(aws_n.sub(&aws(&a), &aws(&b)).unwrap()), pure_bytes(pure_n.sub(&pure(&a), &pure(&b)).unwrap()));
            prop_assert_eq!(
                aws_n.invert(&aws(&a)).unwrap().map(aws_bytes),
                pure_n.invert(&pure(&a)).unwrap().map(pure_bytes)
            );
            let aws_base = aws_n.reduce(&aws(&a)).unwrap();
            let pure_base = pure_n.reduce(&pure(&a)).unwrap();
            prop_assert_eq!(
                aws_bytes(aws_n.pow_secret(&aws_base, &aws_lc::SecretExponent::from_fixed_bytes(&exponent).unwrap()).unwrap()),
                pure_bytes(pure_n.pow_secret(&pure_base, &pure::SecretExponent::from_fixed_bytes(&exponent).unwrap()).unwrap())
            );
            prop_assert_eq!(
                aws_bytes(aws_n.pow_public(&aws(&a), 65_537).unwrap()),
                pure_bytes(pure_n.pow_public(&pure(&a), 65_537).unwrap())
            );
            prop_assert_eq!(aws(&a).mod_word(1_048_573), pure(&a).mod_word(1_048_573));
            for hash in HashAlgorithm::ALL {
                prop_assert_eq!(aws_lc::digest(hash, &[&a, &b]), pure::digest(hash, &[&a, &b]));
            }
        }
    }

    /// Each backend's keys, in PKCS#1, are read by the other (AWS-LC runs `RSA_check_key`),
    /// encoded back to the same bytes, and give the same private operation.
    #[test]
    fn on_rsa_keys() {
        for bits in [1024, 2048] {
            let bytes = bits / 8;
            let from_pure = pure::RsaPrivateKey::generate(bits)
                .unwrap()
                .to_der()
                .unwrap();
            let from_aws = aws_lc::RsaPrivateKey::generate(bits)
                .unwrap()
                .to_der()
                .unwrap();
            for der in [from_pure, from_aws] {
                let aws_key = aws_lc::RsaPrivateKey::from_der(&der).unwrap();
                let pure_key = pure::RsaPrivateKey::from_der(&der).unwrap();
                assert_eq!(aws_key.to_der().unwrap(), der);
                assert_eq!(pure_key.to_der().unwrap(), der);
                let n = aws_key
                    .modulus()
                    .unwrap()
                    .to_be_bytes_padded(bytes)
                    .unwrap();
                assert_eq!(
                    pure_key
                        .modulus()
                        .unwrap()
                        .to_be_bytes_padded(bytes)
                        .unwrap(),
                    n
                );
                let (aws_parts, pure_parts) = (
                    aws_key.secret_parts(bytes).unwrap(),
                    pure_key.secret_parts(bytes).unwrap(),
                );
                assert_eq!(*aws_parts.p, *pure_parts.p);
                assert_eq!(*aws_parts.q, *pure_parts.q);
                assert_eq!(*aws_parts.d, *pure_parts.d);
                let x = [0x5a; 100];
                let aws_signed = aws_key
                    .private_raw(&aws_lc::BigNum::from_be_bytes(&x).unwrap(), bytes)
                    .unwrap();
                let pure_signed = pure_key
                    .private_raw(&pure::BigNum::from_be_bytes(&x).unwrap(), bytes)
                    .unwrap();
                assert_eq!(
                    aws_signed.to_be_bytes_padded(bytes).unwrap(),
                    pure_signed.to_be_bytes_padded(bytes).unwrap()
                );
            }
        }
    }
}
