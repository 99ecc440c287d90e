//! VAPID (RFC 8292): the service identifies itself to push services with a token signed by
//! its ECDSA P-256 key, whose public half the app gave the browser when subscribing (so a
//! subscription accepts messages from this service only).

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use zeroize::Zeroizing;

use crate::base64url;

/// Longest a token may be valid (RFC 8292 §2: no more than 24 hours).
const TOKEN_LIFETIME_SECONDS: i64 = 12 * 3600;

#[derive(Debug, thiserror::Error)]
pub enum VapidError {
    #[error("the VAPID key is not a P-256 PKCS#8 key")]
    BadKey,
    #[error("making or using the VAPID key failed")]
    Crypto,
}

/// The service's VAPID key pair.
pub struct VapidKey {
    pair: EcdsaKeyPair,
}

impl VapidKey {
    /// A new key, as PKCS#8 (to be sealed and stored).
    pub fn generate() -> Result<Zeroizing<Vec<u8>>, VapidError> {
        let document =
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
                .map_err(|_| VapidError::Crypto)?;
        Ok(Zeroizing::new(document.as_ref().to_vec()))
    }

    pub fn from_pkcs8(pkcs8: &[u8]) -> Result<Self, VapidError> {
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8)
            .map_err(|_| VapidError::BadKey)?;
        Ok(VapidKey { pair })
    }

    /// The public key as the browser's `applicationServerKey` wants it: the uncompressed point,
    /// base64url.
    pub fn public_key(&self) -> String {
        base64url(self.pair.public_key().as_ref())
    }

    /// The `Authorization` header for a push service at `audience` (an origin), valid from
    /// `now` (Unix seconds) for twelve hours; `contact` is the operator's `mailto:` or `https:`
    /// address (the `sub` claim, left out without one). Written `t=…,k=…` without a space,
    /// which every reader of RFC 8292 accepts.
    pub fn authorization(
        &self,
        audience: &str,
        contact: Option<&str>,
        now: i64,
    ) -> Result<String, VapidError> {
        let header = base64url(br#"{"typ":"JWT","alg":"ES256"}"#);
        let mut claims = serde_json::json!({
            "aud": audience,
            "exp": now + TOKEN_LIFETIME_SECONDS,
        });
        if let Some(contact) = contact {
            claims["sub"] = contact.into();
        }
        let claims = base64url(claims.to_string().as_bytes());
        let signed = format!("{header}.{claims}");
        let signature = self
            .pair
            .sign(&SystemRandom::new(), signed.as_bytes())
            .map_err(|_| VapidError::Crypto)?;
        Ok(format!(
            "vapid t={signed}.{},k={}",
            base64url(signature.as_ref()),
            self.public_key()
        ))
    }
}

#[cfg(test)]
mod tests {
    use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED, UnparsedPublicKey};

    use super::*;
    use crate::from_base64url;

    #[test]
    fn the_token_carries_the_audience_expiry_and_contact_and_verifies_under_the_public_key() {
        let key = VapidKey::from_pkcs8(&VapidKey::generate().unwrap()).unwrap();
        let header = key
            .authorization(
                "https://push.example:8443",
                Some("mailto:ops@example.org"),
                1_000_000,
            )
            .unwrap();
        let rest = header.strip_prefix("vapid t=").unwrap();
        let (token, public) = rest.split_once(",k=").unwrap();
        assert_eq!(public, key.public_key());
        let public = from_base64url(public).unwrap();
        assert_eq!((public.len(), public[0]), (65, 4));

        let (signed, signature) = token.rsplit_once('.').unwrap();
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &public)
            .verify(signed.as_bytes(), &from_base64url(signature).unwrap())
            .unwrap();
        let (header, claims) = signed.split_once('.').unwrap();
        let header: serde_json::Value =
            serde_json::from_slice(&from_base64url(header).unwrap()).unwrap();
        assert_eq!(header["alg"], "ES256");
        let claims: serde_json::Value =
            serde_json::from_slice(&from_base64url(claims).unwrap()).unwrap();
        assert_eq!(claims["aud"], "https://push.example:8443");
        assert_eq!(claims["exp"], 1_000_000 + 12 * 3600);
        assert_eq!(claims["sub"], "mailto:ops@example.org");

        let without = key.authorization("https://push.example", None, 1).unwrap();
        let token = without.strip_prefix("vapid t=").unwrap();
        let claims = token.split('.').nth(1).unwrap();
        let claims: serde_json::Value =
            serde_json::from_slice(&from_base64url(claims).unwrap()).unwrap();
        assert!(claims.get("sub").is_none(), "{claims}");
    }

    #[test]
    fn a_key_that_is_not_p256_pkcs8_is_refused() {
        assert!(matches!(
            VapidKey::from_pkcs8(b"not a key"),
            Err(VapidError::BadKey)
        ));
    }
}
