//! `splitid-rp`: the relying party's side of SplitID and of the Smart-ID RP API v2.
//!
//! Start a login, a signature or a certificate choice; show the verification code; wait
//! (long polling); get back either a typed error ([`RpError`]) or a [`Completed`] session
//! whose certificate chains to your trust anchors, is of the level you asked, made for the
//! purpose, and whose signature verifies over the data you kept:
//!
//! ```no_run
//! # async fn demo() -> Result<(), splitid_rp::RpError> {
//! use splitid_rp::{RpClient, RpConfig, Target, TrustConfig};
//! use splitid_rp::proto::rp_v2::{CertificateLevel, Interaction};
//!
//! let trust = TrustConfig::from_pem(&std::fs::read("root-ca.pem").unwrap())?
//!     .with_intermediates(vec![std::fs::read("issuing-ca.crt").unwrap()]);
//! let config = RpConfig::new(
//!     "http://127.0.0.1:8080/v2",
//!     "00000000-0000-4000-8000-000000000000",
//!     "DEMO",
//! );
//! let client = RpClient::new(config, trust)?;
//! let login = client
//!     .start_authentication(
//!         &Target::Person("PNOEE-30303039914".into()),
//!         CertificateLevel::Qualified,
//!         &[Interaction::DisplayTextAndPin { text: "Log in to DEMO".into() }],
//!     )
//!     .await?;
//! println!("Verification code: {}", login.verification_code.unwrap());
//! let person = client.wait(&login).await?.certificate.identity;
//! println!("Hello, {} {}", person.given_name, person.surname);
//! # Ok(()) }
//! ```
//!
//! Against Smart-ID, only the configuration differs: its base URL, your UUID and name, and
//! SK's root and intermediate certificates as trust anchors.

mod client;
pub mod device_link;
mod error;
mod identity;
pub mod ocsp;
mod signable;
mod v3;
mod validate;

pub use client::{Completed, PendingSession, RpClient, RpConfig, SessionKind, Target};
pub use error::{RpError, RpResult};
pub use identity::{Identity, date_of_birth};
pub use signable::SignableData;
pub use v3::PendingV3;
pub use validate::{RevocationPolicy, TrustConfig, ValidatedCertificate, pem_certificates};

/// The wire types, for interactions, levels and hash types.
pub use splitid_proto as proto;
