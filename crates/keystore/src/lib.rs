//! Protection of the server's secrets at rest, and where the CA's keys live.
//!
//! Every secret the server stores (each account's exponent share d1ˢ and its own RSA key, the
//! channel MAC keys, the OCSP responder's key) is sealed with AES-256-GCM under a
//! key-encryption key (KEK) before it reaches the database or a file, with associated data that
//! binds the blob to its account and purpose, so blobs cannot be swapped between rows. A sealed
//! blob is `nonce (12) ‖ ciphertext ‖ tag (16)` whichever backend made it.
//!
//! Two backends ([`KeyStoreConfig`]):
//! - **file** (the default, `file.rs`): the KEK is a file in the data directory (mode 0600) and
//!   sealing happens in this process;
//! - **PKCS#11** (`pkcs11.rs`, through `cryptoki`): the KEK is a non-extractable, sensitive
//!   AES-256 key in an HSM token, and sealing is CKM_AES_GCM inside the token, so the KEK never
//!   exists in this process. The CA's root and issuing keys are then token keys too (see
//!   [`Token`] and `pki.rs`): every CA signature is made by the token.
//!
//! Random numbers (nonces, challenges, tokens) always come from the operating system: they are
//! needed on every request and an HSM round trip would buy nothing.

mod file;
mod pkcs11;

use std::path::Path;
use std::sync::Arc;

use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use thiserror::Error;
use zeroize::Zeroizing;

pub use file::FileKeyStore;
pub use pkcs11::{KeyObjectInfo, Pkcs11Config, Token, TokenCaKey, TokenKeyRef};

#[derive(Debug, Error)]
pub enum KeyStoreError {
    #[error("key store file {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("the key-encryption key file is damaged (expected 32 bytes)")]
    DamagedKek,
    #[error(
        "{path} is missing, but this data directory already has a CA ({sealed}): its secrets were sealed by another key store (a PKCS#11 token? see [keystore] in the configuration) or the key-encryption key was lost"
    )]
    MissingKek { path: String, sealed: String },
    #[error(
        "{path} can be read by other users (mode {mode:o}): only the service's own user may read the key-encryption key; run chmod 600 on it"
    )]
    ExposedKek { path: String, mode: u32 },
    #[error("a sealed secret failed its integrity check (wrong KEK, or tampered or swapped data)")]
    Integrity,
    #[error("the system random number generator failed")]
    Random,
    /// A PKCS#11 module or token failed or is misconfigured; the message names the module
    /// and the token (never the PIN).
    #[error("PKCS#11 module {module}, token {token:?}: {problem}")]
    Token {
        module: String,
        token: String,
        problem: String,
    },
}

/// Which key store the service uses.
#[derive(Debug, Clone, Default)]
pub enum KeyStoreConfig {
    /// The KEK in `kek.key` in the data directory; CA keys sealed in `ca.json`.
    #[default]
    File,
    /// The KEK and the CA keys in a PKCS#11 token.
    Pkcs11(Pkcs11Config),
}

/// Seals and opens the server's secrets under the key-encryption key.
pub enum KeyStore {
    File(FileKeyStore),
    Pkcs11(Arc<Token>),
}

impl KeyStore {
    /// Opens the configured key store for `data_dir`, creating its KEK on first start (a file
    /// in the data directory, or a key generated inside the token). `sealed_data` names the
    /// data directory's file of secrets already sealed under a KEK (the CA), if there is one:
    /// the file backend then refuses to make a new KEK, which would only turn those secrets
    /// into integrity failures later.
    pub fn from_config(
        config: &KeyStoreConfig,
        data_dir: &Path,
        sealed_data: Option<&Path>,
    ) -> Result<Self, KeyStoreError> {
        match config {
            KeyStoreConfig::File => Ok(KeyStore::File(FileKeyStore::open_or_create(
                data_dir,
                sealed_data,
            )?)),
            KeyStoreConfig::Pkcs11(config) => Ok(KeyStore::Pkcs11(Token::open(config)?)),
        }
    }

    /// A file-backend key store with a KEK given directly (tests).
    pub fn from_key(kek: &[u8]) -> Result<Self, KeyStoreError> {
        Ok(KeyStore::File(FileKeyStore::from_key(kek)?))
    }

    /// `nonce ‖ AES-256-GCM(secret, aad = context)`.
    pub fn seal(&self, secret: &[u8], context: &str) -> Result<Vec<u8>, KeyStoreError> {
        match self {
            KeyStore::File(store) => store.seal(secret, context),
            KeyStore::Pkcs11(token) => token.seal(secret, context),
        }
    }

    /// Opens what [`seal`](Self::seal) made with the same context.
    pub fn open(&self, sealed: &[u8], context: &str) -> Result<Zeroizing<Vec<u8>>, KeyStoreError> {
        match self {
            KeyStore::File(store) => store.open(sealed, context),
            KeyStore::Pkcs11(token) => token.open_sealed(sealed, context),
        }
    }

    /// Fills `out` with random bytes from the operating system's generator.
    pub fn random(&self, out: &mut [u8]) -> Result<(), KeyStoreError> {
        random(out)
    }

    /// The PKCS#11 token, when the keys are in one (the CA keys are then made and used there).
    pub fn token(&self) -> Option<&Arc<Token>> {
        match self {
            KeyStore::File(_) => None,
            KeyStore::Pkcs11(token) => Some(token),
        }
    }
}

/// Random bytes from the operating system.
pub(crate) fn random(out: &mut [u8]) -> Result<(), KeyStoreError> {
    SystemRandom::new()
        .fill(out)
        .map_err(|_| KeyStoreError::Random)
}
