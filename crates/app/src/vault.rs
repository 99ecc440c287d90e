//! The device store: one small document, read and replaced whole (on the desktop
//! `vault.json` in the app's home directory, see `desktop`; in the browser a record in
//! IndexedDB).
//!
//! It keeps, per account, only what the design allows: the PIN-sealed device shares (no PIN,
//! no checksum), the device moduli, the channel's MAC key and ratchet token, the server's
//! pinned channel key, the ratcheted request in flight (its secrets sealed to the server), and
//! the certificates. Every store replaces it atomically, so a crash leaves the old or the new
//! state, never a torn one.

use serde::{Deserialize, Serialize};
use splitid_proto::app_v1::ServerKey;
use splitkey::{DeviceShare, HalfSize, KdfParams};

use crate::AppError;

/// A device share as stored (all public or sealed values).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredShare {
    pub half_bits: usize,
    pub modulus: String,
    pub salt: String,
    pub context: String,
    pub kdf_memory_kib: u32,
    pub kdf_iterations: u32,
    pub kdf_parallelism: u32,
    pub sealed: String,
    /// The composite public modulus n = n1·n2, to check the server's signatures.
    #[serde(default)]
    pub composite_modulus: String,
}

/// One account on this device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredAccount {
    pub server: String,
    pub account_id: String,
    pub document_number: String,
    pub mac_key: String,
    pub ratchet_token: String,
    pub authentication: StoredShare,
    pub signing: StoredShare,
    pub authentication_certificate: String,
    pub signing_certificate: String,
    pub expires_at: String,
    /// The server's channel key this app seals its secrets to: pinned at registration, moved
    /// on only through rotations it signed. Absent in vaults of older apps (pinned at the
    /// first use then).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_key: Option<ServerKey>,
    /// A ratcheted request sent but not yet answered, kept so that it is sent again byte for
    /// byte (after a lost answer, or a restart) before any other: the server answers it from
    /// its record if it carried it out, so a lost answer never looks like a cloned app.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_flight: Option<InFlightRequest>,
    /// Whether this account was registered with its secrets sealed (d1ˢ and the MAC key never
    /// in clear). False for accounts older apps registered: a recording of that registration
    /// still tests their PINs, so the person is asked to register again.
    #[serde(default)]
    pub sealed_registration: bool,
}

impl StoredAccount {
    /// What the person should know about an account registered before sealing, if it was.
    pub fn registration_warning(&self) -> Option<&'static str> {
        (!self.sealed_registration).then_some(
            "registered before sealing: register this device again (then delete this account), \
             as a recording of that registration could test its PINs",
        )
    }
}

/// A ratcheted request exactly as it was sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InFlightRequest {
    /// `POST` or `DELETE`.
    pub method: String,
    pub url: String,
    /// The app channel's headers (account, timestamp, nonce, ratchet, MAC).
    pub headers: Vec<(String, String)>,
    /// The JSON body (its secrets sealed to the server).
    pub body: String,
}

/// Everything the device keeps.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vault {
    pub accounts: Vec<StoredAccount>,
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn unb64(text: &str) -> Result<Vec<u8>, AppError> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|_| AppError::Vault("a stored value is not base64".into()))
}

impl StoredShare {
    pub fn from_share(share: &DeviceShare) -> Self {
        let kdf = share.kdf();
        StoredShare {
            half_bits: share.half_size().bits(),
            modulus: b64(share.modulus()),
            salt: b64(&share.salt()),
            context: b64(share.context()),
            kdf_memory_kib: kdf.memory_kib,
            kdf_iterations: kdf.iterations,
            kdf_parallelism: kdf.parallelism,
            sealed: b64(share.sealed()),
            composite_modulus: String::new(),
        }
    }

    /// The same, with the composite modulus the server formed.
    pub fn with_composite(self, composite_modulus: &str) -> Self {
        StoredShare {
            composite_modulus: composite_modulus.to_owned(),
            ..self
        }
    }

    pub fn to_share(&self) -> Result<DeviceShare, AppError> {
        let half =
            HalfSize::from_bits(self.half_bits).map_err(|e| AppError::Vault(e.to_string()))?;
        let salt = unb64(&self.salt)?
            .try_into()
            .map_err(|_| AppError::Vault("salt has the wrong length".into()))?;
        let kdf = KdfParams {
            memory_kib: self.kdf_memory_kib,
            iterations: self.kdf_iterations,
            parallelism: self.kdf_parallelism,
        };
        DeviceShare::from_parts(
            half,
            &unb64(&self.modulus)?,
            salt,
            &unb64(&self.context)?,
            kdf,
            &unb64(&self.sealed)?,
        )
        .map_err(|e| AppError::Vault(e.to_string()))
    }
}
