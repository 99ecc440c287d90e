//! The desktop's ports (feature `desktop`): the vault as a file, HTTP with reqwest on tokio,
//! the system clock. What `splitid app` and the load tool run on.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::AppError;
use crate::ports::{Clock, Method, Request, Response, Storage, StreamedResponse, Transport};
use crate::vault::Vault;

const VAULT_FILE: &str = "vault.json";

/// The vault as `vault.json` in a home directory.
pub type FileVault = VaultFile;

impl Storage for FileVault {
    type Lock = std::fs::File;

    async fn lock(&self) -> Result<Self::Lock, AppError> {
        FileVault::lock(self)
    }

    async fn load(&self) -> Result<Vault, AppError> {
        FileVault::load(self)
    }

    async fn save(&self, vault: &Vault) -> Result<(), AppError> {
        FileVault::save(self, vault)
    }
}

/// HTTP with reqwest (on tokio).
#[derive(Debug, Clone, Default)]
pub struct HttpTransport {
    http: reqwest::Client,
}

impl HttpTransport {
    /// HTTP that also trusts the CA certificates in `pem` (a private CA of the operator's, or
    /// a test's), beside the system's.
    pub fn trusting(pem: &[u8]) -> Result<Self, AppError> {
        let certificates = reqwest::Certificate::from_pem_bundle(pem)
            .map_err(|e| AppError::Usage(format!("the extra CA certificates: {e}")))?;
        let mut builder = reqwest::Client::builder();
        for certificate in certificates {
            builder = builder.add_root_certificate(certificate);
        }
        let http = builder
            .build()
            .map_err(|e| AppError::Usage(format!("the extra CA certificates: {e}")))?;
        Ok(HttpTransport { http })
    }

    /// The reqwest request; one that cannot be built (a header value that is not one) is the
    /// app's fault, not the network's.
    fn request(&self, request: Request) -> Result<reqwest::Request, AppError> {
        let method = match request.method {
            Method::Get => reqwest::Method::GET,
            Method::Post => reqwest::Method::POST,
            Method::Put => reqwest::Method::PUT,
            Method::Delete => reqwest::Method::DELETE,
        };
        let mut builder = self.http.request(method, request.url);
        for (name, value) in request.headers {
            builder = builder.header(name, value);
        }
        if !request.body.is_empty() {
            builder = builder
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(request.body);
        }
        builder
            .build()
            .map_err(|e| AppError::Protocol(e.to_string()))
    }
}

impl HttpTransport {
    /// Sends the request; its answer's status and headers have arrived.
    async fn execute(&self, request: Request) -> Result<reqwest::Response, AppError> {
        let request = self.request(request)?;
        self.http.execute(request).await.map_err(network)
    }
}

fn network(error: reqwest::Error) -> AppError {
    AppError::Network(error.to_string())
}

impl Transport for HttpTransport {
    async fn send(&self, request: Request) -> Result<Response, AppError> {
        let response = self.execute(request).await?;
        let status = response.status().as_u16();
        let body = response.bytes().await.map_err(network)?.to_vec();
        Ok(Response { status, body })
    }

    async fn stream(&self, request: Request) -> Result<StreamedResponse, AppError> {
        let response = self.execute(request).await?;
        let status = response.status().as_u16();
        let body = futures_util::stream::unfold(response, |mut response| async move {
            match response.chunk().await {
                Ok(Some(chunk)) => Some((Ok(chunk.to_vec()), response)),
                Ok(None) => None,
                Err(error) => Some((Err(network(error)), response)),
            }
        });
        Ok(StreamedResponse {
            status,
            body: Box::pin(body),
        })
    }
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn unix_seconds(&self) -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs()
    }

    async fn pause(&self, duration: Duration) {
        tokio::time::sleep(duration).await;
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
    use crate::vault::{StoredAccount, StoredShare};

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
