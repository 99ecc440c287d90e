//! The device store: `vault.json` in the app's home directory.
//!
//! It keeps, per account, only what the design allows: the PIN-sealed device shares (no PIN,
//! no checksum), the device moduli, the channel's MAC key and ratchet token, the server's
//! pinned channel key, the ratcheted request in flight (its secrets sealed to the server), and
//! the certificates. It is replaced atomically (write, fsync, rename), so a crash leaves the old or
//! the new state, never a torn file; it is readable by its owner only.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use splitid_proto::app_v1::ServerKey;
use splitkey::{DeviceShare, HalfSize, KdfParams};

use crate::AppError;

const VAULT_FILE: &str = "vault.json";

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

/// The vault file in a home directory.
pub struct VaultFile {
    path: PathBuf,
}

impl VaultFile {
    pub fn new(home: &Path) -> Self {
        VaultFile {
            path: home.join(VAULT_FILE),
        }
    }

    /// Takes the device store's exclusive lock (released when the returned file is dropped).
    /// Everything that reads, changes and writes the vault — above all a ratcheted request,
    /// whose token must move on exactly once — holds it, so two `splitid app` processes on one
    /// home never race (a race would look to the server like a cloned app).
    pub fn lock(&self) -> Result<fs::File, AppError> {
        let io = |e: std::io::Error| AppError::Vault(format!("{}: {e}", self.path.display()));
        let directory = self.path.parent().unwrap_or(Path::new("."));
        fs::create_dir_all(directory).map_err(io)?;
        let file = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(self.path.with_extension("lock"))
            .map_err(io)?;
        file.lock().map_err(io)?;
        Ok(file)
    }

    pub fn load(&self) -> Result<Vault, AppError> {
        match fs::read_to_string(&self.path) {
            Ok(text) => serde_json::from_str(&text)
                .map_err(|e| AppError::Vault(format!("{}: {e}", self.path.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vault::default()),
            Err(e) => Err(AppError::Vault(format!("{}: {e}", self.path.display()))),
        }
    }

    /// Replaces the vault atomically and durably.
    pub fn save(&self, vault: &Vault) -> Result<(), AppError> {
        let io = |e: std::io::Error| AppError::Vault(format!("{}: {e}", self.path.display()));
        let directory = self.path.parent().unwrap_or(Path::new("."));
        fs::create_dir_all(directory).map_err(io)?;
        let temporary = self.path.with_extension("json.tmp");
        let mut options = fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(&temporary).map_err(io)?;
        let text = serde_json::to_vec_pretty(vault).map_err(|e| AppError::Vault(e.to_string()))?;
        file.write_all(&text).map_err(io)?;
        file.sync_all().map_err(io)?;
        fs::rename(&temporary, &self.path).map_err(io)?;
        fs::File::open(directory)
            .and_then(|d| d.sync_all())
            .map_err(io)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;

    /// A second holder of the vault lock waits until the first lets go: two app processes on
    /// one home directory take turns with their ratcheted requests.
    #[test]
    fn the_vault_lock_is_exclusive() {
        let home = std::env::temp_dir().join(format!("splitid-vault-{}", uuid::Uuid::new_v4()));
        let vault = VaultFile::new(&home);
        let held = vault.lock().unwrap();
        let waiter = {
            let home = home.clone();
            std::thread::spawn(move || {
                let started = Instant::now();
                let _second = VaultFile::new(&home).lock().unwrap();
                started.elapsed()
            })
        };
        std::thread::sleep(Duration::from_millis(300));
        drop(held);
        let waited = waiter.join().unwrap();
        assert!(
            waited >= Duration::from_millis(250),
            "the second lock did not wait: {waited:?}"
        );
        fs::remove_dir_all(&home).unwrap();
    }

    #[test]
    fn the_vault_round_trips_and_is_private() {
        let home = std::env::temp_dir().join(format!("splitid-vault-{}", uuid::Uuid::new_v4()));
        let file = VaultFile::new(&home);
        assert_eq!(
            file.load().unwrap(),
            Vault::default(),
            "no file yet: an empty vault"
        );
        let mut vault = Vault::default();
        vault.accounts.push(StoredAccount {
            server: "http://127.0.0.1:1".into(),
            account_id: "id".into(),
            document_number: "PNOEE-30303039914-ABCD-Q".into(),
            mac_key: "a2V5".into(),
            ratchet_token: "dG9rZW4=".into(),
            authentication: share(),
            signing: share(),
            authentication_certificate: String::new(),
            signing_certificate: String::new(),
            expires_at: "2029-11-25T00:00:00Z".into(),
            server_key: None,
            in_flight: None,
            sealed_registration: true,
        });
        file.save(&vault).unwrap();
        assert_eq!(file.load().unwrap(), vault);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(home.join(VAULT_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let text = fs::read_to_string(home.join(VAULT_FILE)).unwrap();
        assert!(
            !text.to_lowercase().contains("pin\""),
            "nothing named PIN is stored"
        );
        fs::remove_dir_all(&home).unwrap();
    }

    fn share() -> StoredShare {
        StoredShare {
            half_bits: 2048,
            modulus: String::new(),
            salt: String::new(),
            context: String::new(),
            kdf_memory_kib: 64,
            kdf_iterations: 1,
            kdf_parallelism: 1,
            sealed: String::new(),
            composite_modulus: String::new(),
        }
    }
}
