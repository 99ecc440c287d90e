//! Who a person is, as identity proofing established it: what an account's certificates
//! certify (the CA's input) and what proofing yields (the accounts' output).

use serde::{Deserialize, Serialize};

/// Who the person is, as proven at registration.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProvenIdentity {
    pub semantics_id: String,
    pub given_name: String,
    pub surname: String,
    pub country: String,
    pub level: String,
    pub method: String,
    /// What proved it (recorded with the account; never secrets).
    #[serde(default)]
    pub evidence: serde_json::Value,
}
