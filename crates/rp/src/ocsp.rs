//! The SDK's OCSP client: the question and the checks its answer must pass are
//! `splitid_pki::ocsp_client`'s; this carries them to the responder over HTTP.

pub use splitid_pki::ocsp_client::{Answer, Status, responder_url};
use splitid_pki::ocsp_client::{MAX_ANSWER_BYTES, Question, REQUEST_CONTENT_TYPE, TIMEOUT};
use time::OffsetDateTime;
use x509_cert::Certificate;

/// Asks the responder at `url` about `leaf` (issued by `issuer`, already path-validated) and
/// verifies the answer: signed by the issuer or a responder it delegated to, about this
/// certificate, fresh at `now`. The error says why no answer could be trusted.
pub async fn query(
    url: &str,
    leaf: &Certificate,
    issuer: &Certificate,
    now: OffsetDateTime,
) -> Result<Answer, String> {
    let question = Question::new(leaf, issuer)?;
    let answer = post(url, question.body.clone()).await?;
    question.check(&answer, issuer, now)
}

async fn post(url: &str, body: Vec<u8>) -> Result<Vec<u8>, String> {
    let client = reqwest::Client::builder()
        .timeout(TIMEOUT)
        .build()
        .map_err(|e| e.to_string())?;
    let response = client
        .post(url)
        .header("Content-Type", REQUEST_CONTENT_TYPE)
        .body(body)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if !response.status().is_success() {
        return Err(format!("HTTP {}", response.status()));
    }
    let bytes = response.bytes().await.map_err(|e| e.to_string())?;
    if bytes.len() > MAX_ANSWER_BYTES {
        return Err("the answer is too large".into());
    }
    Ok(bytes.to_vec())
}
