//! Screening of a device's modulus n1 before the server accepts it (docs/spec/splitkey.md §7.2 step 7).
//!
//! The server cannot prove that n1 is a product of two large primes, but it can refuse the
//! values that are certainly wrong. All values here are public, so variable-time arithmetic is
//! fine.

use std::sync::OnceLock;

use num_bigint::BigUint;

use crate::arith::{BigNum, Modulus};
use crate::{HalfSize, ModulusRejection};

/// Trial division bound: no prime factor below 2^20 is allowed.
const SMALL_PRIME_BOUND: usize = 1 << 20;

/// ⌊√2 · 2^63⌋: a modulus whose top 64 bits exceed this is at least √2 · 2^(bits−1).
const SQRT2_TOP_WORD: u64 = 0xB504_F333_F9DE_6484;

/// True when the `bits`-bit big-endian `modulus` is above √2 · 2^(bits−1). The product of two
/// such moduli always has exactly twice as many bits, so the composite key is full size.
pub(crate) fn is_high_modulus(modulus: &[u8], bits: usize) -> bool {
    let first = modulus
        .iter()
        .position(|&b| b != 0)
        .unwrap_or(modulus.len());
    let significant = &modulus[first..];
    if significant.len() * 8 < bits || significant.len() < 8 {
        return false;
    }
    let mut top = [0u8; 8];
    top.copy_from_slice(&significant[..8]);
    u64::from_be_bytes(top) > SQRT2_TOP_WORD
}

/// Checks a device modulus: exact size, large enough for a full-size composite, odd, not a
/// perfect power, no prime factor below 2^20, and composite (fails a Fermat test).
pub(crate) fn screen_device_modulus(n1: &[u8], half: HalfSize) -> Result<(), ModulusRejection> {
    let n = BigNum::from_be_bytes(n1).map_err(|_| ModulusRejection::Even)?;
    let bits = n.num_bits();
    if bits != half.bits() {
        return Err(ModulusRejection::WrongSize {
            expected: half.bits(),
            actual: bits,
        });
    }
    if !is_high_modulus(n1, bits) {
        return Err(ModulusRejection::TooSmallForComposite);
    }
    if n.mod_word(2) == 0 {
        return Err(ModulusRejection::Even);
    }
    if is_perfect_power(&BigUint::from_bytes_be(n1), bits) {
        return Err(ModulusRejection::PerfectPower);
    }
    if let Some(&p) = small_primes().iter().find(|&&p| n.mod_word(p) == 0) {
        return Err(ModulusRejection::SmallFactor(p));
    }
    if passes_fermat_base2(n)? {
        return Err(ModulusRejection::NotComposite);
    }
    Ok(())
}

/// n = x^k for some k ≥ 2? Only prime k need checking; x ≥ 3 since n is odd.
fn is_perfect_power(n: &BigUint, bits: usize) -> bool {
    let max_k = (bits as f64 / 3f64.log2()).floor() as u32;
    (2..=max_k)
        .filter(|&k| is_small_prime(k))
        .any(|k| n.nth_root(k).pow(k) == *n)
}

fn is_small_prime(k: u32) -> bool {
    k >= 2
        && (2..)
            .take_while(|d| d * d <= k)
            .all(|d| !k.is_multiple_of(d))
}

/// 2^(n−1) ≡ 1 (mod n): true for every prime, and for composites only by rare accident.
fn passes_fermat_base2(n: BigNum) -> Result<bool, ModulusRejection> {
    let to_rejection = |_| ModulusRejection::Even;
    let modulus = Modulus::new(n).map_err(to_rejection)?;
    let minus_one = {
        let mut bytes = modulus.to_be_bytes();
        // n is odd, so n − 1 only clears the lowest bit.
        *bytes.last_mut().expect("non-empty") &= 0xfe;
        BigNum::from_be_bytes(&bytes).map_err(to_rejection)?
    };
    let two = BigNum::from_u64(2).map_err(to_rejection)?;
    let r = modulus
        .pow_public_big(&two, &minus_one)
        .map_err(to_rejection)?;
    Ok(r.is_one())
}

/// The odd primes below 2^20, by a sieve of Eratosthenes run once.
fn small_primes() -> &'static [u32] {
    static PRIMES: OnceLock<Vec<u32>> = OnceLock::new();
    PRIMES.get_or_init(|| {
        let mut composite = vec![false; SMALL_PRIME_BOUND];
        let mut primes = Vec::new();
        for i in 3..SMALL_PRIME_BOUND {
            if composite[i] {
                continue;
            }
            if i % 2 == 1 {
                primes.push(i as u32);
            }
            (i * i..SMALL_PRIME_BOUND)
                .step_by(i)
                .for_each(|j| composite[j] = true);
        }
        primes
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arith::RsaPrivateKey;

    fn high_rsa_modulus(bits: usize) -> Vec<u8> {
        loop {
            let key = RsaPrivateKey::generate(bits).unwrap();
            let n = key.modulus().unwrap().to_be_bytes_padded(bits / 8).unwrap();
            if is_high_modulus(&n, bits) {
                return n;
            }
        }
    }

    fn pad(n: &BigUint, len: usize) -> Vec<u8> {
        let bytes = n.to_bytes_be();
        let mut out = vec![0u8; len - bytes.len()];
        out.extend(bytes);
        out
    }

    #[test]
    fn accepts_a_real_rsa_modulus() {
        let n1 = high_rsa_modulus(2048);
        assert_eq!(screen_device_modulus(&n1, HalfSize::Bits2048), Ok(()));
    }

    #[test]
    fn rejects_each_kind_of_bad_modulus() {
        let half = HalfSize::Bits2048;
        let good = BigUint::from_bytes_be(&high_rsa_modulus(2048));
        let len = half.bytes();

        let short = &good >> 1usize;
        assert!(matches!(
            screen_device_modulus(&pad(&short, len), half),
            Err(ModulusRejection::WrongSize {
                expected: 2048,
                actual: 2047
            })
        ));
        let low = (BigUint::from(1u8) << 2047usize) + 1u8;
        assert_eq!(
            screen_device_modulus(&pad(&low, len), half),
            Err(ModulusRejection::TooSmallForComposite)
        );
        let even = &good + 1u8;
        assert_eq!(
            screen_device_modulus(&pad(&even, len), half),
            Err(ModulusRejection::Even)
        );

        let square = {
            let r = (BigUint::from(1u8) << 1024usize) - 1u8;
            &r * &r
        };
        assert_eq!(
            screen_device_modulus(&pad(&square, len), half),
            Err(ModulusRejection::PerfectPower)
        );

        // Make the good modulus divisible by 3, keeping it odd and of the same size.
        let mut by_three = &good - (&good % 3u8);
        if !by_three.bit(0) {
            by_three -= 3u8;
        }
        assert_eq!(
            screen_device_modulus(&pad(&by_three, len), half),
            Err(ModulusRejection::SmallFactor(3))
        );

        let prime = loop {
            let p = BigNum::generate_prime(2048)
                .unwrap()
                .to_be_bytes_padded(len)
                .unwrap();
            if is_high_modulus(&p, 2048) {
                break p;
            }
        };
        assert_eq!(
            screen_device_modulus(&prime, half),
            Err(ModulusRejection::NotComposite)
        );
    }

    #[test]
    fn high_modulus_products_are_full_size() {
        let a = BigUint::from_bytes_be(&high_rsa_modulus(2048));
        let b = BigUint::from_bytes_be(&high_rsa_modulus(2048));
        assert_eq!((a * b).bits(), 4096);
    }
}
