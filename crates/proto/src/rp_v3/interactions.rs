//! RP API v3's `interactions` (docs/spec/rp-api.md §2.4): the base64 of a minified JSON array
//! of `{type, displayText60 | displayText200}`, with the types each flow allows. The text as
//! sent is kept beside the decoded list: the authCode and the ACSP_V2 payload are computed
//! over it, and re-serialising the JSON could change its bytes.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;

use crate::rp_v2::{
    Interaction, InteractionBody, InteractionType, RequestError, validate_interaction_list,
};

/// The field's name in every v3 body.
const FIELD: &str = "interactions";
/// Longest `interactions` text read: three interactions of the longest kind, each character
/// escaped, fit well within it.
pub const MAX_INTERACTIONS_CHARS: usize = 8_192;

/// How the phone gets the session: the flows allow different interactions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InteractionFlow {
    /// A QR code, Web2App or App2App link: no verification code anywhere.
    DeviceLink,
    /// A push to a known account: the code choice is allowed.
    Notification,
    /// The signature that follows a device-link certificate choice.
    LinkedNotification,
}

impl InteractionFlow {
    fn allowed(self) -> &'static [InteractionType] {
        match self {
            Self::DeviceLink | Self::LinkedNotification => &[
                InteractionType::DisplayTextAndPin,
                InteractionType::ConfirmationMessage,
            ],
            Self::Notification => &[
                InteractionType::DisplayTextAndPin,
                InteractionType::ConfirmationMessage,
                InteractionType::ConfirmationMessageAndVerificationCodeChoice,
            ],
        }
    }
}

/// The interactions of a v3 request: the text as sent and what it says.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Interactions {
    pub as_sent: String,
    pub list: Vec<Interaction>,
}

impl Interactions {
    /// Reads `interactions` as sent in a request of `flow`: base64, a JSON array, each item
    /// valid for the flow, no type twice. Every refusal names the field and what is wrong.
    pub fn decode(text: &str, flow: InteractionFlow) -> Result<Self, RequestError> {
        if text.len() > MAX_INTERACTIONS_CHARS {
            return Err(RequestError::new(
                FIELD,
                format!("is longer than {MAX_INTERACTIONS_CHARS} characters"),
            ));
        }
        let json = BASE64
            .decode(text)
            .map_err(|_| RequestError::new(FIELD, "must be the standard base64 of a JSON array"))?;
        let bodies: Vec<InteractionBody> = serde_json::from_slice(&json).map_err(|error| {
            RequestError::new(
                FIELD,
                format!("is not a JSON array of interactions: {error}"),
            )
        })?;
        let list = validate_interaction_list(&bodies, FIELD, flow.allowed())?;
        Ok(Interactions {
            as_sent: text.to_owned(),
            list,
        })
    }

    /// The `interactions` text for `list`: minified JSON in base64, as a relying party sends it.
    pub fn encode(list: &[Interaction]) -> String {
        let bodies: Vec<InteractionBody> = list.iter().map(InteractionBody::from).collect();
        BASE64.encode(serde_json::to_vec(&bodies).expect("interactions serialise"))
    }
}
