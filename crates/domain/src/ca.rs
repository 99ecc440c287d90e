//! The service's certificate authority: created on first start, kept in the data directory
//! (certificates in the clear, private keys sealed by the key store, or with a PKCS#11 key
//! store, the root and issuing CA keys in the token and only their labels here), publishing at the URLs
//! written into every certificate it issues: the CA certificates, the CRLs of both CAs and
//! the OCSP responder (RFC 6960 over HTTP, POST and GET as in its appendix A.1).
//!
//! Revocation status is read from the database on every OCSP request, and each CRL is
//! re-signed as soon as the number of revocations in the database changes, so a revocation
//! committed by any process (this one, an operator's tool, another node) shows at once. The
//! latest CRL of each CA is kept in the database with its number, which only ever grows.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock, RwLockReadGuard};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::{Deserialize, Serialize};
use splitid_pki::{
    CaConfig, CaKeyParts, CaParts, CertificateAuthority, CertificateRequest, CertificateStatus,
    CrlTerms, Level, OcspQuery, Purpose, ResponderParts, RevocationReason, RevokedCertificate,
    SerialNumber,
};
use time::{Duration, OffsetDateTime};

use crate::error::{ServiceError, ServiceResult};
use crate::keystore::{KeyStore, TokenKeyRef};
use crate::store::{KeyPurpose, Revocation, SerialStatus, StoredCrl};
use crate::{Config, Service};
use splitid_evidence::ProvenIdentity;

/// A CRL promises the next one within a day; a new one is signed after half of that, or at
/// once when a revocation is added.
const CRL_VALIDITY: Duration = Duration::DAY;

/// The two CRLs the service publishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CrlIssuer {
    /// The root CA's: covers the issuing CA certificate (never revoked: empty).
    Root,
    /// The issuing CA's: covers every end-user certificate.
    Issuing,
}

impl CrlIssuer {
    fn as_str(self) -> &'static str {
        match self {
            CrlIssuer::Root => "root",
            CrlIssuer::Issuing => "issuing",
        }
    }
}

pub(crate) const CA_FILE: &str = "ca.json";

/// The data directory's CA file (its keys sealed under the KEK), if there is one.
pub(crate) fn ca_file(data_dir: &Path) -> Option<std::path::PathBuf> {
    Some(data_dir.join(CA_FILE)).filter(|path| path.exists())
}
const ROOT_KEY_CONTEXT: &str = "splitid/ca/root-key";
const ISSUING_KEY_CONTEXT: &str = "splitid/ca/issuing-key";
const RESPONDER_KEY_CONTEXT: &str = "splitid/ca/ocsp-responder-key";

/// Whether the CA stored in a data directory is a test CA (made in demo mode); `None` when
/// there is none or it cannot be read. Operators' tools open a data directory in its own mode.
pub fn stored_ca_is_test(data_dir: &Path) -> Option<bool> {
    let text = fs::read_to_string(data_dir.join(CA_FILE)).ok()?;
    serde_json::from_str::<StoredCa>(&text)
        .ok()
        .map(|ca| ca.test)
}

/// The CA as stored: certificates and sealed keys, base64. Files written before the OCSP
/// responder existed lack its two fields; the responder is then made and the file rewritten.
/// `ca_keys` says where the root and issuing CA keys are: absent (as in every file written
/// before PKCS#11 support) for keys sealed here, or the token and the keys' labels.
#[derive(Serialize, Deserialize)]
struct StoredCa {
    test: bool,
    #[serde(default, skip_serializing_if = "CaKeyLocation::is_sealed")]
    ca_keys: CaKeyLocation,
    root_certificate: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    root_key_sealed: Option<String>,
    issuing_certificate: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    issuing_key_sealed: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ocsp_responder_certificate: Option<String>,
    /// The OCSP responder's key is sealed by the key store in both modes (with PKCS#11, under
    /// the token's KEK): it is not a CA key, see `splitid_pki::ResponderParts`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ocsp_responder_key_sealed: Option<String>,
}

/// Where the CA's root and issuing keys are.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
enum CaKeyLocation {
    /// Sealed by the key store, in this file (`root_key_sealed`, `issuing_key_sealed`).
    #[default]
    Sealed,
    /// Generated in a PKCS#11 token and never out of it; found by label and CKA_ID.
    Pkcs11 {
        token_label: String,
        root: TokenKeyRef,
        issuing: TokenKeyRef,
    },
}

impl CaKeyLocation {
    fn is_sealed(&self) -> bool {
        *self == CaKeyLocation::Sealed
    }
}

impl StoredCa {
    fn seal(
        parts: &CaParts,
        test: bool,
        location: &CaKeyLocation,
        keys: &KeyStore,
    ) -> ServiceResult<Self> {
        let responder = parts
            .ocsp_responder
            .as_ref()
            .ok_or_else(|| internal("a CA without an OCSP responder"))?;
        let sealed = |key: &CaKeyParts, context| -> ServiceResult<Option<String>> {
            match (key, location) {
                (CaKeyParts::Pkcs8(pkcs8), CaKeyLocation::Sealed) => {
                    Ok(Some(BASE64.encode(keys.seal(pkcs8, context)?)))
                }
                (CaKeyParts::External(_), CaKeyLocation::Pkcs11 { .. }) => Ok(None),
                _ => Err(internal("the CA keys are not where ca.json would say")),
            }
        };
        Ok(StoredCa {
            test,
            ca_keys: location.clone(),
            root_certificate: BASE64.encode(&parts.root_cert_der),
            root_key_sealed: sealed(&parts.root_key, ROOT_KEY_CONTEXT)?,
            issuing_certificate: BASE64.encode(&parts.issuing_cert_der),
            issuing_key_sealed: sealed(&parts.issuing_key, ISSUING_KEY_CONTEXT)?,
            ocsp_responder_certificate: Some(BASE64.encode(&responder.cert_der)),
            ocsp_responder_key_sealed: Some(
                BASE64.encode(keys.seal(&responder.key_pkcs8, RESPONDER_KEY_CONTEXT)?),
            ),
        })
    }

    /// The CA keys as the pki crate takes them: unsealed, or the token's keys found by label.
    /// A data directory made with one key store cannot be opened with the other: say so.
    fn ca_keys(&self, keys: &KeyStore) -> ServiceResult<(CaKeyParts, CaKeyParts)> {
        match (&self.ca_keys, keys.token()) {
            (CaKeyLocation::Sealed, None) => {
                let unsealed = |sealed: &Option<String>, context| -> ServiceResult<_> {
                    let sealed = sealed
                        .as_deref()
                        .ok_or_else(|| internal("ca.json lacks a sealed CA key"))?;
                    Ok(CaKeyParts::Pkcs8(keys.open(
                        &BASE64.decode(sealed).map_err(internal)?,
                        context,
                    )?))
                };
                Ok((
                    unsealed(&self.root_key_sealed, ROOT_KEY_CONTEXT)?,
                    unsealed(&self.issuing_key_sealed, ISSUING_KEY_CONTEXT)?,
                ))
            }
            (
                CaKeyLocation::Pkcs11 {
                    token_label,
                    root,
                    issuing,
                },
                Some(token),
            ) => {
                if token_label != token.token_label() {
                    return Err(ServiceError::internal(format!(
                        "this data directory's CA keys are in the PKCS#11 token {token_label:?}, but the key store is configured with token {:?}",
                        token.token_label()
                    )));
                }
                Ok((
                    CaKeyParts::External(Arc::new(token.ca_key(root)?)),
                    CaKeyParts::External(Arc::new(token.ca_key(issuing)?)),
                ))
            }
            (
                CaKeyLocation::Pkcs11 {
                    token_label, root, ..
                },
                None,
            ) => Err(ServiceError::internal(format!(
                "this data directory's CA keys are in the PKCS#11 token {token_label:?} (root key {:?}): configure the key store with kind = \"pkcs11\" ([keystore] in the configuration, or --keystore pkcs11)",
                root.label
            ))),
            (CaKeyLocation::Sealed, Some(token)) => Err(ServiceError::internal(format!(
                "this data directory's CA keys are sealed under its file key-encryption key (kek.key), but the key store is the PKCS#11 token {:?}: use the file key store for it, or a new data directory",
                token.token_label()
            ))),
        }
    }

    fn open(&self, keys: &KeyStore) -> ServiceResult<CaParts> {
        let unsealed = |sealed: &str, context| -> ServiceResult<_> {
            Ok(keys.open(&BASE64.decode(sealed).map_err(internal)?, context)?)
        };
        let (root_key, issuing_key) = self.ca_keys(keys)?;
        let ocsp_responder = match (
            &self.ocsp_responder_certificate,
            &self.ocsp_responder_key_sealed,
        ) {
            (Some(certificate), Some(key)) => Some(ResponderParts {
                cert_der: BASE64.decode(certificate).map_err(internal)?,
                key_pkcs8: unsealed(key, RESPONDER_KEY_CONTEXT)?,
            }),
            _ => None,
        };
        Ok(CaParts {
            root_cert_der: BASE64.decode(&self.root_certificate).map_err(internal)?,
            root_key,
            issuing_cert_der: BASE64.decode(&self.issuing_certificate).map_err(internal)?,
            issuing_key,
            ocsp_responder,
        })
    }

    fn write(&self, path: &Path) -> ServiceResult<()> {
        let text = serde_json::to_string_pretty(self).map_err(internal)?;
        write_atomically(path, text.as_bytes()).map_err(internal)
    }
}

/// The service's CA. The lock is only ever written to replace the OCSP responder.
pub struct Ca {
    authority: RwLock<CertificateAuthority>,
    /// Where it is stored, whether it is a test CA and where its keys are (for rewriting it).
    path: PathBuf,
    test: bool,
    key_location: CaKeyLocation,
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
            let parts = stored.open(keys)?;
            let authority =
                CertificateAuthority::from_parts(&parts, &ca_config(config, stored.test))
                    .map_err(internal)?;
            // A new (or renewed) OCSP responder is kept, so every start answers with the same.
            let responder = authority.ocsp_responder_certificate_der();
            if parts.ocsp_responder.as_ref().map(|r| r.cert_der.as_slice()) != Some(responder) {
                StoredCa::seal(&authority.to_parts(), stored.test, &stored.ca_keys, keys)?
                    .write(&path)?;
                tracing::info!("certified a new OCSP responder");
            }
            return Ok(Ca {
                authority: RwLock::new(authority),
                path,
                test: stored.test,
                key_location: stored.ca_keys,
            });
        }
        let ca_config = ca_config(config, config.demo);
        let (authority, key_location) = match keys.token() {
            None => (
                CertificateAuthority::generate(&ca_config).map_err(internal)?,
                CaKeyLocation::Sealed,
            ),
            // The CA keys are made in the token; every CA signature from the two CA
            // certificates on is the token's.
            Some(token) => {
                let root = token.generate_ca_key("root")?;
                let issuing = token.generate_ca_key("issuing")?;
                let location = CaKeyLocation::Pkcs11 {
                    token_label: token.token_label().to_owned(),
                    root: root.reference().clone(),
                    issuing: issuing.reference().clone(),
                };
                let authority = CertificateAuthority::generate_with_signers(
                    &ca_config,
                    Arc::new(root),
                    Arc::new(issuing),
                )
                .map_err(internal)?;
                (authority, location)
            }
        };
        StoredCa::seal(&authority.to_parts(), config.demo, &key_location, keys)?.write(&path)?;
        tracing::info!(
            test = config.demo,
            keys = if key_location.is_sealed() {
                "sealed"
            } else {
                "pkcs11"
            },
            "created the certificate authority"
        );
        Ok(Ca {
            authority: RwLock::new(authority),
            path,
            test: config.demo,
            key_location,
        })
    }

    /// The CA for signing. (A poisoned lock still holds a consistent CA: the only writer
    /// replaces it whole.)
    fn authority(&self) -> RwLockReadGuard<'_, CertificateAuthority> {
        self.authority.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Certifies a new OCSP responder when the current one is within its renewal period,
    /// and stores it; the service runs this daily, so a long-running server never answers
    /// with an expired responder certificate.
    pub(crate) fn renew_ocsp_responder_if_due(&self, keys: &KeyStore) -> ServiceResult<bool> {
        let mut authority = self.authority.write().unwrap_or_else(|e| e.into_inner());
        let renewed = authority
            .renew_ocsp_responder_if_due(OffsetDateTime::now_utc())
            .map_err(internal)?;
        if renewed {
            StoredCa::seal(&authority.to_parts(), self.test, &self.key_location, keys)?
                .write(&self.path)?;
            tracing::info!("certified a new OCSP responder");
        }
        Ok(renewed)
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
        self.authority().issue(&request).map_err(internal)
    }

    pub fn root_certificate_der(&self) -> Vec<u8> {
        self.authority().root_certificate_der().to_vec()
    }

    pub fn issuing_certificate_der(&self) -> Vec<u8> {
        self.authority().issuing_certificate_der().to_vec()
    }
}

/// The serial number of a certificate the CA issued, lower-case hex (as revocations and the
/// OCSP lookup key it).
pub(crate) fn certificate_serial(certificate: &[u8]) -> ServiceResult<String> {
    let identity = splitid_pki::parse_identity(certificate).map_err(internal)?;
    Ok(identity.serial.to_hex())
}

impl Service {
    /// Fills in the serial numbers of keys stored before they were recorded (done on start).
    pub(crate) async fn record_missing_serials(&self) -> ServiceResult<()> {
        for (account, purpose, certificate) in self.store().keys_without_serial().await? {
            match certificate_serial(&certificate) {
                Ok(serial) => {
                    self.store()
                        .set_key_serial(account, purpose, &serial)
                        .await?
                }
                Err(error) => tracing::warn!(
                    %account, purpose = purpose.as_str(), %error,
                    "a stored certificate is unreadable; OCSP will call it unknown"
                ),
            }
        }
        Ok(())
    }

    /// The OCSP response (DER) to a DER request: `malformedRequest` for one that does not
    /// parse, `internalError` when the database cannot answer, otherwise signed statuses.
    pub async fn ocsp_response(&self, request: &[u8]) -> Vec<u8> {
        let query = match OcspQuery::from_der(request) {
            Ok(query) => query,
            Err(problem) => {
                tracing::debug!(%problem, "malformed OCSP request");
                return OcspQuery::malformed_response();
            }
        };
        match self.answer_ocsp(&query).await {
            Ok(response) => response,
            Err(error) => {
                tracing::error!(%error, "OCSP answer failed");
                OcspQuery::internal_error_response()
            }
        }
    }

    async fn answer_ocsp(&self, query: &OcspQuery) -> ServiceResult<Vec<u8>> {
        let mut statuses: Vec<(SerialNumber, CertificateStatus)> = Vec::new();
        for serial in query.serials() {
            let status = match self.store().serial_status(&serial.to_hex()).await? {
                SerialStatus::NotIssued => CertificateStatus::Unknown,
                SerialStatus::Good => CertificateStatus::Good,
                SerialStatus::Revoked(revocation) => CertificateStatus::Revoked {
                    revoked_at: revocation.revoked_at,
                    reason: reason(&revocation)?,
                },
            };
            statuses.push((serial, status));
        }
        let lookup = |serial: &SerialNumber| {
            statuses
                .iter()
                .find(|(s, _)| s == serial)
                .map_or(CertificateStatus::Unknown, |(_, status)| *status)
        };
        self.ca()
            .authority()
            .ocsp_response(query, self.now(), lookup)
            .map_err(internal)
    }

    /// The current CRL (DER) of the root or issuing CA: the stored one while it lists every
    /// revocation and is less than half its validity old, otherwise a newly signed one with
    /// the next number.
    pub async fn current_crl(&self, issuer: CrlIssuer) -> ServiceResult<Vec<u8>> {
        // Another process may store a CRL between our read and our write; then we serve
        // theirs (read again) rather than give two CRLs one number.
        for _ in 0..5 {
            let now = self.now();
            let revocations = match issuer {
                CrlIssuer::Root => 0,
                CrlIssuer::Issuing => self.store().revocation_count().await?,
            };
            let stored = self.store().crl(issuer.as_str()).await?;
            if let Some(crl) = &stored {
                let fresh = now >= crl.this_update && now < crl.this_update + CRL_VALIDITY / 2;
                if crl.revocations == revocations && fresh {
                    return Ok(crl.der.clone());
                }
            }
            let crl = self.sign_crl(issuer, stored.as_ref(), now).await?;
            let replaces = stored.as_ref().map(|crl| crl.number);
            if self
                .store()
                .replace_crl(issuer.as_str(), replaces, &crl)
                .await?
            {
                tracing::info!(
                    ca = issuer.as_str(),
                    number = crl.number,
                    revoked = crl.revocations,
                    "signed a CRL"
                );
                return Ok(crl.der);
            }
        }
        Err(internal("the CRL kept changing under us"))
    }

    async fn sign_crl(
        &self,
        issuer: CrlIssuer,
        previous: Option<&StoredCrl>,
        now: OffsetDateTime,
    ) -> ServiceResult<StoredCrl> {
        let number = previous.map_or(1, |crl| crl.number + 1);
        let terms = CrlTerms {
            number: u64::try_from(number).map_err(internal)?,
            this_update: now,
            next_update: now + CRL_VALIDITY,
        };
        let (der, revocations) = match issuer {
            CrlIssuer::Root => (self.ca().authority().root_crl(terms).map_err(internal)?, 0),
            CrlIssuer::Issuing => {
                let revoked = self.store().revocations().await?;
                let entries = revoked
                    .iter()
                    .map(revoked_certificate)
                    .collect::<ServiceResult<Vec<_>>>()?;
                let der = self
                    .ca()
                    .authority()
                    .issuing_crl(terms, &entries)
                    .map_err(internal)?;
                (der, i64::try_from(revoked.len()).map_err(internal)?)
            }
        };
        Ok(StoredCrl {
            number,
            revocations,
            this_update: terms.this_update,
            next_update: terms.next_update,
            der,
        })
    }
}

fn reason(revocation: &Revocation) -> ServiceResult<RevocationReason> {
    RevocationReason::from_name(revocation.reason)
        .ok_or_else(|| internal(format!("unknown revocation reason {}", revocation.reason)))
}

fn revoked_certificate(revocation: &Revocation) -> ServiceResult<RevokedCertificate> {
    let octets = hex::decode(&revocation.serial).map_err(internal)?;
    Ok(RevokedCertificate {
        serial: SerialNumber::from_be_bytes(&octets).map_err(internal)?,
        revoked_at: revocation.revoked_at,
        reason: reason(revocation)?,
    })
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
