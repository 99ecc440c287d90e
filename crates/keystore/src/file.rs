//! The file backend: the KEK is 32 random bytes in `kek.key` in the data directory (mode 0600),
//! and sealing is AES-256-GCM in this process (AWS-LC).

use std::fs;
use std::io::Write;
use std::path::Path;

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use zeroize::Zeroizing;

use super::KeyStoreError;

pub(super) const KEK_FILE: &str = "kek.key";
const KEK_LEN: usize = 32;

/// Seals and opens the server's secrets under a KEK held in this process.
pub struct FileKeyStore {
    key: LessSafeKey,
    random: SystemRandom,
}

impl FileKeyStore {
    /// Opens the KEK in `data_dir`, creating it on first start. A data directory that already
    /// has a CA but no KEK file is refused rather than given a new KEK: what it holds was sealed
    /// by another key store (a PKCS#11 token) or the file was lost, and a new KEK would only
    /// turn that into integrity failures later.
    /// `sealed_data` is a file of the data directory that already holds secrets sealed under a
    /// KEK (the CA), if there is one.
    pub fn open_or_create(
        data_dir: &Path,
        sealed_data: Option<&Path>,
    ) -> Result<Self, KeyStoreError> {
        let path = data_dir.join(KEK_FILE);
        let io = |source| KeyStoreError::Io {
            path: path.display().to_string(),
            source,
        };
        let random = SystemRandom::new();
        let kek = if path.exists() {
            refuse_if_exposed(&path)?;
            Zeroizing::new(fs::read(&path).map_err(io)?)
        } else if let Some(sealed) = sealed_data {
            return Err(KeyStoreError::MissingKek {
                path: path.display().to_string(),
                sealed: sealed.display().to_string(),
            });
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
        Ok(FileKeyStore {
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
}

/// Refuses a key-encryption key file that the group or others may read or write: whoever can
/// read it opens every sealed secret of the service.
fn refuse_if_exposed(path: &Path) -> Result<(), KeyStoreError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(path)
            .map_err(|source| KeyStoreError::Io {
                path: path.display().to_string(),
                source,
            })?
            .permissions()
            .mode()
            & 0o777;
        if mode & 0o077 != 0 {
            return Err(KeyStoreError::ExposedKek {
                path: path.display().to_string(),
                mode,
            });
        }
    }
    Ok(())
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
        let store = FileKeyStore::from_key(&[9u8; 32]).unwrap();
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
        let other = FileKeyStore::from_key(&[8u8; 32]).unwrap();
        assert!(other.open(&sealed, "account 1/auth/d1s").is_err());
    }

    #[test]
    fn the_kek_is_created_once_and_reused() {
        let temporary = tempfile::tempdir().unwrap();
        let dir = temporary.path();
        let first = FileKeyStore::open_or_create(dir, None).unwrap();
        let sealed = first.seal(b"secret", "ctx").unwrap();
        let second = FileKeyStore::open_or_create(dir, None).unwrap();
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
    }

    #[test]
    fn a_data_directory_with_a_ca_but_no_kek_gets_no_new_kek() {
        let dir = tempfile::tempdir().unwrap();
        let ca = dir.path().join("ca.json");
        fs::write(&ca, "{}").unwrap();
        assert!(matches!(
            FileKeyStore::open_or_create(dir.path(), Some(&ca)),
            Err(KeyStoreError::MissingKek { .. })
        ));
        assert!(!dir.path().join(KEK_FILE).exists());
    }
}
