//! Protection of the server's key shares at rest.
//!
//! Every secret the server stores (each account's exponent share d1ˢ and its own RSA key) is
//! sealed with AES-256-GCM under a key-encryption key (KEK) before it reaches the database,
//! with associated data that binds the blob to its account and purpose, so blobs cannot be
//! swapped between rows. The file backend keeps the KEK in the data directory (mode 0600);
//! an HSM backend (PKCS#11) takes its place in a later step.

use std::fs;
use std::io::Write;
use std::path::Path;

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use thiserror::Error;
use zeroize::Zeroizing;

const KEK_FILE: &str = "kek.key";
const KEK_LEN: usize = 32;

#[derive(Debug, Error)]
pub enum KeyStoreError {
    #[error("key store file {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("the key-encryption key file is damaged (expected {KEK_LEN} bytes)")]
    DamagedKek,
    #[error("a sealed secret failed its integrity check (wrong KEK, or tampered or swapped data)")]
    Integrity,
    #[error("the system random number generator failed")]
    Random,
}

/// Seals and opens the server's secrets under the key-encryption key.
pub struct KeyStore {
    key: LessSafeKey,
    random: SystemRandom,
}

impl KeyStore {
    /// Opens the KEK in `data_dir`, creating it on first start.
    pub fn open_or_create(data_dir: &Path) -> Result<Self, KeyStoreError> {
        let path = data_dir.join(KEK_FILE);
        let io = |source| KeyStoreError::Io {
            path: path.display().to_string(),
            source,
        };
        let random = SystemRandom::new();
        let kek = if path.exists() {
            Zeroizing::new(fs::read(&path).map_err(io)?)
        } else {
            let mut kek = Zeroizing::new(vec![0u8; KEK_LEN]);
            random.fill(&mut kek).map_err(|_| KeyStoreError::Random)?;
            write_private_file(&path, &kek).map_err(io)?;
            kek
        };
        Self::from_key(&kek)
    }

    /// A key store with a KEK given directly (tests).
    pub fn from_key(kek: &[u8]) -> Result<Self, KeyStoreError> {
        if kek.len() != KEK_LEN {
            return Err(KeyStoreError::DamagedKek);
        }
        let key = UnboundKey::new(&AES_256_GCM, kek).map_err(|_| KeyStoreError::DamagedKek)?;
        Ok(KeyStore {
            key: LessSafeKey::new(key),
            random: SystemRandom::new(),
        })
    }

    /// `nonce ‖ AES-256-GCM(secret, aad = context)`.
    pub fn seal(&self, secret: &[u8], context: &str) -> Result<Vec<u8>, KeyStoreError> {
        let mut nonce = [0u8; NONCE_LEN];
        self.random
            .fill(&mut nonce)
            .map_err(|_| KeyStoreError::Random)?;
        let mut sealed = Zeroizing::new(secret.to_vec());
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(context.as_bytes()),
                &mut *sealed,
            )
            .map_err(|_| KeyStoreError::Integrity)?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// Opens what [`seal`](Self::seal) made with the same context.
    pub fn open(&self, sealed: &[u8], context: &str) -> Result<Zeroizing<Vec<u8>>, KeyStoreError> {
        if sealed.len() < NONCE_LEN {
            return Err(KeyStoreError::Integrity);
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
        let nonce =
            Nonce::try_assume_unique_for_key(nonce).map_err(|_| KeyStoreError::Integrity)?;
        let mut buffer = Zeroizing::new(ciphertext.to_vec());
        let plain_len = self
            .key
            .open_in_place(nonce, Aad::from(context.as_bytes()), &mut buffer)
            .map_err(|_| KeyStoreError::Integrity)?
            .len();
        buffer.truncate(plain_len);
        Ok(buffer)
    }

    /// Fills `out` with random bytes from the system generator.
    pub fn random(&self, out: &mut [u8]) -> Result<(), KeyStoreError> {
        self.random.fill(out).map_err(|_| KeyStoreError::Random)
    }
}

/// Writes a file readable only by its owner, durably (fsync) before it is used.
fn write_private_file(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(contents)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_secrets_open_only_in_their_context() {
        let store = KeyStore::from_key(&[9u8; 32]).unwrap();
        let sealed = store.seal(b"d1s share", "account 1/auth/d1s").unwrap();
        assert_eq!(
            &*store.open(&sealed, "account 1/auth/d1s").unwrap(),
            b"d1s share"
        );
        assert!(matches!(
            store.open(&sealed, "account 2/auth/d1s"),
            Err(KeyStoreError::Integrity)
        ));
        let mut tampered = sealed.clone();
        tampered[20] ^= 1;
        assert!(store.open(&tampered, "account 1/auth/d1s").is_err());
        assert!(store.open(&sealed[..5], "account 1/auth/d1s").is_err());
        let other = KeyStore::from_key(&[8u8; 32]).unwrap();
        assert!(other.open(&sealed, "account 1/auth/d1s").is_err());
    }

    #[test]
    fn the_kek_is_created_once_and_reused() {
        let dir = std::env::temp_dir().join(format!("splitid-kek-{}", uuid::Uuid::new_v4()));
        fs::create_dir_all(&dir).unwrap();
        let first = KeyStore::open_or_create(&dir).unwrap();
        let sealed = first.seal(b"secret", "ctx").unwrap();
        let second = KeyStore::open_or_create(&dir).unwrap();
        assert_eq!(&*second.open(&sealed, "ctx").unwrap(), b"secret");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(dir.join(KEK_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        fs::remove_dir_all(&dir).unwrap();
    }
}
