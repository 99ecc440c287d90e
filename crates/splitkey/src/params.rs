//! Protocol parameters: key sizes, the public exponent and the PIN key-derivation cost.

use crate::Error;

/// The public exponent of every key (device, server and composite).
pub const PUBLIC_EXPONENT: u32 = 65537;

/// Extra bits of the device exponent share beyond the modulus size, so that the server's share
/// `(d1 − d1ᴬ) mod φ(n1)` is statistically independent of `d1` (distance 2⁻¹²⁸).
pub const SHARE_MASK_EXTRA_BITS: usize = 128;

/// The size of each party's modulus. The composite modulus is twice as large.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum HalfSize {
    /// 2048-bit halves (4096-bit composite), as older Smart-ID accounts. Allowed by
    /// configuration only; about 112-bit security per share.
    Bits2048,
    /// 3072-bit halves (6144-bit composite), as current Smart-ID accounts. The default.
    #[default]
    Bits3072,
}

impl HalfSize {
    /// Accepts 2048 or 3072; nothing smaller (or other) is allowed.
    pub fn from_bits(bits: usize) -> Result<Self, Error> {
        match bits {
            2048 => Ok(HalfSize::Bits2048),
            3072 => Ok(HalfSize::Bits3072),
            _ => Err(Error::InvalidInput(
                "half key size must be 2048 or 3072 bits",
            )),
        }
    }

    /// Bits of each party's modulus.
    pub fn bits(self) -> usize {
        match self {
            HalfSize::Bits2048 => 2048,
            HalfSize::Bits3072 => 3072,
        }
    }

    /// Bytes of each party's modulus (and of a partial signature).
    pub fn bytes(self) -> usize {
        self.bits() / 8
    }

    /// Bits of the composite modulus `n = n1·n2`.
    pub fn composite_bits(self) -> usize {
        2 * self.bits()
    }

    /// Bytes of the composite modulus (and of a signature).
    pub fn composite_bytes(self) -> usize {
        self.composite_bits() / 8
    }

    /// Bytes of the device's PIN-protected exponent share (L = |n1| + 128 bits).
    pub fn device_share_bytes(self) -> usize {
        (self.bits() + SHARE_MASK_EXTRA_BITS) / 8
    }

    /// The half size whose composite modulus has `bits` bits, if any.
    pub fn for_composite_bits(bits: usize) -> Result<Self, Error> {
        Self::from_bits(bits / 2).and_then(|half| {
            if half.composite_bits() == bits {
                Ok(half)
            } else {
                Err(Error::InvalidInput(
                    "composite modulus has an unsupported size",
                ))
            }
        })
    }
}

/// Argon2id cost of turning a PIN into the pad that seals the device share.
///
/// The cost only slows down an attacker who holds *both* the device blob and the server share;
/// without the server share no PIN guess can be tested at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KdfParams {
    /// Memory in KiB.
    pub memory_kib: u32,
    /// Passes over memory.
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
}

impl KdfParams {
    /// 64 MiB, 3 passes, 1 lane (docs/spec/splitkey.md §7.2).
    pub const RECOMMENDED: KdfParams = KdfParams {
        memory_kib: 64 * 1024,
        iterations: 3,
        parallelism: 1,
    };

    /// A cheap setting for tests and demonstrations that open the share many times.
    /// Never use it for real keys.
    pub const INSECURE_FAST: KdfParams = KdfParams {
        memory_kib: 64,
        iterations: 1,
        parallelism: 1,
    };

    pub(crate) fn to_argon2(self, output_len: usize) -> Result<argon2::Params, Error> {
        argon2::Params::new(
            self.memory_kib,
            self.iterations,
            self.parallelism,
            Some(output_len),
        )
        .map_err(|_| Error::InvalidInput("Argon2id parameters out of range"))
    }
}

impl Default for KdfParams {
    fn default() -> Self {
        Self::RECOMMENDED
    }
}
