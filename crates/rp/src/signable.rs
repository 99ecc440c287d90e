//! What the person signs: data the relying party keeps, whose hash it sends.

use aws_lc_rs::digest;
use splitid_proto::rp_v2::HashType;
use splitid_proto::verification_code::VerificationCode;

use crate::error::{RpError, RpResult};

/// Data to be signed and its hash. The relying party keeps the data: the signature is
/// verified over it, so an answer can only match the request it was made for.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SignableData {
    data: Vec<u8>,
    hash_type: HashType,
    hash: Vec<u8>,
}

impl SignableData {
    pub fn new(data: impl Into<Vec<u8>>, hash_type: HashType) -> Self {
        let data = data.into();
        let algorithm = match hash_type {
            HashType::Sha256 => &digest::SHA256,
            HashType::Sha384 => &digest::SHA384,
            HashType::Sha512 => &digest::SHA512,
        };
        let hash = digest::digest(algorithm, &data).as_ref().to_vec();
        SignableData {
            data,
            hash_type,
            hash,
        }
    }

    /// A fresh random login challenge: 64 bytes from the operating system, SHA-512.
    pub fn random_challenge() -> RpResult<Self> {
        let mut challenge = vec![0u8; 64];
        aws_lc_rs::rand::fill(&mut challenge)
            .map_err(|_| RpError::Config("the operating system gave no randomness".into()))?;
        Ok(Self::new(challenge, HashType::Sha512))
    }

    pub fn data(&self) -> &[u8] {
        &self.data
    }

    pub fn hash(&self) -> &[u8] {
        &self.hash
    }

    pub fn hash_type(&self) -> HashType {
        self.hash_type
    }

    /// The code to show the person, the same the phone shows.
    pub fn verification_code(&self) -> VerificationCode {
        VerificationCode::from_hash(&self.hash)
    }
}
