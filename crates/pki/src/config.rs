//! What the operator decides about the CA: who runs it, whether it is a test CA, where it publishes.

use crate::error::{PkiError, Result};

/// Configuration of a SplitID certificate authority.
///
/// The organisation fields go into the CA certificates' subjects when the CA is generated; once
/// a CA exists its names come from its certificates, so changing them later has no effect.
/// `base_url` is used for every certificate issued, so it may change (e.g. a new host name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaConfig {
    /// A test CA: its names start with "TEST of " so that no relying party mistakes its
    /// certificates for real ones, and its base URL may use plain `http` (local development).
    pub test: bool,
    /// ISO 3166 two-letter country of the operator (`EE`).
    pub country: String,
    /// The operator's legal name.
    pub organization: String,
    /// The operator's ETSI organisation identifier, e.g. `NTREE-00000000`.
    pub organization_identifier: String,
    /// Where the service publishes CA certificates, CRLs, OCSP and the PKI disclosure statement,
    /// e.g. `https://id.example.org` (a trailing `/` is ignored).
    pub base_url: String,
}

/// The URLs the service must answer on, all derived from [`CaConfig::base_url`].
///
/// Certificates point at these, so the HTTP layer must serve exactly these paths.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicationUrls {
    /// The root CA certificate (DER): caIssuers of the issuing CA certificate.
    pub root_ca_certificate: String,
    /// The root CA's CRL (the ARL, covering the issuing CA): CRL DP of the issuing CA certificate.
    pub root_ca_crl: String,
    /// The issuing CA certificate (DER): caIssuers of every end-user certificate.
    pub issuing_ca_certificate: String,
    /// The issuing CA's CRL: CRL DP of every end-user certificate.
    pub issuing_ca_crl: String,
    /// The OCSP responder for end-user certificates.
    pub ocsp: String,
    /// The PKI disclosure statement (English), referenced by QcPDS.
    pub pds: String,
}

/// Language of the PKI disclosure statement, as QcPDS requires (ISO 639-1).
pub(crate) const PDS_LANGUAGE: &str = "en";

impl CaConfig {
    /// Checks that every field can go into a conforming certificate.
    pub fn validate(&self) -> Result<()> {
        if !is_country_code(&self.country) {
            return Err(PkiError::Config(
                "country must be two upper-case letters (ISO 3166)",
            ));
        }
        check_name_field(
            &self.organization,
            "organization must be 1..=64 printable characters",
        )?;
        check_name_field(
            &self.organization_identifier,
            "organization_identifier must be 1..=64 printable characters",
        )?;
        self.check_base_url()
    }

    /// The publication URLs derived from the base URL.
    pub fn urls(&self) -> PublicationUrls {
        let base = self.base_url.trim_end_matches('/');
        PublicationUrls {
            root_ca_certificate: format!("{base}/pki/root-ca.crt"),
            root_ca_crl: format!("{base}/pki/root-ca.crl"),
            issuing_ca_certificate: format!("{base}/pki/issuing-ca.crt"),
            issuing_ca_crl: format!("{base}/pki/issuing-ca.crl"),
            ocsp: format!("{base}/pki/ocsp"),
            pds: format!("{base}/pki/pds"),
        }
    }

    /// The URLs become IA5String URIs in certificates, and EN 319 412-5 wants the QcPDS location
    /// to be `https`; only a test CA may publish over plain `http`.
    fn check_base_url(&self) -> Result<()> {
        let url = self.base_url.trim_end_matches('/');
        let https = url.strip_prefix("https://");
        let http = url.strip_prefix("http://").filter(|_| self.test);
        let Some(rest) = https.or(http) else {
            return Err(PkiError::Config(
                "base_url must start with https:// (http:// is allowed for test CAs only)",
            ));
        };
        let plain_ascii = rest.bytes().all(|b| b.is_ascii_graphic());
        if rest.is_empty() || !plain_ascii || url.len() > 200 {
            return Err(PkiError::Config(
                "base_url must have a host and at most 200 visible ASCII characters",
            ));
        }
        if rest.contains(['?', '#']) {
            return Err(PkiError::Config(
                "base_url must not have a query or fragment",
            ));
        }
        Ok(())
    }
}

fn is_country_code(s: &str) -> bool {
    s.len() == 2 && s.bytes().all(|b| b.is_ascii_uppercase())
}

/// 64 characters is the RFC 5280 upper bound for the name attributes the CA subject uses.
fn check_name_field(value: &str, problem: &'static str) -> Result<()> {
    let ok = !value.trim().is_empty()
        && value.chars().count() <= 64
        && !value.chars().any(char::is_control);
    if ok {
        Ok(())
    } else {
        Err(PkiError::Config(problem))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(base_url: &str, test: bool) -> CaConfig {
        CaConfig {
            test,
            country: "EE".into(),
            organization: "SplitID".into(),
            organization_identifier: "NTREE-00000000".into(),
            base_url: base_url.into(),
        }
    }

    #[test]
    fn urls_follow_the_base_url_without_double_slashes() {
        let urls = config("https://id.example.org/", false).urls();
        assert_eq!(
            urls.issuing_ca_certificate,
            "https://id.example.org/pki/issuing-ca.crt"
        );
        assert_eq!(
            urls.issuing_ca_crl,
            "https://id.example.org/pki/issuing-ca.crl"
        );
        assert_eq!(urls.ocsp, "https://id.example.org/pki/ocsp");
        assert_eq!(urls.pds, "https://id.example.org/pki/pds");
    }

    #[test]
    fn plain_http_only_for_test_cas() {
        assert!(config("http://localhost:8080", true).validate().is_ok());
        assert!(config("http://localhost:8080", false).validate().is_err());
        assert!(config("https://id.example.org", false).validate().is_ok());
    }

    #[test]
    fn malformed_fields_are_refused() {
        for url in [
            "",
            "ftp://x",
            "https://",
            "https://a b",
            "https://x/?q=1",
            "https://ä.ee",
        ] {
            assert!(config(url, true).validate().is_err(), "{url}");
        }
        let mut c = config("https://id.example.org", false);
        c.country = "ee".into();
        assert!(c.validate().is_err());
        c.country = "EE".into();
        c.organization = " ".into();
        assert!(c.validate().is_err());
    }
}
