//! The SplitID service's domain: what happens, in no API's words and with no HTTP or SQL.
//!
//! The flow a reader can follow by module: a relying party's request (translated by the
//! transport crate, `splitid-http`) → [`sessions`] starts a session and wakes the person's
//! devices → the app's requests pass the [`app_channel`] (MAC, freshness, the ratchet against
//! cloned apps) → [`accounts`] judges the PIN through the split-key protocol (with
//! [`keystore`] holding the server's shares) → [`sessions`] completes and wakes the relying
//! party's long poll. [`registration`] opens accounts on evidence that [`proofing`] accepts
//! (its checks are `splitid-evidence`); [`ca`] certifies them; [`admin`] is the operators'.
//! [`store`] (its own crate) is the only one with SQL; every failure is a
//! [`error::ServiceError`], which each API renders its own way.

pub mod accounts;
pub mod admin;
pub mod app_channel;
pub mod ca;
pub mod channel_keys;
pub mod clock;
pub mod closing;
pub mod error;
pub mod faults;
pub mod model;
pub mod proofing;
pub mod push;
pub mod registration;
pub mod relying_parties;
pub mod sessions;
pub mod transactions;

/// The key store, from its own crate.
pub use splitid_keystore as keystore;
/// Storage, from its own crate (the only one with SQL).
pub use splitid_store as store;

use std::path::PathBuf;
use std::sync::Arc;

use time::Duration;

use crate::ca::Ca;
use crate::clock::Clock;
use crate::error::{ServiceError, ServiceResult};
use crate::keystore::KeyStore;
use crate::sessions::Waiters;
use crate::store::Store;

/// The demo relying party's UUIDs: the one current documentation uses, and the older one
/// that v2-era client examples use.
pub const DEMO_RELYING_PARTY_UUIDS: [&str; 2] = [
    "00000000-0000-4000-8000-000000000000",
    "00000000-0000-0000-0000-000000000000",
];
/// The demo relying party's name.
pub const DEMO_RELYING_PARTY_NAME: &str = "DEMO";
/// The Demo Bank's relying-party UUID and name (registered in demo mode; the bank itself, an
/// e-service on the SDK, is the binary's).
pub const DEMO_BANK_UUID: &str = "00000000-0000-4000-8000-00000000ba2c";
pub const DEMO_BANK_NAME: &str = "Demo Bank";

/// How the service is set up.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where the key-encryption key, the CA and (by default) the SQLite database live.
    pub data_dir: PathBuf,
    /// The database: SQLite in the data directory, or PostgreSQL shared by many nodes.
    pub database: store::DatabaseConfig,
    /// The URL relying parties and apps reach this service at (written into certificates).
    pub public_url: String,
    /// Demo mode: the demo relying party and self-asserted (test) identities.
    pub demo: bool,
    /// How long a person has to answer a session.
    pub session_timeout: Duration,
    /// How long a completed session stays readable.
    pub completed_session_ttl: Duration,
    /// Whether keys with 2048-bit halves are accepted (otherwise only 3072).
    pub allow_2048_bit_halves: bool,
    /// The identity proofing methods the operator enabled (demo proofing follows `demo`).
    pub proofing: proofing::ProofingConfig,
    /// Where the key-encryption key and the CA keys are: files in the data directory (the
    /// default) or a PKCS#11 token.
    pub keystore: keystore::KeyStoreConfig,
    /// Load balancers and proxies in front of the nodes: from these peers the client's address
    /// is read from `X-Forwarded-For` (for relying parties' address ranges).
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Web Push: the push services allowed, the contact address.
    pub push: push::PushConfig,
    /// The scheme name RP API v3's authCodes and ACSP_V2 payloads carry; by default
    /// `smart-id-demo` in demo mode (so that a client set up for SK's demo works unchanged)
    /// and `smart-id` otherwise.
    pub scheme_name: Option<String>,
}

impl Config {
    pub fn new(data_dir: impl Into<PathBuf>, public_url: impl Into<String>) -> Self {
        let data_dir = data_dir.into();
        Config {
            database: store::DatabaseConfig::SqliteIn(data_dir.clone()),
            data_dir,
            public_url: public_url.into(),
            demo: false,
            session_timeout: Duration::seconds(90),
            completed_session_ttl: Duration::minutes(5),
            allow_2048_bit_halves: false,
            proofing: Default::default(),
            keystore: Default::default(),
            trusted_proxies: Vec::new(),
            push: Default::default(),
            scheme_name: None,
        }
    }

    /// [`scheme_name`](Self::scheme_name) or its default.
    pub fn scheme_name(&self) -> &str {
        match &self.scheme_name {
            Some(name) => name,
            None if self.demo => "smart-id-demo",
            None => "smart-id",
        }
    }
}

/// The running service: shared by every request handler.
#[derive(Clone)]
pub struct Service {
    inner: Arc<Inner>,
}

struct Inner {
    config: Config,
    store: Store,
    keys: KeyStore,
    ca: Ca,
    clock: Arc<dyn Clock>,
    waiters: Waiters,
    channel_keys: channel_keys::ChannelKeyCache,
    /// Set once the CA check has passed ([`Service::open`]): a node with another
    /// key-encryption key must not make the VAPID key the others cannot open.
    push: std::sync::OnceLock<splitid_push::PushSender>,
}

/// Creates the data directory (if missing) and keeps it to its owner: it holds the
/// key-encryption key, the CA's sealed keys and (on SQLite) the database.
fn create_private_dir(dir: &std::path::Path) -> ServiceResult<()> {
    let failed =
        |e: std::io::Error| ServiceError::internal(format!("cannot create {}: {e}", dir.display()));
    std::fs::create_dir_all(dir).map_err(failed)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(failed)?;
    }
    Ok(())
}

impl Service {
    /// Opens the service on its data directory, creating on first start everything it needs:
    /// the database, the key-encryption key and the CA.
    pub async fn open(config: Config, clock: Arc<dyn Clock>) -> ServiceResult<Self> {
        create_private_dir(&config.data_dir)?;
        let store = Store::open_configured(&config.database).await?;
        let ca_file = ca::ca_file(&config.data_dir);
        let keys = KeyStore::from_config(&config.keystore, &config.data_dir, ca_file.as_deref())?;
        let ca = Ca::open_or_create(&config, &keys, clock.now())?;
        let service = Service {
            inner: Arc::new(Inner {
                config,
                store,
                keys,
                ca,
                clock,
                waiters: Waiters::default(),
                channel_keys: Default::default(),
                push: Default::default(),
            }),
        };
        service.check_ca_belongs_to_database().await?;
        if service.config().demo {
            service.register_demo_relying_party().await?;
        }
        service.record_missing_serials().await?;
        service.ensure_channel_key().await?;
        service.open_push_sender().await?;
        service.seal_plain_channel_answers().await?;
        service.finish_interrupted_closures().await?;
        service.listen_to_other_nodes().await?;
        Ok(service)
    }

    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    pub(crate) fn keys(&self) -> &KeyStore {
        &self.inner.keys
    }

    /// The service's CA (its certificates, for e-services that trust it).
    pub fn ca(&self) -> &Ca {
        &self.inner.ca
    }

    pub(crate) fn inner_channel_keys(&self) -> &channel_keys::ChannelKeyCache {
        &self.inner.channel_keys
    }

    pub(crate) fn push_sender(&self) -> ServiceResult<&splitid_push::PushSender> {
        self.inner
            .push
            .get()
            .ok_or_else(|| ServiceError::internal("Web Push is not set up yet"))
    }

    async fn open_push_sender(&self) -> ServiceResult<()> {
        let sender =
            push::open_sender(self.store(), self.keys(), self.config(), self.now()).await?;
        // Only `open` sets it, once.
        let _ = self.inner.push.set(sender);
        Ok(())
    }

    pub fn waiters(&self) -> &Waiters {
        &self.inner.waiters
    }

    pub fn now(&self) -> time::OffsetDateTime {
        self.inner.clock.now()
    }

    /// The real time, for comparing with other machines' clocks (the freshness of an app's
    /// request). It differs from [`now`](Self::now) only under a test clock, which moves the
    /// service's own timers (PIN locks, session deadlines) but not the apps' clocks.
    pub fn wall_clock(&self) -> time::OffsetDateTime {
        time::OffsetDateTime::now_utc()
    }

    /// Runs the periodic housekeeping (timing out sessions nobody polls, renewing the OCSP
    /// responder certificate when due, forgetting the app channel's expired nonces) until the
    /// process ends.
    pub fn spawn_background_tasks(&self) {
        let service = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(24 * 3600));
            loop {
                tick.tick().await;
                if let Err(error) = service.ca().renew_ocsp_responder_if_due(service.keys()) {
                    tracing::error!(%error, "renewing the OCSP responder failed");
                }
            }
        });
        let service = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
            loop {
                tick.tick().await;
                if let Err(error) = service.expire_overdue_sessions().await {
                    tracing::error!(%error, "expiring overdue sessions failed");
                }
            }
        });
        let service = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
            loop {
                tick.tick().await;
                let now = service.wall_clock().unix_timestamp();
                if let Err(error) = service.store().forget_expired_nonces(now).await {
                    tracing::error!(%error, "forgetting the app channel's expired nonces failed");
                }
            }
        });
    }

    /// Every node on a database must issue under the same CA: the first one to start records
    /// its root's fingerprint, and a node whose data directory holds another CA (one that was
    /// not copied from the first node) refuses to start.
    async fn check_ca_belongs_to_database(&self) -> ServiceResult<()> {
        let root = self.ca().root_certificate_der();
        let fingerprint = hex::encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &root));
        match self.store().claim_ca_root(&fingerprint).await? {
            None => Ok(()),
            Some(recorded) => Err(ServiceError::internal(format!(
                "this data directory's CA (root SHA-256 {fingerprint}) is not the CA this database belongs to (root SHA-256 {recorded}): every node needs a copy of the first node's data directory (its ca.json and key-encryption key)"
            ))),
        }
    }

    async fn register_demo_relying_party(&self) -> ServiceResult<()> {
        for uuid in DEMO_RELYING_PARTY_UUIDS {
            let record = store::RelyingPartyRecord {
                uuid: uuid.parse().map_err(ServiceError::internal)?,
                names: vec![DEMO_RELYING_PARTY_NAME.to_owned()],
                // Like Smart-ID's demo: no access to ADVANCED accounts.
                allowed_levels: vec![store::Level::Qualified, store::Level::Qscd],
                ip_ranges: vec![],
                enabled: true,
                // So that an e-service can try deviceIpAddress in the demo.
                share_device_ip: true,
            };
            self.store().put_relying_party(&record, self.now()).await?;
        }
        let bank = store::RelyingPartyRecord {
            uuid: DEMO_BANK_UUID.parse().map_err(ServiceError::internal)?,
            names: vec![DEMO_BANK_NAME.to_owned()],
            allowed_levels: vec![store::Level::Qualified, store::Level::Qscd],
            ip_ranges: vec![],
            enabled: true,
            share_device_ip: false,
        };
        self.store().put_relying_party(&bank, self.now()).await?;
        Ok(())
    }
}

/// The clock a node runs on: the system's, or with `use_test_clock` (only in builds that
/// include the test kit) one that tests move forward, so that end-to-end tests can cross a
/// 3-hour PIN lock without waiting. `Err` when a test clock is asked of a build that has none.
pub fn node_clock(use_test_clock: bool) -> Result<NodeClock, NoTestClock> {
    if !use_test_clock {
        return Ok(NodeClock {
            clock: Arc::new(clock::SystemClock),
            #[cfg(feature = "test-support")]
            test_clock: None,
        });
    }
    #[cfg(feature = "test-support")]
    {
        let clock = clock::OffsetClock::default();
        Ok(NodeClock {
            clock: Arc::new(clock.clone()),
            test_clock: Some(clock),
        })
    }
    #[cfg(not(feature = "test-support"))]
    Err(NoTestClock)
}

/// A node's clock, and in test builds the handle that moves it.
pub struct NodeClock {
    pub clock: Arc<dyn Clock>,
    #[cfg(feature = "test-support")]
    pub test_clock: Option<clock::OffsetClock>,
}

/// A test clock was asked of a production build.
#[derive(Debug, thiserror::Error)]
#[error("this build has no test clock (only test builds, with the test kit, have one)")]
pub struct NoTestClock;
