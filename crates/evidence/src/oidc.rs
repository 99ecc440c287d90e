//! Proofing with an OpenID Connect ID token from a bank-style identity provider.
//!
//! Verified by hand with aws-lc-rs rather than a JWT crate: only compact JWS with RS256, PS256,
//! ES256 and ES384 is needed, aws-lc-rs already does the signatures, and the checks (iss, aud,
//! exp/iat, nonce, the configured claims) are the part that matters and must be explicit.

use aws_lc_rs::signature::{self, RsaPublicKeyComponents, UnparsedPublicKey};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use serde::Deserialize;
use serde_json::Value;
use time::OffsetDateTime;

use crate::{
    Assurance, EvidenceError, EvidenceResult, ProvenIdentity, check_name, check_semantics_id,
};

/// Clock difference tolerated between the identity provider and this service.
const SKEW_SECONDS: i64 = 60;
/// Largest ID token accepted.
const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// Which claims carry the identity.
#[derive(Debug, Clone)]
pub struct OidcClaims {
    /// The ETSI semantics identifier (e.g. `PNOEE-30303039914`).
    pub semantics_identifier: String,
    pub given_name: String,
    pub surname: String,
}

impl Default for OidcClaims {
    fn default() -> Self {
        OidcClaims {
            semantics_identifier: "semantics_identifier".into(),
            given_name: "given_name".into(),
            surname: "family_name".into(),
        }
    }
}

/// The operator's settings for the method.
#[derive(Debug, Clone)]
pub struct OidcConfig {
    pub issuer: String,
    pub audience: String,
    keys: Vec<Jwk>,
    pub level: Assurance,
    pub claims: OidcClaims,
}

/// One public key of a JWKS (RFC 7517); the fields RSA and EC keys use.
#[derive(Debug, Clone, Deserialize)]
struct Jwk {
    kty: String,
    kid: Option<String>,
    n: Option<String>,
    e: Option<String>,
    crv: Option<String>,
    x: Option<String>,
    y: Option<String>,
}

#[derive(Deserialize)]
struct Jwks {
    keys: Vec<Jwk>,
}

#[derive(Deserialize)]
struct Header {
    alg: String,
    kid: Option<String>,
}

impl OidcConfig {
    /// Settings with the issuer's keys from a JWKS document.
    pub fn new(
        issuer: String,
        audience: String,
        jwks_json: &str,
        level: Assurance,
        claims: OidcClaims,
    ) -> Result<Self, String> {
        let jwks: Jwks =
            serde_json::from_str(jwks_json).map_err(|e| format!("not a JWKS document: {e}"))?;
        if jwks.keys.is_empty() {
            return Err("the JWKS has no keys".into());
        }
        Ok(OidcConfig {
            issuer,
            audience,
            keys: jwks.keys,
            level,
            claims,
        })
    }
}

fn refused(what: impl std::fmt::Display) -> EvidenceError {
    EvidenceError::Refused(format!("ID token: {what}"))
}

pub fn verify(
    config: &OidcConfig,
    token: &str,
    challenge: &str,
    now: OffsetDateTime,
) -> EvidenceResult<ProvenIdentity> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(refused("too large"));
    }
    let parts: Vec<&str> = token.trim().split('.').collect();
    let [header, payload, signature] = parts[..] else {
        return Err(refused("not a compact JWS (header.payload.signature)"));
    };
    let decode = |part: &str, what: &str| {
        B64URL
            .decode(part)
            .map_err(|_| refused(format!("the {what} is not base64url")))
    };
    let header: Header = serde_json::from_slice(&decode(header, "header")?)
        .map_err(|_| refused("the header is not JSON with alg"))?;
    let signed = &token.trim()[..token.trim().len() - signature.len() - 1];
    check_signature(
        config,
        &header,
        signed.as_bytes(),
        &decode(signature, "signature")?,
    )?;
    let claims: Value = serde_json::from_slice(&decode(payload, "payload")?)
        .map_err(|_| refused("the payload is not JSON"))?;
    check_claims(config, &claims, challenge, now)?;
    identity_of(config, &claims)
}

fn check_signature(
    config: &OidcConfig,
    header: &Header,
    signed: &[u8],
    signature: &[u8],
) -> EvidenceResult<()> {
    let kty = match header.alg.as_str() {
        "RS256" | "PS256" => "RSA",
        "ES256" | "ES384" => "EC",
        other => {
            return Err(refused(format!(
                "alg {other:?} is not accepted (RS256, PS256, ES256, ES384)"
            )));
        }
    };
    let candidates = config
        .keys
        .iter()
        .filter(|key| key.kty == kty && (header.kid.is_none() || key.kid == header.kid));
    for key in candidates {
        if verify_with(key, &header.alg, signed, signature) {
            return Ok(());
        }
    }
    Err(refused(
        "the signature does not verify with any of the issuer's configured keys",
    ))
}

fn verify_with(key: &Jwk, alg: &str, signed: &[u8], signature: &[u8]) -> bool {
    let field = |value: &Option<String>| value.as_deref().and_then(|v| B64URL.decode(v).ok());
    match alg {
        "RS256" | "PS256" => {
            let (Some(n), Some(e)) = (field(&key.n), field(&key.e)) else {
                return false;
            };
            let algorithm = if alg == "RS256" {
                &signature::RSA_PKCS1_2048_8192_SHA256
            } else {
                &signature::RSA_PSS_2048_8192_SHA256
            };
            RsaPublicKeyComponents { n: &n, e: &e }
                .verify(algorithm, signed, signature)
                .is_ok()
        }
        _ => {
            let (algorithm, curve) = if alg == "ES256" {
                (&signature::ECDSA_P256_SHA256_FIXED, "P-256")
            } else {
                (&signature::ECDSA_P384_SHA384_FIXED, "P-384")
            };
            let (Some(x), Some(y)) = (field(&key.x), field(&key.y)) else {
                return false;
            };
            if key.crv.as_deref() != Some(curve) {
                return false;
            }
            let point = [&[4u8][..], &x, &y].concat();
            UnparsedPublicKey::new(algorithm, point)
                .verify(signed, signature)
                .is_ok()
        }
    }
}

fn check_claims(
    config: &OidcConfig,
    claims: &Value,
    challenge: &str,
    now: OffsetDateTime,
) -> EvidenceResult<()> {
    if claims["iss"].as_str() != Some(config.issuer.as_str()) {
        return Err(refused("iss is not the configured issuer"));
    }
    let audience_ok = match &claims["aud"] {
        Value::String(aud) => aud == &config.audience,
        Value::Array(list) => list.iter().any(|a| a.as_str() == Some(&config.audience)),
        _ => false,
    };
    if !audience_ok {
        return Err(refused("aud does not name this service"));
    }
    let now = now.unix_timestamp();
    let exp = claims["exp"].as_i64().ok_or_else(|| refused("no exp"))?;
    if exp + SKEW_SECONDS <= now {
        return Err(refused("expired (exp)"));
    }
    if let Some(iat) = claims["iat"].as_i64()
        && iat - SKEW_SECONDS > now
    {
        return Err(refused("issued in the future (iat)"));
    }
    if claims["nonce"].as_str() != Some(challenge) {
        return Err(refused(
            "nonce is not this registration's proofing challenge",
        ));
    }
    Ok(())
}

fn identity_of(config: &OidcConfig, claims: &Value) -> EvidenceResult<ProvenIdentity> {
    let claim = |name: &str| {
        claims[name]
            .as_str()
            .ok_or_else(|| refused(format!("no {name:?} claim (a string)")))
    };
    let person = check_semantics_id(
        &format!("claim {:?}", config.claims.semantics_identifier),
        claim(&config.claims.semantics_identifier)?,
    )?;
    Ok(ProvenIdentity {
        semantics_id: person.to_string(),
        given_name: check_name(
            &format!("claim {:?}", config.claims.given_name),
            claim(&config.claims.given_name)?,
        )?,
        surname: check_name(
            &format!("claim {:?}", config.claims.surname),
            claim(&config.claims.surname)?,
        )?,
        country: person.country().to_owned(),
        level: config.level.as_str().into(),
        method: "oidc".into(),
        evidence: serde_json::json!({
            "iss": claims["iss"],
            "sub": claims["sub"],
            "jti": claims["jti"],
        }),
    })
}

#[cfg(test)]
mod tests {
    use aws_lc_rs::rand::SystemRandom;
    use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
    use serde_json::json;

    use super::*;

    const NONCE: &str = "Y2hhbGxlbmdl";

    fn issuer() -> (EcdsaKeyPair, OidcConfig) {
        let key = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).unwrap();
        let point = key.public_key().as_ref().to_vec();
        let jwks = json!({ "keys": [{ "kty": "EC", "kid": "k1", "crv": "P-256",
            "x": B64URL.encode(&point[1..33]), "y": B64URL.encode(&point[33..]) }] });
        let config = OidcConfig::new(
            "https://idp.test".into(),
            "splitid".into(),
            &jwks.to_string(),
            Assurance::Advanced,
            OidcClaims::default(),
        )
        .unwrap();
        (key, config)
    }

    fn claims() -> Value {
        let now = OffsetDateTime::now_utc().unix_timestamp();
        json!({ "iss": "https://idp.test", "aud": "splitid", "sub": "s", "iat": now,
            "exp": now + 60, "nonce": NONCE, "semantics_identifier": "PNOEE-30303039914",
            "given_name": "Mary", "family_name": "Änn" })
    }

    fn token(key: &EcdsaKeyPair, header: Value, claims: &Value) -> String {
        let signed = format!(
            "{}.{}",
            B64URL.encode(header.to_string()),
            B64URL.encode(claims.to_string())
        );
        let signature = key.sign(&SystemRandom::new(), signed.as_bytes()).unwrap();
        format!("{signed}.{}", B64URL.encode(signature.as_ref()))
    }

    fn check(config: &OidcConfig, token: &str) -> Result<ProvenIdentity, String> {
        verify(config, token, NONCE, OffsetDateTime::now_utc()).map_err(|e| e.to_string())
    }

    #[test]
    fn a_good_token_gives_the_identity_in_its_claims() {
        let (key, config) = issuer();
        let identity = check(
            &config,
            &token(&key, json!({"alg": "ES256", "kid": "k1"}), &claims()),
        )
        .unwrap();
        assert_eq!(identity.semantics_id, "PNOEE-30303039914");
        assert_eq!(
            (identity.given_name.as_str(), identity.surname.as_str()),
            ("MARY", "ÄNN")
        );
        assert_eq!(identity.level, "ADVANCED");
        assert_eq!(identity.evidence["sub"], "s");
        // An audience list that names this service is as good.
        let mut listed = claims();
        listed["aud"] = json!(["other", "splitid"]);
        check(&config, &token(&key, json!({"alg": "ES256"}), &listed)).unwrap();
    }

    #[test]
    fn unsigned_tampered_or_foreign_tokens_are_refused() {
        let (key, config) = issuer();
        let good = token(&key, json!({"alg": "ES256", "kid": "k1"}), &claims());
        let unsigned = format!(
            "{}.{}.",
            B64URL.encode(json!({"alg": "none"}).to_string()),
            B64URL.encode(claims().to_string())
        );
        let mut other_claims = claims();
        other_claims["semantics_identifier"] = json!("PNOEE-38001085718");
        let parts: Vec<&str> = good.split('.').collect();
        let tampered = format!(
            "{}.{}.{}",
            parts[0],
            B64URL.encode(other_claims.to_string()),
            parts[2]
        );
        let mut future = claims();
        future["iat"] = json!(OffsetDateTime::now_utc().unix_timestamp() + 3600);
        let mut wrong_issuer = claims();
        wrong_issuer["iss"] = json!("https://evil.test");
        for (token, reason) in [
            (unsigned, "alg \"none\" is not accepted"),
            (
                token(&key, json!({"alg": "HS256"}), &claims()),
                "alg \"HS256\"",
            ),
            (tampered, "does not verify"),
            (
                token(&key, json!({"alg": "ES256", "kid": "k2"}), &claims()),
                "does not verify",
            ),
            (
                token(&key, json!({"alg": "ES256"}), &future),
                "issued in the future",
            ),
            (
                token(&key, json!({"alg": "ES256"}), &wrong_issuer),
                "iss is not",
            ),
            ("a.b".to_owned(), "not a compact JWS"),
        ] {
            let error = check(&config, &token).unwrap_err();
            assert!(error.contains(reason), "{reason:?} not in {error:?}");
        }
    }
}
