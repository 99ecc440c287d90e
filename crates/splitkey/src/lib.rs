//! Two-party ("split-key") RSA signatures, after Buldas et al., *Server-Supported RSA
//! Signatures for Mobile Devices* (ESORICS 2017), as used by Smart-ID.
//!
//! Each key is split between a device and a server, and neither can sign alone:
//!
//! * The **device** holds its own RSA modulus n1 and a share d1ᴬ of its private exponent,
//!   sealed under the PIN with no redundancy ([`generate_device_key`], [`DeviceShare`]).
//! * The **server** holds the other share d1ˢ and its own RSA key (n2, d2)
//!   ([`ServerShare::establish`]). The public key is n = n1·n2 ([`CompositePublicKey`]).
//! * To sign, the device computes a [`PartialSignature`] from the PIN
//!   ([`DeviceShare::partial_sign`]); the server completes it, judges the PIN by a public-key
//!   check, adds its own half, and combines the two by CRT ([`ServerShare::complete`]).
//!   The result is an ordinary RSA signature (PKCS#1 v1.5 or PSS) over the hash.
//!
//! This crate has no I/O and no knowledge of accounts: counting wrong PINs, storing shares and
//! moving messages are the caller's job.
//!
//! ```
//! use splitkey::*;
//! # fn main() -> Result<(), Error> {
//! let pin = Pin::new("1234")?;
//! let options = DeviceKeyOptions { half: HalfSize::Bits2048, kdf: KdfParams::INSECURE_FAST, ..Default::default() };
//! let (device, handover) = generate_device_key(&pin, b"example auth key", options)?;
//! let server = ServerShare::establish(&handover)?;
//!
//! let digest = HashAlgorithm::Sha256.digest(b"log me in");
//! let request = SignRequest::new(HalfSize::Bits2048, HashAlgorithm::Sha256, Padding::Pkcs1v15, &digest)?;
//! let partial = device.partial_sign(&pin, &request)?;
//! let signature = server.complete(&request, &partial)?;
//! server.public_key().verify(&request, &signature)?;
//!
//! let wrong = device.partial_sign(&Pin::new("9999")?, &request)?;
//! assert_eq!(server.complete(&request, &wrong), Err(Error::WrongPin));
//! # Ok(()) }
//! ```

mod arith;
mod device;
mod encoding;
mod error;
mod params;
mod pin;
mod pop;
mod public;
mod screen;
mod server;

pub use arith::BACKEND;
pub use device::{
    DeviceKeyOptions, DeviceShare, PartialSignature, SALT_LEN, ServerShareHandover,
    generate_device_key,
};
pub use encoding::{HashAlgorithm, Padding, SignRequest};
pub use error::{Error, ModulusRejection};
pub use params::{HalfSize, KdfParams, PUBLIC_EXPONENT, SHARE_MASK_EXTRA_BITS};
pub use pin::{MAX_PIN_DIGITS, MIN_PIN_DIGITS, Pin};
pub use pop::{proof_of_possession_request, prove_possession, verify_proof_of_possession};
pub use public::{CompositePublicKey, Signature};
pub use server::ServerShare;
