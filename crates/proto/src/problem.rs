//! The body every SplitID API answers a refusal with: `type`, `title`, `status` and `detail`
//! in the shape of RFC 9457 problem details.

use serde::{Deserialize, Serialize};

/// A refusal: `detail` says what was wrong, for the caller's developer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
}

impl ErrorBody {
    pub fn new(status: u16, title: &str, detail: impl Into<String>) -> Self {
        ErrorBody {
            kind: "about:blank".to_owned(),
            title: title.to_owned(),
            status,
            detail: detail.into(),
        }
    }
}
