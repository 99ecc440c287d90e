//! `splitid serve`: the service on one machine, with an embedded database.
//!
//! Settings come from the command line, then the environment (`SPLITID_…`), then a TOML file
//! (`--config`), then the defaults; every option is documented in one place, `ServeArgs`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use serde::Deserialize;
use splitid_proto::rp_v2::CertificateLevel;
use splitid_server::accounts::proofing::{
    Assurance, EidCertificateConfig, OidcClaims, OidcConfig, ProofingConfig, RevocationCheck,
};
use splitid_server::keystore::{KeyStoreConfig, Pkcs11Config};
use splitid_server::store::{DatabaseConfig, RelyingPartyRecord};
use splitid_server::{Config, DEMO_RELYING_PARTY_NAME, DEMO_RELYING_PARTY_UUIDS, Service};

const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
const DEFAULT_DATA: &str = "./splitid-data";
const DEFAULT_SESSION_TIMEOUT: u32 = 90;

#[derive(Args)]
pub struct ServeArgs {
    /// A TOML file with any of the settings below (as `listen = "…"`, `data = "…"`, …),
    /// `[[relying_party]]` tables (uuid, names, levels, ip_ranges) and the identity proofing
    /// methods (`[proofing.eid_certificate]`, `[proofing.oidc]`, `[proofing.account]`).
    #[arg(long, env = "SPLITID_CONFIG")]
    config: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long, env = "SPLITID_LISTEN")]
    listen: Option<SocketAddr>,
    /// Data directory: database, key-encryption key, CA; created on first start
    /// [default: ./splitid-data].
    #[arg(long, env = "SPLITID_DATA")]
    data: Option<PathBuf>,
    /// The database: a `postgres://user:password@host/name` URL for PostgreSQL, shared by
    /// every node [default: SQLite in the data directory].
    #[arg(long, env = "SPLITID_DATABASE")]
    database: Option<String>,
    /// Connections each node keeps to PostgreSQL (plus as many for account locks) [default: 16].
    #[arg(long, env = "SPLITID_DATABASE_CONNECTIONS")]
    database_connections: Option<u32>,
    /// Demo mode: the demo relying party and self-asserted test identities.
    #[arg(long, env = "SPLITID_DEMO")]
    demo: bool,
    /// The URL this service is reached at (written into certificates) [default: http://LISTEN].
    #[arg(long, env = "SPLITID_PUBLIC_URL")]
    public_url: Option<String>,
    /// Seconds a person has to answer a transaction [default: 90].
    #[arg(long, env = "SPLITID_SESSION_TIMEOUT")]
    session_timeout: Option<u32>,
    /// Also accept keys with 2048-bit halves (older-style, weaker; for tests).
    #[arg(long, env = "SPLITID_ALLOW_2048")]
    allow_2048: bool,
    /// A load balancer or proxy in front of this node, as a CIDR range (repeatable): from these
    /// peers the client's address is read from X-Forwarded-For.
    #[arg(
        long = "trusted-proxy",
        env = "SPLITID_TRUSTED_PROXIES",
        value_delimiter = ','
    )]
    trusted_proxies: Vec<ipnet::IpNet>,
    #[command(flatten)]
    keystore: KeyStoreArgs,
    /// Log lines as text for people, or as JSON objects for log collectors (levels by RUST_LOG).
    #[arg(long, env = "SPLITID_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    /// FOR TESTS ONLY: a clock that `POST /test/clock/advance?seconds=N` moves forward (a
    /// build without the test kit refuses it).
    #[arg(long, hide = true)]
    test_clock: bool,
}

/// Where the key-encryption key and the CA keys are (`[keystore]` in the configuration file).
/// The token's PIN is read from the environment (`SPLITID_PKCS11_PIN`) or a file, never from
/// the command line, where other users could see it.
#[derive(Args, Default)]
pub struct KeyStoreArgs {
    /// Key store: `file` (a key-encryption key in the data directory) or `pkcs11` (the KEK and
    /// the CA keys in an HSM token) [default: file].
    #[arg(long = "keystore", env = "SPLITID_KEYSTORE", value_name = "KIND")]
    kind: Option<String>,
    /// PKCS#11: the HSM's module (shared library), e.g. /usr/lib/softhsm/libsofthsm2.so.
    #[arg(long, env = "SPLITID_PKCS11_MODULE")]
    pkcs11_module: Option<PathBuf>,
    /// PKCS#11: the label of the token.
    #[arg(long, env = "SPLITID_PKCS11_TOKEN_LABEL")]
    pkcs11_token_label: Option<String>,
    /// PKCS#11: prefix of the labels of SplitID's key objects in the token [default: splitid].
    #[arg(long, env = "SPLITID_PKCS11_KEY_LABEL")]
    pkcs11_key_label: Option<String>,
    /// PKCS#11: a file holding the token's user PIN (else the PIN comes from SPLITID_PKCS11_PIN).
    #[arg(long, env = "SPLITID_PKCS11_PIN_FILE")]
    pkcs11_pin_file: Option<PathBuf>,
}

/// The environment variable the token's user PIN may come from.
const PIN_ENV: &str = "SPLITID_PKCS11_PIN";
const DEFAULT_KEY_LABEL: &str = "splitid";

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

/// The configuration file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<SocketAddr>,
    data: Option<PathBuf>,
    database: Option<String>,
    database_connections: Option<u32>,
    #[serde(default)]
    demo: bool,
    public_url: Option<String>,
    session_timeout: Option<u32>,
    #[serde(default)]
    allow_2048: bool,
    #[serde(default)]
    trusted_proxies: Vec<String>,
    #[serde(default)]
    relying_party: Vec<FileRelyingParty>,
    #[serde(default)]
    proofing: FileProofing,
    #[serde(default)]
    keystore: FileKeyStore,
}

/// `[keystore]`: `kind = "file"` (the default) or `kind = "pkcs11"` with `module`,
/// `token_label`, `key_label` and `pin_file` (or the PIN in SPLITID_PKCS11_PIN).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileKeyStore {
    kind: Option<String>,
    module: Option<PathBuf>,
    token_label: Option<String>,
    key_label: Option<String>,
    pin_file: Option<PathBuf>,
    /// Accepted only to be refused with a clear message: a PIN does not belong in a
    /// configuration file (its value is never read).
    pin: Option<serde::de::IgnoredAny>,
}

/// The key store from the command line and environment, then `[keystore]`, then the default.
fn keystore_config(args: &KeyStoreArgs, file: &FileKeyStore) -> anyhow::Result<KeyStoreConfig> {
    anyhow::ensure!(
        file.pin.is_none(),
        "[keystore] pin: the PIN does not go in the configuration file; set {PIN_ENV} or pin_file"
    );
    let kind = args
        .kind
        .clone()
        .or_else(|| file.kind.clone())
        .unwrap_or_else(|| "file".into());
    let module = args.pkcs11_module.clone().or_else(|| file.module.clone());
    let token_label = args
        .pkcs11_token_label
        .clone()
        .or_else(|| file.token_label.clone());
    let key_label = args
        .pkcs11_key_label
        .clone()
        .or_else(|| file.key_label.clone())
        .unwrap_or_else(|| DEFAULT_KEY_LABEL.into());
    let pin_file = args
        .pkcs11_pin_file
        .clone()
        .or_else(|| file.pin_file.clone());
    match kind.as_str() {
        "file" => {
            anyhow::ensure!(
                module.is_none() && token_label.is_none() && pin_file.is_none(),
                "PKCS#11 settings are given but the key store kind is \"file\": set kind = \"pkcs11\" ([keystore] or --keystore) or remove them"
            );
            Ok(KeyStoreConfig::File)
        }
        "pkcs11" => {
            let module = module.context(
                "key store pkcs11: the module is required ([keystore] module, or --pkcs11-module)",
            )?;
            let token_label = token_label.context(
                "key store pkcs11: the token label is required ([keystore] token_label, or --pkcs11-token-label)",
            )?;
            let pin = match (std::env::var(PIN_ENV), &pin_file) {
                (Ok(pin), _) => zeroize::Zeroizing::new(pin),
                (Err(_), Some(path)) => {
                    let text =
                        zeroize::Zeroizing::new(std::fs::read_to_string(path).with_context(
                            || format!("cannot read the PIN file {}", path.display()),
                        )?);
                    zeroize::Zeroizing::new(text.trim_end_matches(['\r', '\n']).to_owned())
                }
                (Err(_), None) => anyhow::bail!(
                    "key store pkcs11: the token's PIN is needed: set {PIN_ENV} or [keystore] pin_file"
                ),
            };
            anyhow::ensure!(
                !pin.is_empty(),
                "key store pkcs11: the token's PIN is empty"
            );
            Ok(KeyStoreConfig::Pkcs11(Pkcs11Config {
                module,
                token_label,
                pin,
                key_label,
            }))
        }
        other => anyhow::bail!("key store kind {other:?}: \"file\" or \"pkcs11\""),
    }
}

/// `[proofing.…]`: the identity proofing methods this server accepts (none by default).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileProofing {
    eid_certificate: Option<FileEidCertificate>,
    oidc: Option<FileOidc>,
    account: Option<FileAccountProofing>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileEidCertificate {
    /// PEM files of the eID issuers' trust anchors (each may hold several certificates).
    trust_anchors: Vec<PathBuf>,
    #[serde(default = "qualified")]
    level: String,
    /// `off`, `if-reachable` or `required` (CRL from the certificate).
    #[serde(default = "if_reachable")]
    revocation: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileOidc {
    issuer: String,
    audience: String,
    /// The issuer's keys (a JWKS document).
    jwks_file: PathBuf,
    #[serde(default = "advanced")]
    level: String,
    semantics_identifier_claim: Option<String>,
    given_name_claim: Option<String>,
    surname_claim: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileAccountProofing {
    enabled: bool,
}

fn qualified() -> String {
    "QUALIFIED".into()
}

fn advanced() -> String {
    "ADVANCED".into()
}

fn if_reachable() -> String {
    "if-reachable".into()
}

fn assurance(method: &str, level: &str) -> anyhow::Result<Assurance> {
    Assurance::parse(level)
        .with_context(|| format!("[proofing.{method}] level = {level:?}: QUALIFIED or ADVANCED"))
}

/// Reads the proofing section into the service's terms (trust anchors and keys loaded now, so
/// a bad file stops the start with a clear message).
fn proofing_config(file: &FileProofing) -> anyhow::Result<ProofingConfig> {
    let mut config = ProofingConfig {
        account: file.account.as_ref().is_some_and(|a| a.enabled),
        ..ProofingConfig::default()
    };
    if let Some(eid) = &file.eid_certificate {
        let mut trust_anchors = Vec::new();
        for path in &eid.trust_anchors {
            let text = std::fs::read(path)
                .with_context(|| format!("cannot read trust anchor {}", path.display()))?;
            let before = trust_anchors.len();
            for certificate in CertificateDer::pem_slice_iter(&text) {
                let certificate = certificate
                    .with_context(|| format!("{} is not a PEM certificate file", path.display()))?;
                trust_anchors.push(certificate.to_vec());
            }
            anyhow::ensure!(
                trust_anchors.len() > before,
                "{} holds no PEM certificate",
                path.display()
            );
        }
        anyhow::ensure!(
            !trust_anchors.is_empty(),
            "[proofing.eid_certificate] trust_anchors: at least one file"
        );
        config.eid_certificate = Some(EidCertificateConfig {
            trust_anchors,
            level: assurance("eid_certificate", &eid.level)?,
            revocation: RevocationCheck::parse(&eid.revocation).with_context(|| {
                format!(
                    "[proofing.eid_certificate] revocation = {:?}: off, if-reachable or required",
                    eid.revocation
                )
            })?,
        });
    }
    if let Some(oidc) = &file.oidc {
        let jwks = std::fs::read_to_string(&oidc.jwks_file)
            .with_context(|| format!("cannot read {}", oidc.jwks_file.display()))?;
        let defaults = OidcClaims::default();
        let claims = OidcClaims {
            semantics_identifier: oidc
                .semantics_identifier_claim
                .clone()
                .unwrap_or(defaults.semantics_identifier),
            given_name: oidc.given_name_claim.clone().unwrap_or(defaults.given_name),
            surname: oidc.surname_claim.clone().unwrap_or(defaults.surname),
        };
        config.oidc = Some(
            OidcConfig::new(
                oidc.issuer.clone(),
                oidc.audience.clone(),
                &jwks,
                assurance("oidc", &oidc.level)?,
                claims,
            )
            .map_err(|e| anyhow::anyhow!("{}: {e}", oidc.jwks_file.display()))?,
        );
    }
    Ok(config)
}

/// A relying party from the configuration file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileRelyingParty {
    uuid: uuid::Uuid,
    names: Vec<String>,
    #[serde(default = "default_levels")]
    levels: Vec<CertificateLevel>,
    #[serde(default)]
    ip_ranges: Vec<String>,
}

fn default_levels() -> Vec<CertificateLevel> {
    vec![CertificateLevel::Qualified, CertificateLevel::Qscd]
}

/// The settings in force, after merging.
struct Settings {
    listen: SocketAddr,
    data: PathBuf,
    database: DatabaseConfig,
    /// As configured; without it, `http://` and the address actually listened on (which
    /// differs from `listen` when its port is 0).
    public_url: Option<String>,
    demo: bool,
    session_timeout: u32,
    allow_2048: bool,
    trusted_proxies: Vec<ipnet::IpNet>,
    relying_parties: Vec<FileRelyingParty>,
    proofing: ProofingConfig,
    keystore: KeyStoreConfig,
}

fn read_file(path: &Path) -> anyhow::Result<FileConfig> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    toml::from_str(&text)
        .with_context(|| format!("{} is not a valid configuration", path.display()))
}

fn settings(args: &ServeArgs) -> anyhow::Result<Settings> {
    let file = match &args.config {
        Some(path) => read_file(path)?,
        None => FileConfig::default(),
    };
    for rp in &file.relying_party {
        for range in &rp.ip_ranges {
            range.parse::<ipnet::IpNet>().with_context(|| {
                format!("relying party {}: {range:?} is not a CIDR range", rp.uuid)
            })?;
        }
    }
    let listen = args
        .listen
        .or(file.listen)
        .unwrap_or_else(|| DEFAULT_LISTEN.parse().expect("valid default"));
    let data = args
        .data
        .clone()
        .or(file.data)
        .unwrap_or_else(|| DEFAULT_DATA.into());
    let database = DatabaseConfig::from_setting(
        args.database.as_deref().or(file.database.as_deref()),
        &data,
        args.database_connections.or(file.database_connections),
    )?;
    Ok(Settings {
        listen,
        data,
        database,
        demo: args.demo || file.demo,
        public_url: args.public_url.clone().or(file.public_url),
        session_timeout: args
            .session_timeout
            .or(file.session_timeout)
            .unwrap_or(DEFAULT_SESSION_TIMEOUT),
        allow_2048: args.allow_2048 || file.allow_2048,
        trusted_proxies: trusted_proxies(&args.trusted_proxies, &file.trusted_proxies)?,
        proofing: proofing_config(&file.proofing)?,
        keystore: keystore_config(&args.keystore, &file.keystore)?,
        relying_parties: file.relying_party,
    })
}

/// The trusted proxies: the command line's, else the file's.
fn trusted_proxies(
    given: &[ipnet::IpNet],
    in_file: &[String],
) -> anyhow::Result<Vec<ipnet::IpNet>> {
    if !given.is_empty() {
        return Ok(given.to_vec());
    }
    in_file
        .iter()
        .map(|range| {
            range
                .parse()
                .with_context(|| format!("trusted_proxies: {range:?} is not a CIDR range"))
        })
        .collect()
}

/// The service's configuration for the operator's tools: the data directory and the database
/// from the command line, else the configuration file, else the defaults; the public URL
/// from the file; the key store as `serve` takes it (the tools open the same CA and sealed
/// secrets).
pub(crate) fn tool_config(
    config: Option<&Path>,
    data: Option<PathBuf>,
    database: Option<&str>,
    keystore: &KeyStoreArgs,
) -> anyhow::Result<Config> {
    let file = match config {
        Some(path) => read_file(path)?,
        None => FileConfig::default(),
    };
    let data = data.or(file.data).unwrap_or_else(|| DEFAULT_DATA.into());
    let public_url = file
        .public_url
        .unwrap_or_else(|| format!("http://{DEFAULT_LISTEN}"));
    let keystore = keystore_config(keystore, &file.keystore)?;
    let mut config = Config::new(&data, public_url);
    config.keystore = keystore;
    config.database = DatabaseConfig::from_setting(
        database.or(file.database.as_deref()),
        &data,
        file.database_connections,
    )?;
    // The tools open a data directory in the mode it was made in (a demo one has a test CA).
    config.demo = splitid_server::pki::stored_ca_is_test(&config.data_dir).unwrap_or(false);
    Ok(config)
}

pub fn run(args: ServeArgs) -> anyhow::Result<()> {
    let logs = tracing_subscriber::fmt().with_env_filter(
        tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
    );
    match args.log_format {
        LogFormat::Text => logs.init(),
        // One JSON object per line, with the event's fields, for log collectors.
        LogFormat::Json => logs.json().flatten_event(true).init(),
    }
    let settings = settings(&args)?;
    tokio::runtime::Runtime::new()?.block_on(serve(settings, args.test_clock))
}

async fn serve(settings: Settings, use_test_clock: bool) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .with_context(|| format!("cannot listen on {}", settings.listen))?;
    let address = listener.local_addr()?;
    let public_url = settings
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{address}"));
    let mut config = Config::new(&settings.data, &public_url);
    config.database = settings.database.clone();
    config.demo = settings.demo;
    config.session_timeout = time::Duration::seconds(i64::from(settings.session_timeout));
    config.allow_2048_bit_halves = settings.allow_2048;
    config.proofing = settings.proofing.clone();
    config.trusted_proxies = settings.trusted_proxies.clone();
    config.keystore = settings.keystore.clone();
    let (clock, test_clock_routes) = splitid_server::node_clock(use_test_clock)?;
    let service = Service::open(config, clock)
        .await
        .context("cannot open the service")?;
    register_relying_parties(&service, &settings.relying_parties).await?;
    let mut router = service.router();
    if let Some(routes) = test_clock_routes {
        tracing::warn!("test clock enabled: anyone can move this server's clock forward");
        router = router.merge(routes);
    }
    print_banner(&settings, address, &public_url);
    service.spawn_background_tasks();
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    Ok(())
}

async fn register_relying_parties(
    service: &Service,
    parties: &[FileRelyingParty],
) -> anyhow::Result<()> {
    for rp in parties {
        let record = RelyingPartyRecord {
            uuid: rp.uuid,
            names: rp.names.clone(),
            allowed_levels: rp.levels.clone(),
            ip_ranges: rp.ip_ranges.clone(),
            enabled: true,
        };
        service
            .store()
            .put_relying_party(&record, service.now())
            .await?;
    }
    Ok(())
}

/// The proofing methods this server accepts, for the banner.
fn proofing_methods(settings: &Settings) -> String {
    let proofing = &settings.proofing;
    let methods: Vec<String> = [
        proofing.eid_certificate.as_ref().map(|eid| {
            format!(
                "eID certificate ({}, {} trust anchors)",
                eid.level.as_str(),
                eid.trust_anchors.len()
            )
        }),
        proofing
            .oidc
            .as_ref()
            .map(|oidc| format!("OpenID Connect ({}, {})", oidc.issuer, oidc.level.as_str())),
        proofing.account.then(|| "existing account".to_owned()),
        settings.demo.then(|| "demo self-assertion".to_owned()),
    ]
    .into_iter()
    .flatten()
    .collect();
    if methods.is_empty() {
        "none enabled (see [proofing.…] in the configuration): no one can register".to_owned()
    } else {
        methods.join(", ")
    }
}

fn print_banner(settings: &Settings, address: SocketAddr, public_url: &str) {
    let database = match &settings.database {
        DatabaseConfig::SqliteIn(_) => "SQLite".to_owned(),
        DatabaseConfig::Postgres { url, .. } => splitid_server::store::redact_password(url),
    };
    println!(
        "SplitID is listening on http://{address} (data in {}, database: {database})",
        settings.data.display()
    );
    println!(
        "  relying-party API (Smart-ID RP API v2): {public_url}/v2  (description: {public_url}/v2/openapi.json)"
    );
    println!("  app API:                                {public_url}/app/v1");
    println!(
        "  CA certificates:                        {public_url}/pki/root-ca.crt, {public_url}/pki/issuing-ca.crt"
    );
    println!(
        "  identity proofing:                      {}",
        proofing_methods(settings)
    );
    match &settings.keystore {
        KeyStoreConfig::File => println!(
            "  key store:                              file (kek.key in the data directory)"
        ),
        KeyStoreConfig::Pkcs11(pkcs11) => println!(
            "  key store:                              PKCS#11 token {:?} ({}), keys {}-*",
            pkcs11.token_label,
            pkcs11.module.display(),
            pkcs11.key_label
        ),
    }
    println!("  self-service portal:                    {public_url}/portal");
    if settings.demo {
        println!("  Demo Bank (an e-service to try):        {public_url}/demo");
        println!(
            "\nDemo mode: relying party {DEMO_RELYING_PARTY_NAME} ({}), test identities, test CA.",
            DEMO_RELYING_PARTY_UUIDS[0]
        );
        println!("Register a device (it asks for PIN1 and PIN2):");
        println!(
            "  splitid app --home ./phone register --server {public_url} --identity PNOEE-30303039914 --given-name MARY --surname ÄNN"
        );
        println!("Start a login as the demo relying party:");
        println!(
            "  curl -s -X POST {public_url}/v2/authentication/etsi/PNOEE-30303039914 -H 'Content-Type: application/json' \\\n    -d '{{\"relyingPartyUUID\":\"{}\",\"relyingPartyName\":\"DEMO\",\"hash\":\"'$(head -c 64 /dev/urandom | base64 -w0)'\",\"hashType\":\"SHA512\",\"allowedInteractionsOrder\":[{{\"type\":\"displayTextAndPIN\",\"displayText60\":\"Log in to DEMO\"}}]}}'",
            DEMO_RELYING_PARTY_UUIDS[0]
        );
        println!("Confirm it on the device (asks for PIN1):");
        println!("  splitid app --home ./phone confirm --next --wait 30");
        println!(
            "Then read the result: curl -s '{public_url}/v2/session/SESSION_ID?timeoutMs=10000'"
        );
    }
}
