//! SplitID's wire types, shared by the server, the app and the relying-party SDK.
//!
//! * [`app_v1`]: the app API between the SplitID app and the server.
//! * [`identifiers`]: ETSI semantics identifiers (`PNOEE-…`) and document numbers.
//! * [`problem`]: the error body every API answers with.
//! * [`verification_code`]: the 4-digit code shown at the relying party and on the phone.
//! * [`rp_v2`]: the Smart-ID-compatible relying-party REST API v2: request bodies with
//!   validation that says exactly what is wrong, and the responses.
//! * [`rp_v3`]: RP API v3's computed values: device links and their `authCode`, the callback's
//!   digests, the ACSP_V2 payload.
//!
//! This crate knows nothing of storage, HTTP servers or cryptographic keys.

pub mod app_v1;
pub mod identifiers;
pub mod problem;
pub mod rp_v2;
pub mod rp_v3;
pub mod verification_code;

pub use identifiers::{DocumentNumber, IdentifierError, SemanticsIdentifier};
pub use verification_code::VerificationCode;
