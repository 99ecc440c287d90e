//! What the CA tests share: a test CA's configuration and one CA generated once per test
//! binary (ECDSA key generation and self-signing make it the slow part of a test).

use std::sync::LazyLock;

use splitid_pki::{CaConfig, CertificateAuthority};

/// The base URL the test CA writes into AIA, CRL distribution points and policies.
pub const BASE: &str = "https://id.example.org";

pub fn test_config() -> CaConfig {
    CaConfig {
        test: true,
        country: "EE".into(),
        organization: "SplitID Test OÜ".into(),
        organization_identifier: "NTREE-00000000".into(),
        base_url: BASE.into(),
    }
}

/// One CA for all tests that do not test CA generation itself.
pub static CA: LazyLock<CertificateAuthority> =
    LazyLock::new(|| CertificateAuthority::generate(&test_config()).expect("CA"));
