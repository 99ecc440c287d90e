//! Signing in at the server's OpenID Connect provider by redirect, for identity proofing: the
//! authorization request an app sends the person to, and the ID token read from the answer.
//!
//! The request is OpenID Connect's implicit flow for an ID token only (`response_type=id_token`,
//! `response_mode=fragment`): the token is evidence for the server, which verifies it (issuer,
//! keys, audience, expiry, `nonce` = the proofing challenge), not a credential the app uses, so
//! no access token, code exchange or client secret is needed. The answer comes back in the URL
//! fragment, which browsers never send to a server: no log on the way sees the token. `state`
//! (random, kept by the app) ties the answer to the request the app made, so that a link crafted
//! by someone else cannot make the app register with their identity.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as BASE64URL;
use splitid_proto::app_v1::{OidcMethod, ProofingChallenge};

use crate::AppError;
use crate::ports::Random;

/// A `state` for one sign-in: 128 random bits, base64url.
pub fn new_state(random: &impl Random) -> Result<String, AppError> {
    let mut bytes = [0u8; 16];
    random.fill(&mut bytes)?;
    Ok(BASE64URL.encode(bytes))
}

/// The authorization request's URL: the provider's endpoint with the request's parameters
/// added to any query it already has (RFC 6749 §3.1).
pub fn authorization_url(
    provider: &OidcMethod,
    redirect_uri: &str,
    challenge: &ProofingChallenge,
    state: &str,
) -> Result<String, AppError> {
    let endpoint = provider.authorization_endpoint.as_deref().ok_or_else(|| {
        AppError::Usage(format!(
            "{} offers no sign-in by redirect on this server",
            provider.name
        ))
    })?;
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("response_type", "id_token")
        .append_pair("response_mode", "fragment")
        .append_pair("client_id", &provider.client_id)
        .append_pair("scope", &provider.scope)
        .append_pair("redirect_uri", redirect_uri)
        .append_pair("nonce", &challenge.challenge)
        .append_pair("state", state)
        .finish();
    let (base, existing) = match endpoint.split_once('?') {
        Some((base, existing)) if !existing.is_empty() => (base, Some(existing)),
        Some((base, _)) => (base, None),
        None => (endpoint, None),
    };
    Ok(match existing {
        Some(existing) => format!("{base}?{existing}&{query}"),
        None => format!("{base}?{query}"),
    })
}

/// The ID token in the fragment the provider redirected back with, once its `state` is the
/// one the app sent; the provider's refusal (`error`, RFC 6749 §4.2.2.1) as a usage error
/// that names it.
pub fn id_token_from_redirect(fragment: &str, expected_state: &str) -> Result<String, AppError> {
    let mut id_token = None;
    let mut state = None;
    let mut error = None;
    let mut description = None;
    for (name, value) in form_urlencoded::parse(fragment.trim_start_matches('#').as_bytes()) {
        let slot = match name.as_ref() {
            "id_token" => &mut id_token,
            "state" => &mut state,
            "error" => &mut error,
            "error_description" => &mut description,
            _ => continue,
        };
        if slot.replace(value.into_owned()).is_some() {
            return Err(AppError::Protocol(format!(
                "the sign-in answer repeats {name}"
            )));
        }
    }
    if state.as_deref() != Some(expected_state) {
        return Err(AppError::Usage(
            "this sign-in answer is not for the sign-in this app started: start again".into(),
        ));
    }
    if let Some(error) = error {
        let why = description.map(|d| format!(": {d}")).unwrap_or_default();
        return Err(AppError::Usage(format!(
            "the identity provider did not sign you in ({error}{why})"
        )));
    }
    id_token.ok_or_else(|| AppError::Protocol("the sign-in answer has no id_token".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn provider(endpoint: &str) -> OidcMethod {
        OidcMethod {
            issuer: "https://id.example".into(),
            client_id: "splitid app".into(),
            name: "Example ID".into(),
            authorization_endpoint: Some(endpoint.into()),
            scope: "openid profile".into(),
        }
    }

    fn challenge() -> ProofingChallenge {
        ProofingChallenge {
            challenge_id: "c-1".into(),
            challenge: "ab+/cd==".into(),
            expires_at: "2026-12-03T00:00:00Z".into(),
        }
    }

    fn query(url: &str) -> Vec<(String, String)> {
        let (_, query) = url.split_once('?').unwrap();
        form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect()
    }

    #[test]
    fn the_request_asks_for_an_id_token_bound_to_the_challenge() {
        let url = authorization_url(
            &provider("https://id.example/authorize"),
            "https://splitid.example/app/",
            &challenge(),
            "st8",
        )
        .unwrap();
        assert!(url.starts_with("https://id.example/authorize?"), "{url}");
        let pairs = query(&url);
        let get = |name: &str| {
            let values: Vec<_> = pairs.iter().filter(|(n, _)| n == name).collect();
            assert_eq!(values.len(), 1, "{name} in {url}");
            values[0].1.clone()
        };
        assert_eq!(get("response_type"), "id_token");
        assert_eq!(get("response_mode"), "fragment");
        assert_eq!(get("client_id"), "splitid app");
        assert_eq!(get("scope"), "openid profile");
        assert_eq!(get("redirect_uri"), "https://splitid.example/app/");
        // The challenge's base64 survives the URL: + / = are escaped, not turned to spaces.
        assert_eq!(get("nonce"), "ab+/cd==");
        assert!(url.contains("nonce=ab%2B%2Fcd%3D%3D"), "{url}");
        assert_eq!(get("state"), "st8");
    }

    #[test]
    fn an_endpoint_with_a_query_keeps_it() {
        let url = authorization_url(
            &provider("https://id.example/auth?tenant=bank"),
            "https://splitid.example/app/",
            &challenge(),
            "s",
        )
        .unwrap();
        assert!(
            url.starts_with("https://id.example/auth?tenant=bank&response_type="),
            "{url}"
        );
    }

    #[test]
    fn no_endpoint_no_redirect() {
        let mut without = provider("x");
        without.authorization_endpoint = None;
        let refused = authorization_url(&without, "r", &challenge(), "s").unwrap_err();
        assert!(
            refused.to_string().contains("Example ID offers no sign-in"),
            "{refused}"
        );
    }

    #[test]
    fn the_answer_gives_its_token_only_with_the_state_sent() {
        assert_eq!(
            id_token_from_redirect("#id_token=a.b.c&state=s1", "s1").unwrap(),
            "a.b.c"
        );
        assert_eq!(
            id_token_from_redirect("state=s1&id_token=a.b.c&session_state=x", "s1").unwrap(),
            "a.b.c"
        );
        for (fragment, expected) in [
            (
                "#id_token=a.b.c&state=other",
                "not for the sign-in this app started",
            ),
            ("#id_token=a.b.c", "not for the sign-in this app started"),
            ("#state=s1", "no id_token"),
            ("#id_token=a&id_token=b&state=s1", "repeats id_token"),
            (
                "#error=access_denied&error_description=User%20cancelled&state=s1",
                "did not sign you in (access_denied: User cancelled)",
            ),
        ] {
            let refused = id_token_from_redirect(fragment, "s1")
                .unwrap_err()
                .to_string();
            assert!(refused.contains(expected), "{fragment}: {refused}");
        }
    }

    #[test]
    fn states_are_random() {
        let random = crate::ports::OsRandom;
        let (a, b) = (new_state(&random).unwrap(), new_state(&random).unwrap());
        assert_ne!(a, b);
        assert_eq!(a.len(), 22);
    }
}
