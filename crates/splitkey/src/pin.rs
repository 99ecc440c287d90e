//! PINs and the sealing of the device share.
//!
//! The device share `d1ᴬ` is stored as `c = d1ᴬ ⊕ Argon2id(PIN, salt ‖ context)`, with no tag,
//! checksum or other redundancy: every PIN opens `c` to an equally plausible value, so a
//! stolen device gives no offline way to test a PIN. Only the server can tell a wrong PIN.

use std::fmt;

use argon2::{Algorithm, Argon2, Version};
use zeroize::{Zeroize, Zeroizing};

use crate::{Error, KdfParams};

/// Fewest digits any PIN may have (PIN1); the caller may require more (5 for PIN2).
pub const MIN_PIN_DIGITS: usize = 4;
/// Most digits a PIN may have.
pub const MAX_PIN_DIGITS: usize = 12;

/// A PIN: 4 to 12 decimal digits. Wiped from memory on drop; never printed.
#[derive(Clone)]
pub struct Pin(Zeroizing<String>);

impl Pin {
    /// Accepts a PIN of 4 to 12 ASCII digits.
    pub fn new(digits: &str) -> Result<Self, Error> {
        if !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Error::InvalidPin("a PIN consists of digits only"));
        }
        if digits.len() < MIN_PIN_DIGITS {
            return Err(Error::InvalidPin("a PIN has at least 4 digits"));
        }
        if digits.len() > MAX_PIN_DIGITS {
            return Err(Error::InvalidPin("a PIN has at most 12 digits"));
        }
        Ok(Pin(Zeroizing::new(digits.to_owned())))
    }

    /// Number of digits.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Always false: a PIN has at least 4 digits.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl fmt::Debug for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pin(<redacted>)")
    }
}

/// The Argon2id pad for a PIN, as long as the device share.
fn pin_pad(
    pin: &Pin,
    salt: &[u8],
    context: &[u8],
    kdf: KdfParams,
    len: usize,
) -> Result<Zeroizing<Vec<u8>>, Error> {
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, kdf.to_argon2(len)?);
    let mut salted = Vec::with_capacity(salt.len() + context.len());
    salted.extend_from_slice(salt);
    salted.extend_from_slice(context);
    let mut pad = Zeroizing::new(vec![0u8; len]);
    argon
        .hash_password_into(pin.as_bytes(), &salted, &mut pad)
        .map_err(|_| Error::InvalidInput("Argon2id rejected its inputs"))?;
    Ok(pad)
}

/// `share ⊕ pad(PIN)`: used both to seal and to open, since XOR is its own inverse.
pub(crate) fn xor_with_pin_pad(
    data: &[u8],
    pin: &Pin,
    salt: &[u8],
    context: &[u8],
    kdf: KdfParams,
) -> Result<Zeroizing<Vec<u8>>, Error> {
    let mut out = pin_pad(pin, salt, context, kdf, data.len())?;
    out.iter_mut().zip(data).for_each(|(o, d)| *o ^= d);
    Ok(out)
}

impl Zeroize for Pin {
    fn zeroize(&mut self) {
        self.0.zeroize();
    }
}
