//! The service's certificate authority: created on first start, kept in the data directory
//! (certificates in the clear, private keys sealed by the key store), publishing its
//! certificates at the URLs written into every certificate it issues.

use std::fs;
use std::io::Write;
use std::path::Path;

use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::{Deserialize, Serialize};
use splitid_pki::{CaConfig, CaParts, CertificateAuthority, CertificateRequest, Level, Purpose};
use time::OffsetDateTime;

use crate::accounts::ProvenIdentity;
use crate::error::{ServiceError, ServiceResult};
use crate::keystore::KeyStore;
use crate::store::KeyPurpose;
use crate::{Config, Service};

const CA_FILE: &str = "ca.json";
const ROOT_KEY_CONTEXT: &str = "splitid/ca/root-key";
const ISSUING_KEY_CONTEXT: &str = "splitid/ca/issuing-key";

/// The CA as stored: certificates and sealed keys, base64.
#[derive(Serialize, Deserialize)]
struct StoredCa {
    test: bool,
    root_certificate: String,
    root_key_sealed: String,
    issuing_certificate: String,
    issuing_key_sealed: String,
}

/// The service's CA.
pub struct Ca {
    authority: CertificateAuthority,
}

/// What a certificate is issued for.
pub(crate) struct CertificateOrder<'a> {
    pub identity: &'a ProvenIdentity,
    pub document_number: &'a str,
    pub purpose: KeyPurpose,
    pub rsa_modulus: &'a [u8],
    pub not_before: OffsetDateTime,
}

fn ca_config(config: &Config, test: bool) -> CaConfig {
    CaConfig {
        test,
        country: "EE".into(),
        organization: "SplitID".into(),
        organization_identifier: "NTREE-00000000".into(),
        base_url: config.public_url.clone(),
    }
}

fn internal(e: impl std::fmt::Display) -> ServiceError {
    ServiceError::internal(format!("CA: {e}"))
}

impl Ca {
    /// Loads the CA from the data directory, or creates it: a test CA when the service runs
    /// in demo mode, so demo certificates can never pass for real ones.
    pub fn open_or_create(
        config: &Config,
        keys: &KeyStore,
        _now: OffsetDateTime,
    ) -> ServiceResult<Self> {
        let path = config.data_dir.join(CA_FILE);
        if path.exists() {
            let text = fs::read_to_string(&path).map_err(internal)?;
            let stored: StoredCa = serde_json::from_str(&text).map_err(internal)?;
            // Demo accounts are test accounts under a test CA: a server without --demo must
            // neither issue nor accept them, and a demo server must not issue self-asserted
            // identities under a real CA. So each mode runs only on its own kind of CA.
            if stored.test && !config.demo {
                return Err(ServiceError::internal(
                    "this data directory's CA is a test CA (made in demo mode): start it with --demo, or use a new data directory",
                ));
            }
            if !stored.test && config.demo {
                return Err(ServiceError::internal(
                    "this data directory's CA is a real (non-test) CA: demo mode cannot run on it; use a new data directory",
                ));
            }
            let parts = CaParts {
                root_cert_der: BASE64.decode(&stored.root_certificate).map_err(internal)?,
                root_key_pkcs8: keys.open(
                    &BASE64.decode(&stored.root_key_sealed).map_err(internal)?,
                    ROOT_KEY_CONTEXT,
                )?,
                issuing_cert_der: BASE64
                    .decode(&stored.issuing_certificate)
                    .map_err(internal)?,
                issuing_key_pkcs8: keys.open(
                    &BASE64
                        .decode(&stored.issuing_key_sealed)
                        .map_err(internal)?,
                    ISSUING_KEY_CONTEXT,
                )?,
            };
            let authority =
                CertificateAuthority::from_parts(&parts, &ca_config(config, stored.test))
                    .map_err(internal)?;
            return Ok(Ca { authority });
        }
        let authority =
            CertificateAuthority::generate(&ca_config(config, config.demo)).map_err(internal)?;
        let parts = authority.to_parts();
        let stored = StoredCa {
            test: config.demo,
            root_certificate: BASE64.encode(&parts.root_cert_der),
            root_key_sealed: BASE64.encode(keys.seal(&parts.root_key_pkcs8, ROOT_KEY_CONTEXT)?),
            issuing_certificate: BASE64.encode(&parts.issuing_cert_der),
            issuing_key_sealed: BASE64
                .encode(keys.seal(&parts.issuing_key_pkcs8, ISSUING_KEY_CONTEXT)?),
        };
        write_atomically(
            &path,
            serde_json::to_string_pretty(&stored)
                .map_err(internal)?
                .as_bytes(),
        )
        .map_err(internal)?;
        tracing::info!(test = config.demo, "created the certificate authority");
        Ok(Ca { authority })
    }

    /// Issues a certificate for a composite key (after its proof of possession was checked).
    pub(crate) fn issue(&self, order: &CertificateOrder<'_>) -> ServiceResult<Vec<u8>> {
        let level = if order.identity.level == "QUALIFIED" {
            Level::Qualified
        } else {
            Level::Advanced
        };
        let purpose = match order.purpose {
            KeyPurpose::Authentication => Purpose::Authentication,
            KeyPurpose::Signing => Purpose::Signing,
        };
        let request = CertificateRequest {
            given_name: order.identity.given_name.clone(),
            surname: order.identity.surname.clone(),
            semantics_identifier: order.identity.semantics_id.clone(),
            country: order.identity.country.clone(),
            document_number: order.document_number.to_owned(),
            rsa_modulus: order.rsa_modulus.to_vec(),
            purpose,
            level,
            not_before: order.not_before,
            serial: None,
        };
        self.authority.issue(&request).map_err(internal)
    }

    pub fn root_certificate_der(&self) -> Vec<u8> {
        self.authority.root_certificate_der().to_vec()
    }

    pub fn issuing_certificate_der(&self) -> Vec<u8> {
        self.authority.issuing_certificate_der().to_vec()
    }
}

/// Writes a file so that a crash leaves either the old or the new contents, never a mix.
fn write_atomically(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let temporary = path.with_extension("tmp");
    let mut file = fs::File::create(&temporary)?;
    file.write_all(contents)?;
    file.sync_all()?;
    fs::rename(&temporary, path)?;
    if let Some(parent) = path.parent() {
        fs::File::open(parent)?.sync_all()?;
    }
    Ok(())
}

/// `/pki`: the CA certificates, at the URLs written into issued certificates.
pub fn router() -> Router<Service> {
    Router::new()
        .route("/root-ca.crt", get(root_certificate))
        .route("/issuing-ca.crt", get(issuing_certificate))
}

async fn root_certificate(State(service): State<Service>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/pkix-cert")],
        service.ca().root_certificate_der(),
    )
}

async fn issuing_certificate(State(service): State<Service>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/pkix-cert")],
        service.ca().issuing_certificate_der(),
    )
}
