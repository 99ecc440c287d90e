//! ACSP_V2, the authentication signature protocol of RP API v3 (docs/spec/rp-api.md §2.6):
//! the phone's authentication key signs a payload that binds the relying party's challenge,
//! the service's random value, the phone's own challenge, who asked, what was shown, how it
//! was confirmed and how the phone got the session. RSASSA-PSS (or the deprecated PKCS#1
//! v1.5) with the session's hash over these bytes is what the relying party verifies.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use sha2::{Digest, Sha256};

use super::{FlowType, SessionTexts};

/// The protocol's name, as it appears in the payload and in `signatureProtocol`.
pub const ACSP_V2: &str = "ACSP_V2";

/// Everything an ACSP_V2 payload is made of, each value as the text it travels as.
#[derive(Debug, Clone, Copy)]
pub struct AcspV2<'a> {
    pub session: SessionTexts<'a>,
    /// The service's random value for this session (base64 text, as in the session status).
    pub server_random: &'a str,
    /// The relying party's `rpChallenge`, as sent.
    pub rp_challenge: &'a str,
    /// The phone's challenge: `BASE64URL(SHA-256(verifier))` (see
    /// [`user_challenge`](super::device_link::user_challenge)).
    pub user_challenge: &'a str,
    /// The interaction the person confirmed with, e.g. `displayTextAndPIN`.
    pub interaction_type_used: &'a str,
    pub flow_type: FlowType,
}

impl AcspV2<'_> {
    /// The UTF-8 bytes the authentication key signs:
    /// `scheme|ACSP_V2|serverRandom|rpChallenge|userChallenge|BASE64(rpName)|
    /// BASE64(brokeredRpName)|BASE64(SHA-256(interactions))|interactionTypeUsed|
    /// initialCallbackUrl|flowType`.
    pub fn payload(&self) -> Vec<u8> {
        let [relying_party, broker] = self.session.encoded_names();
        [
            self.session.scheme_name,
            ACSP_V2,
            self.server_random,
            self.rp_challenge,
            self.user_challenge,
            &relying_party,
            &broker,
            &BASE64.encode(Sha256::digest(self.session.interactions.as_bytes())),
            self.interaction_type_used,
            self.session.initial_callback_url,
            self.flow_type.as_str(),
        ]
        .join("|")
        .into_bytes()
    }
}
