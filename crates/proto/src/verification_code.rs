//! The verification code (RP API v2 §1.8): `integer(SHA256(hash)[-2..]) mod 10000`, shown as
//! four digits. The relying party shows it next to the login button; the phone shows the same
//! code, so the person can see that the request on the phone is the one they started.

use std::fmt;

use sha2::{Digest, Sha256};

/// A four-digit verification code.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct VerificationCode(u16);

impl VerificationCode {
    /// The code for the raw hash bytes a relying party sends (not their base64 text). SHA-256
    /// is used whatever the hash's own algorithm.
    pub fn from_hash(hash: &[u8]) -> Self {
        let digest = Sha256::digest(hash);
        let last_two = u16::from_be_bytes([digest[30], digest[31]]);
        VerificationCode(last_two % 10_000)
    }

    /// A code from its number (0 to 9999), e.g. one a person typed.
    pub fn new(value: u16) -> Option<Self> {
        (value < 10_000).then_some(VerificationCode(value))
    }

    pub fn value(self) -> u16 {
        self.0
    }
}

impl fmt::Display for VerificationCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}", self.0)
    }
}

impl std::str::FromStr for VerificationCode {
    type Err = &'static str;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        const MESSAGE: &str = "a verification code is exactly four digits";
        if s.len() != 4 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(MESSAGE);
        }
        s.parse::<u16>().map(VerificationCode).map_err(|_| MESSAGE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code_of_sha256(text: &str) -> String {
        VerificationCode::from_hash(&Sha256::digest(text.as_bytes())).to_string()
    }

    /// Test vectors published with the Smart-ID Java client (docs/spec/rp-api.md §1.8).
    #[test]
    fn matches_the_published_test_vectors() {
        assert_eq!(
            VerificationCode::from_hash(&[0x1B, 0xBB]).to_string(),
            "4555"
        );
        assert_eq!(code_of_sha256("Hello World!"), "7712");
        assert_eq!(code_of_sha256("Go ahead, make my day."), "7782");
        assert_eq!(
            code_of_sha256("Hedgehogs – why can't they just share the hedge?"),
            "4612"
        );
        assert_eq!(code_of_sha256("You're gonna need a bigger boat."), "1464");
        assert_eq!(code_of_sha256("Say 'hello' to my little friend!"), "4240");
    }

    #[test]
    fn parses_exactly_four_digits() {
        assert_eq!("0042".parse::<VerificationCode>().unwrap().value(), 42);
        for bad in ["42", "12345", "12a4", "", "-123"] {
            assert!(bad.parse::<VerificationCode>().is_err(), "{bad}");
        }
        assert!(VerificationCode::new(10_000).is_none());
    }
}
