//! Every setting of `splitid serve`, in one table: [`Settings`].
//!
//! Each field is one setting, read from the command line (`--listen`), the environment
//! (`SPLITID_LISTEN`) and the configuration file (`listen = "…"`, `--config FILE`), in that
//! order of precedence, then its default ([`Settings::listen`] and the like). Clap reads the
//! first two layers into a `Settings`, serde reads the file into another, and
//! [`Settings::over`] lays one over the other; nothing else lists the settings.
//! `examples/splitid.toml` shows every one with its default, and a test below keeps it so.
//!
//! The relying parties and the identity proofing methods are tables of the file only.
//! The operators' tools (`splitid admin`) read the same table for the data directory, the
//! database and the key store.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use serde::{Deserialize, Serialize};
use splitid_domain::Config;
use splitid_domain::keystore::{KeyStoreConfig, Pkcs11Config};
use splitid_domain::proofing::{
    Assurance, EidCertificateConfig, OidcClaims, OidcConfig, OidcSignIn, ProofingConfig,
    RevocationCheck,
};
use splitid_domain::store::DatabaseConfig;
use splitid_domain::store::Level;

const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
const DEFAULT_DATA: &str = "./splitid-data";
const DEFAULT_SESSION_TIMEOUT: u32 = 90;
const DEFAULT_KEY_LABEL: &str = "splitid";
/// The environment variable the token's user PIN may come from.
const PIN_ENV: &str = "SPLITID_PKCS11_PIN";

/// The settings of one layer (the command line and environment, or the file): each is `None`
/// where that layer does not give it. A switch is `--demo` (or `--demo=false`, which turns off
/// what the file turned on).
#[derive(Debug, Default, Clone, Args, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// A TOML file with any of the settings below (as `listen = "…"`, `data = "…"`, …),
    /// `[[relying_party]]` tables (uuid, names, levels, ip_ranges) and the identity proofing
    /// methods (`[proofing.eid_certificate]`, `[proofing.oidc]`, `[proofing.account]`); every
    /// one, with its default, in examples/splitid.toml.
    #[arg(long, env = "SPLITID_CONFIG")]
    #[serde(skip)]
    pub config: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long, env = "SPLITID_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// Data directory: database, key-encryption key, CA; created on first start
    /// [default: ./splitid-data].
    #[arg(long, env = "SPLITID_DATA")]
    pub data: Option<PathBuf>,
    /// The database: a `postgres://user:password@host/name` URL for PostgreSQL, shared by
    /// every node [default: SQLite in the data directory].
    #[arg(long, env = "SPLITID_DATABASE")]
    pub database: Option<String>,
    /// Connections each node keeps to PostgreSQL (plus as many for account locks) [default: 16].
    #[arg(long, env = "SPLITID_DATABASE_CONNECTIONS")]
    pub database_connections: Option<u32>,
    /// Demo mode: the demo relying party and self-asserted test identities [default: false].
    #[arg(long, env = "SPLITID_DEMO", num_args = 0..=1, require_equals = true,
          default_missing_value = "true")]
    pub demo: Option<bool>,
    /// In demo mode, a phone that answers by itself for the README's test identities (OK,
    /// USER_REFUSED, TIMEOUT, …) [default: true].
    #[arg(long, env = "SPLITID_DEMO_PHONE", num_args = 0..=1, require_equals = true,
          default_missing_value = "true")]
    pub demo_phone: Option<bool>,
    /// The URL this service is reached at (written into certificates) [default: http://LISTEN].
    #[arg(long, env = "SPLITID_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Serve HTTPS with this certificate chain (PEM, leaf first); needs `tls_key`. Reloaded
    /// when the file changes or on SIGHUP [default: plain HTTP, for a TLS proxy in front].
    #[arg(long, env = "SPLITID_TLS_CERTIFICATE")]
    pub tls_certificate: Option<PathBuf>,
    /// The private key of `tls_certificate` (PEM: PKCS#8, PKCS#1 or SEC1).
    #[arg(long, env = "SPLITID_TLS_KEY")]
    pub tls_key: Option<PathBuf>,
    /// Seconds a person has to answer a transaction [default: 90].
    #[arg(long, env = "SPLITID_SESSION_TIMEOUT")]
    pub session_timeout: Option<u32>,
    /// Also accept keys with 2048-bit halves (older-style, weaker; for tests) [default: false].
    #[arg(long = "allow-2048", env = "SPLITID_ALLOW_2048", num_args = 0..=1,
          require_equals = true, default_missing_value = "true")]
    pub allow_2048: Option<bool>,
    /// A load balancer or proxy in front of this node, as a CIDR range (repeatable): from these
    /// peers the client's address is read from X-Forwarded-For [default: none].
    #[arg(
        long = "trusted-proxy",
        env = "SPLITID_TRUSTED_PROXIES",
        value_delimiter = ',',
        value_parser = cidr_range
    )]
    pub trusted_proxies: Option<Vec<String>>,
    /// A push service the web app's subscriptions may point at, as an origin such as
    /// https://push.example.com or https://*.example.com (repeatable; replaces the default)
    /// [default: the push services of Chrome, Firefox, Safari and Edge].
    #[arg(
        long = "push-origin",
        env = "SPLITID_PUSH_ORIGINS",
        value_delimiter = ','
    )]
    pub push_origins: Option<Vec<String>>,
    /// The mailto: or https: address push services can reach the operator at (RFC 8292)
    /// [default: the public URL if it is https, else none].
    #[arg(long, env = "SPLITID_PUSH_CONTACT")]
    pub push_contact: Option<String>,
    /// The scheme name RP API v3's device links and ACSP_V2 signatures carry: what relying
    /// parties' clients are configured with [default: smart-id-demo in demo mode, else smart-id].
    #[arg(long, env = "SPLITID_SCHEME_NAME")]
    pub scheme_name: Option<String>,
    /// Log lines as text for people, or as JSON objects for log collectors (levels by RUST_LOG)
    /// [default: text].
    #[arg(long, env = "SPLITID_LOG_FORMAT", value_enum)]
    pub log_format: Option<LogFormat>,
    #[command(flatten)]
    #[serde(default)]
    pub keystore: KeyStoreSettings,
    /// `[[relying_party]]`: the e-services allowed to use the RP API (file only).
    #[arg(skip)]
    pub relying_party: Option<Vec<RelyingPartySetting>>,
    /// `[proofing.…]`: the identity proofing methods this server accepts (file only; none by
    /// default).
    #[arg(skip)]
    pub proofing: Option<ProofingSettings>,
}

/// Where the key-encryption key and the CA keys are (`[keystore]` in the configuration file).
/// The token's PIN is read from the environment (`SPLITID_PKCS11_PIN`) or a file, never from
/// the command line, where other users could see it.
#[derive(Debug, Default, Clone, Args, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyStoreSettings {
    /// Key store: `file` (a key-encryption key in the data directory) or `pkcs11` (the KEK and
    /// the CA keys in an HSM token) [default: file].
    #[arg(long = "keystore", env = "SPLITID_KEYSTORE", value_name = "KIND")]
    pub kind: Option<String>,
    /// PKCS#11: the HSM's module (shared library), e.g. /usr/lib/softhsm/libsofthsm2.so.
    #[arg(long = "pkcs11-module", env = "SPLITID_PKCS11_MODULE")]
    pub module: Option<PathBuf>,
    /// PKCS#11: the label of the token.
    #[arg(long = "pkcs11-token-label", env = "SPLITID_PKCS11_TOKEN_LABEL")]
    pub token_label: Option<String>,
    /// PKCS#11: prefix of the labels of SplitID's key objects in the token [default: splitid].
    #[arg(long = "pkcs11-key-label", env = "SPLITID_PKCS11_KEY_LABEL")]
    pub key_label: Option<String>,
    /// PKCS#11: a file holding the token's user PIN (else the PIN comes from SPLITID_PKCS11_PIN).
    #[arg(long = "pkcs11-pin-file", env = "SPLITID_PKCS11_PIN_FILE")]
    pub pin_file: Option<PathBuf>,
    /// Accepted in the file only to be refused with a clear message: a PIN does not belong in
    /// a configuration file (its value is never kept).
    #[arg(skip)]
    #[serde(default, skip_serializing, deserialize_with = "refused_pin")]
    pub pin: Option<RefusedPin>,
}

/// A PIN that was written in the configuration file: its value is dropped while reading.
#[derive(Debug, Clone, Copy)]
pub struct RefusedPin;

fn refused_pin<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<RefusedPin>, D::Error> {
    serde::de::IgnoredAny::deserialize(d).map(|_| Some(RefusedPin))
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// A relying party from the configuration file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RelyingPartySetting {
    pub uuid: uuid::Uuid,
    /// The `relyingPartyName` values it may use (case-insensitive).
    pub names: Vec<String>,
    /// The certificate levels it may ask for [default: QUALIFIED, QSCD].
    #[serde(default = "default_levels")]
    pub levels: Vec<Level>,
    /// The source addresses it calls from, as CIDR ranges [default: any].
    #[serde(default)]
    pub ip_ranges: Vec<String>,
    /// May learn the address of the phone that answered (`shareMdClientIpAddress`)
    /// [default: false].
    #[serde(default)]
    pub share_device_ip: bool,
}

/// A CIDR range as given (the command line checks it at once; the file's when it is used).
fn cidr_range(text: &str) -> Result<String, String> {
    text.parse::<ipnet::IpNet>()
        .map(|_| text.to_owned())
        .map_err(|e| format!("{text:?} is not a CIDR range: {e}"))
}

fn default_levels() -> Vec<Level> {
    vec![Level::Qualified, Level::Qscd]
}

/// `[proofing.…]`: the identity proofing methods this server accepts (none by default).
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProofingSettings {
    pub eid_certificate: Option<EidCertificateSetting>,
    pub oidc: Option<OidcSetting>,
    pub account: Option<AccountProofingSetting>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EidCertificateSetting {
    /// PEM files of the eID issuers' trust anchors (each may hold several certificates).
    pub trust_anchors: Vec<PathBuf>,
    #[serde(default = "qualified")]
    pub level: String,
    /// `off`, `if-reachable` or `required` (CRL from the certificate).
    #[serde(default = "if_reachable")]
    pub revocation: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcSetting {
    pub issuer: String,
    pub audience: String,
    /// The issuer's keys (a JWKS document).
    pub jwks_file: PathBuf,
    #[serde(default = "advanced")]
    pub level: String,
    pub semantics_identifier_claim: Option<String>,
    pub given_name_claim: Option<String>,
    pub surname_claim: Option<String>,
    /// Where the web app sends people to sign in (implicit flow, `response_type=id_token`);
    /// without it the provider is offered only to apps that bring an ID token themselves.
    pub authorization_endpoint: Option<String>,
    /// What the app calls the provider (default: the issuer's host).
    pub name: Option<String>,
    /// The scopes asked for (default `openid profile`).
    pub scope: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountProofingSetting {
    pub enabled: bool,
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

impl Settings {
    /// The settings in force: this layer (the command line and the environment) over the
    /// file it names, if any.
    pub fn with_file(self) -> anyhow::Result<Settings> {
        match &self.config {
            Some(path) => {
                let file = read_file(path)?;
                self.over(file)
            }
            None => Ok(self),
        }
    }

    /// `self` laid over `lower`: a setting `self` gives wins, one it leaves out comes from
    /// `lower`; tables (`[keystore]`) merge setting by setting. Done on the settings' JSON
    /// form, so that no list of the settings is written again here.
    pub fn over(self, lower: Settings) -> anyhow::Result<Settings> {
        let pin = self.keystore.pin.or(lower.keystore.pin);
        let config = self.config.clone().or(lower.config.clone());
        const UNMERGEABLE: &str = "the settings cannot be combined (is a path not valid UTF-8?)";
        let mut merged = serde_json::to_value(lower).context(UNMERGEABLE)?;
        overlay(
            &mut merged,
            serde_json::to_value(self).context(UNMERGEABLE)?,
        );
        let mut settings: Settings = serde_json::from_value(merged).context(UNMERGEABLE)?;
        settings.config = config;
        settings.keystore.pin = pin;
        Ok(settings)
    }

    pub fn listen(&self) -> SocketAddr {
        self.listen
            .unwrap_or_else(|| DEFAULT_LISTEN.parse().expect("valid default"))
    }

    pub fn data(&self) -> PathBuf {
        self.data.clone().unwrap_or_else(|| DEFAULT_DATA.into())
    }

    pub fn demo(&self) -> bool {
        self.demo.unwrap_or(false)
    }

    pub fn demo_phone(&self) -> bool {
        self.demo_phone.unwrap_or(true)
    }

    pub fn allow_2048(&self) -> bool {
        self.allow_2048.unwrap_or(false)
    }

    pub fn session_timeout(&self) -> u32 {
        self.session_timeout.unwrap_or(DEFAULT_SESSION_TIMEOUT)
    }

    pub fn log_format(&self) -> LogFormat {
        self.log_format.unwrap_or_default()
    }

    pub fn relying_parties(&self) -> anyhow::Result<&[RelyingPartySetting]> {
        let parties = self.relying_party.as_deref().unwrap_or_default();
        for rp in parties {
            for range in &rp.ip_ranges {
                range.parse::<ipnet::IpNet>().with_context(|| {
                    format!("relying party {}: {range:?} is not a CIDR range", rp.uuid)
                })?;
            }
        }
        Ok(parties)
    }

    pub fn trusted_proxies(&self) -> anyhow::Result<Vec<ipnet::IpNet>> {
        let ranges = self.trusted_proxies.as_deref().unwrap_or_default();
        ranges
            .iter()
            .map(|range| {
                range
                    .parse()
                    .with_context(|| format!("trusted_proxies: {range:?} is not a CIDR range"))
            })
            .collect()
    }

    pub fn database(&self) -> anyhow::Result<DatabaseConfig> {
        Ok(DatabaseConfig::from_setting(
            self.database.as_deref(),
            &self.data(),
            self.database_connections,
        )?)
    }

    /// The service's configuration, with `public_url` as given, else `http://LISTEN` (which
    /// the caller corrects once it knows the port, when `listen`'s is 0). Trust anchors, keys
    /// and PIN files are read now, so that a bad one stops the start with a clear message.
    /// The certificate and key files to serve HTTPS with, if both are given.
    pub fn tls(&self) -> anyhow::Result<Option<splitid_http::tls::TlsFiles>> {
        match (&self.tls_certificate, &self.tls_key) {
            (Some(certificate), Some(key)) => Ok(Some(splitid_http::tls::TlsFiles {
                certificate: certificate.clone(),
                key: key.clone(),
            })),
            (None, None) => Ok(None),
            _ => anyhow::bail!("tls_certificate and tls_key go together: give both or neither"),
        }
    }

    /// `https` when this node serves TLS itself, else `http`.
    pub fn scheme(&self) -> &'static str {
        if self.tls_certificate.is_some() {
            "https"
        } else {
            "http"
        }
    }

    pub fn service_config(&self) -> anyhow::Result<Config> {
        let public_url = self
            .public_url
            .clone()
            .unwrap_or_else(|| format!("{}://{}", self.scheme(), self.listen()));
        self.relying_parties()?;
        let mut config = Config::new(self.data(), public_url);
        config.database = self.database()?;
        config.demo = self.demo();
        config.session_timeout = time::Duration::seconds(i64::from(self.session_timeout()));
        config.allow_2048_bit_halves = self.allow_2048();
        config.trusted_proxies = self.trusted_proxies()?;
        config.proofing = proofing_config(self.proofing.as_ref())?;
        config.keystore = self.keystore.config()?;
        config.push = self.push()?;
        config.scheme_name = self.scheme_name.clone();
        Ok(config)
    }

    fn push(&self) -> anyhow::Result<splitid_domain::push::PushConfig> {
        let origins = match &self.push_origins {
            Some(origins) => splitid_domain::push::PushOrigins::parse(origins)?,
            None => Default::default(),
        };
        if let Some(contact) = &self.push_contact
            && !(contact.starts_with("mailto:") || contact.starts_with("https://"))
        {
            anyhow::bail!("push_contact {contact:?} is not a mailto: or https: address (RFC 8292)");
        }
        Ok(splitid_domain::push::PushConfig {
            origins,
            contact: self.push_contact.clone(),
        })
    }

    /// The service's configuration for the operators' tools: the data directory, the
    /// database and the key store as `serve` takes them (the tools open the same CA and
    /// sealed secrets), the public URL from the file.
    pub fn tool_config(&self) -> anyhow::Result<Config> {
        let public_url = self
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{DEFAULT_LISTEN}"));
        let mut config = Config::new(self.data(), public_url);
        config.keystore = self.keystore.config()?;
        config.database = self.database()?;
        // The tools open a data directory in the mode it was made in (a demo one has a test CA).
        config.demo = splitid_domain::ca::stored_ca_is_test(&config.data_dir).unwrap_or(false);
        Ok(config)
    }
}

/// Lays `upper` over `lower`: objects merge key by key, a `null` (a setting not given) leaves
/// `lower`'s value, anything else replaces it.
fn overlay(lower: &mut serde_json::Value, upper: serde_json::Value) {
    match (lower, upper) {
        (_, serde_json::Value::Null) => {}
        (serde_json::Value::Object(lower), serde_json::Value::Object(upper)) => {
            for (key, value) in upper {
                overlay(lower.entry(key).or_insert(serde_json::Value::Null), value);
            }
        }
        (lower, upper) => *lower = upper,
    }
}

fn read_file(path: &Path) -> anyhow::Result<Settings> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    toml::from_str(&text)
        .with_context(|| format!("{} is not a valid configuration", path.display()))
}

impl KeyStoreSettings {
    /// The key store these settings select.
    fn config(&self) -> anyhow::Result<KeyStoreConfig> {
        anyhow::ensure!(
            self.pin.is_none(),
            "[keystore] pin: the PIN does not go in the configuration file; set {PIN_ENV} or pin_file"
        );
        match self.kind.as_deref().unwrap_or("file") {
            "file" => {
                anyhow::ensure!(
                    self.module.is_none() && self.token_label.is_none() && self.pin_file.is_none(),
                    "PKCS#11 settings are given but the key store kind is \"file\": set kind = \"pkcs11\" ([keystore] or --keystore) or remove them"
                );
                Ok(KeyStoreConfig::File)
            }
            "pkcs11" => self.pkcs11().map(KeyStoreConfig::Pkcs11),
            other => anyhow::bail!("key store kind {other:?}: \"file\" or \"pkcs11\""),
        }
    }

    fn pkcs11(&self) -> anyhow::Result<Pkcs11Config> {
        let module = self.module.clone().context(
            "key store pkcs11: the module is required ([keystore] module, or --pkcs11-module)",
        )?;
        let token_label = self.token_label.clone().context(
            "key store pkcs11: the token label is required ([keystore] token_label, or --pkcs11-token-label)",
        )?;
        let pin = match (std::env::var(PIN_ENV), &self.pin_file) {
            (Ok(pin), _) => zeroize::Zeroizing::new(pin),
            (Err(_), Some(path)) => {
                let text = zeroize::Zeroizing::new(
                    std::fs::read_to_string(path)
                        .with_context(|| format!("cannot read the PIN file {}", path.display()))?,
                );
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
        Ok(Pkcs11Config {
            module,
            token_label,
            pin,
            key_label: self
                .key_label
                .clone()
                .unwrap_or_else(|| DEFAULT_KEY_LABEL.into()),
        })
    }
}

fn assurance(method: &str, level: &str) -> anyhow::Result<Assurance> {
    Assurance::parse(level)
        .with_context(|| format!("[proofing.{method}] level = {level:?}: QUALIFIED or ADVANCED"))
}

/// Reads the proofing section into the service's terms.
fn proofing_config(file: Option<&ProofingSettings>) -> anyhow::Result<ProofingConfig> {
    let Some(file) = file else {
        return Ok(ProofingConfig::default());
    };
    Ok(ProofingConfig {
        account: file.account.as_ref().is_some_and(|a| a.enabled),
        eid_certificate: file
            .eid_certificate
            .as_ref()
            .map(eid_certificate_config)
            .transpose()?,
        oidc: file.oidc.as_ref().map(oidc_config).transpose()?,
        oidc_sign_in: file
            .oidc
            .as_ref()
            .map(oidc_sign_in)
            .transpose()?
            .unwrap_or_default(),
    })
}

fn oidc_sign_in(oidc: &OidcSetting) -> anyhow::Result<OidcSignIn> {
    if let Some(endpoint) = &oidc.authorization_endpoint {
        let url = reqwest::Url::parse(endpoint)
            .with_context(|| format!("[proofing.oidc] authorization_endpoint {endpoint:?}"))?;
        let loopback = url.host_str().is_some_and(|host| {
            host == "localhost"
                || host
                    .trim_matches(['[', ']'])
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        });
        anyhow::ensure!(
            url.scheme() == "https" || (url.scheme() == "http" && loopback),
            "[proofing.oidc] authorization_endpoint {endpoint:?}: https (plain http only to this machine)"
        );
        anyhow::ensure!(
            url.fragment().is_none(),
            "[proofing.oidc] authorization_endpoint {endpoint:?}: no fragment (RFC 6749 §3.1)"
        );
    }
    let scope = oidc
        .scope
        .clone()
        .unwrap_or_else(|| "openid profile".into());
    anyhow::ensure!(
        scope.split(' ').any(|s| s == "openid"),
        "[proofing.oidc] scope {scope:?} must include openid"
    );
    let issuer_host = reqwest::Url::parse(&oidc.issuer)
        .ok()
        .and_then(|url| url.host_str().map(str::to_owned))
        .unwrap_or_else(|| oidc.issuer.clone());
    Ok(OidcSignIn {
        name: oidc.name.clone().unwrap_or(issuer_host),
        authorization_endpoint: oidc.authorization_endpoint.clone(),
        scope,
    })
}

fn eid_certificate_config(eid: &EidCertificateSetting) -> anyhow::Result<EidCertificateConfig> {
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
    Ok(EidCertificateConfig {
        trust_anchors,
        level: assurance("eid_certificate", &eid.level)?,
        revocation: RevocationCheck::parse(&eid.revocation).with_context(|| {
            format!(
                "[proofing.eid_certificate] revocation = {:?}: off, if-reachable or required",
                eid.revocation
            )
        })?,
    })
}

fn oidc_config(oidc: &OidcSetting) -> anyhow::Result<OidcConfig> {
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
    OidcConfig::new(
        oidc.issuer.clone(),
        oidc.audience.clone(),
        &jwks,
        assurance("oidc", &oidc.level)?,
        claims,
    )
    .map_err(|e| anyhow::anyhow!("{}: {e}", oidc.jwks_file.display()))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use clap::{CommandFactory, Parser};
    use serde_json::Value;

    use super::*;

    const EXAMPLE: &str = include_str!("../../../examples/splitid.toml");

    /// The command line as `splitid serve` reads it (the environment is clap's own layer).
    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        settings: Settings,
    }

    /// The example with every `# name = …` and `# [table]` line uncommented.
    fn example_uncommented() -> String {
        EXAMPLE
            .lines()
            .map(|line| match line.strip_prefix("# ") {
                Some(rest) if is_setting_line(rest) => rest,
                _ => line,
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn is_setting_line(text: &str) -> bool {
        let key = text.split(" = ").next().unwrap_or_default();
        let is_key = text.contains(" = ")
            && !key.is_empty()
            && key
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        is_key || text.starts_with('[')
    }

    /// Every key path of a TOML or JSON document (`keystore.kind`, `relying_party.uuid`),
    /// with `null`s left out.
    fn key_paths(value: &Value, prefix: &str, into: &mut BTreeSet<String>) {
        match value {
            Value::Object(map) => {
                for (key, value) in map {
                    if value.is_null() {
                        continue;
                    }
                    let path = if prefix.is_empty() {
                        key.clone()
                    } else {
                        format!("{prefix}.{key}")
                    };
                    key_paths(value, &path, into);
                    into.insert(path);
                }
            }
            Value::Array(items) if items.iter().all(Value::is_object) => {
                for item in items {
                    key_paths(item, prefix, into);
                }
            }
            _ => {}
        }
    }

    fn paths_of(value: &Value) -> BTreeSet<String> {
        let mut paths = BTreeSet::new();
        key_paths(value, "", &mut paths);
        paths
    }

    #[test]
    fn the_example_as_shipped_sets_nothing() {
        let settings: Settings = toml::from_str(EXAMPLE).unwrap();
        let json = serde_json::to_value(&settings).unwrap();
        assert_eq!(paths_of(&json), BTreeSet::from(["keystore".to_owned()]));
    }

    #[test]
    fn the_example_names_every_setting() {
        let text = example_uncommented();
        let written: toml::Table = toml::from_str(&text).unwrap();
        let written = serde_json::to_value(written).unwrap();
        // Parsing refuses unknown names; serialising back shows every field the table has,
        // defaults included: a setting the example leaves out is a path only on that side.
        let parsed: Settings = toml::from_str(&text).unwrap();
        let every = serde_json::to_value(&parsed).unwrap();
        assert_eq!(paths_of(&written), paths_of(&every));
        // And every command-line setting is one the file names (the key store's flags have
        // their own names on the command line).
        let file_names: BTreeSet<String> = paths_of(&every)
            .into_iter()
            .map(|path| path.rsplit('.').next().unwrap_or_default().to_owned())
            .collect();
        for argument in Cli::command().get_arguments() {
            let id = argument.get_id().as_str();
            if id != "config" && id != "help" {
                assert!(file_names.contains(id), "the example does not name {id}");
            }
        }
    }

    #[test]
    fn the_example_shows_the_defaults() {
        let example: Settings = toml::from_str(&example_uncommented()).unwrap();
        let defaults = Settings::default();
        assert_eq!(example.listen(), defaults.listen());
        assert_eq!(example.data(), defaults.data());
        assert_eq!(
            example.database_connections,
            Some(splitid_domain::store::DEFAULT_POSTGRES_CONNECTIONS)
        );
        assert_eq!(example.demo(), defaults.demo());
        assert_eq!(example.demo_phone(), defaults.demo_phone());
        assert_eq!(example.session_timeout(), defaults.session_timeout());
        assert_eq!(example.allow_2048(), defaults.allow_2048());
        assert_eq!(example.log_format(), defaults.log_format());
        assert_eq!(
            example.push_origins.unwrap(),
            splitid_domain::push::DEFAULT_PUSH_ORIGINS
        );
        assert_eq!(example.keystore.kind.as_deref(), Some("file"));
        assert_eq!(
            example.keystore.key_label.as_deref(),
            Some(DEFAULT_KEY_LABEL)
        );
        let relying_party = &example.relying_party.clone().unwrap()[0];
        assert_eq!(relying_party.levels, default_levels());
        assert!(!relying_party.share_device_ip);
        let proofing = example.proofing.unwrap();
        let eid = proofing.eid_certificate.unwrap();
        assert_eq!((eid.level, eid.revocation), (qualified(), if_reachable()));
        let oidc = proofing.oidc.unwrap();
        let claims = OidcClaims::default();
        assert_eq!(oidc.level, advanced());
        assert_eq!(
            oidc.semantics_identifier_claim,
            Some(claims.semantics_identifier)
        );
        assert_eq!(oidc.given_name_claim, Some(claims.given_name));
        assert_eq!(oidc.surname_claim, Some(claims.surname));
        assert!(!proofing.account.unwrap().enabled);
    }

    #[test]
    fn the_command_line_wins_over_the_file_and_turns_its_switches_off() {
        let file: Settings = toml::from_str(
            "listen = \"127.0.0.1:9\"\ndemo = true\nallow_2048 = true\nsession_timeout = 60\n\
             [keystore]\nkind = \"pkcs11\"\nmodule = \"/lib/hsm.so\"\n",
        )
        .unwrap();
        let cli = Cli::try_parse_from([
            "serve",
            "--demo=false",
            "--session-timeout",
            "5",
            "--pkcs11-token-label",
            "t",
        ])
        .unwrap()
        .settings;
        let merged = cli.over(file).unwrap();
        assert!(!merged.demo(), "--demo=false turns the file's demo off");
        assert!(
            merged.allow_2048(),
            "what the command line leaves out comes from the file"
        );
        assert_eq!(merged.session_timeout(), 5);
        assert_eq!(merged.listen(), "127.0.0.1:9".parse().unwrap());
        assert_eq!(merged.keystore.kind.as_deref(), Some("pkcs11"));
        assert_eq!(merged.keystore.module, Some(PathBuf::from("/lib/hsm.so")));
        assert_eq!(merged.keystore.token_label.as_deref(), Some("t"));

        let switched_on = Cli::try_parse_from(["serve", "--demo"]).unwrap().settings;
        assert!(switched_on.over(Settings::default()).unwrap().demo());
    }

    #[test]
    fn a_pin_in_the_file_survives_the_merge_to_be_refused() {
        let file: Settings = toml::from_str("[keystore]\npin = \"531642\"\n").unwrap();
        let merged = Settings::default().over(file).unwrap();
        let refusal = merged.keystore.config().unwrap_err().to_string();
        assert!(
            refusal.contains("pin_file") && !refusal.contains("531642"),
            "{refusal}"
        );
    }
}
