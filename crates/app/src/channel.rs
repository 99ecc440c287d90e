//! The app's side of the authenticated channel (see the server's `app_api::channel`): every
//! request is MAC'd under the account's key; state-changing ones carry the ratchet token and
//! receive the next one, which the caller must store before doing anything else.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use aws_lc_rs::hmac;
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use splitid_proto::app_v1::{headers, mac_input};
use splitid_proto::rp_v2::ErrorBody;

use crate::flows::AppError;
use crate::vault::StoredAccount;

/// A state-changing answer: the result and the next ratchet token.
#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Ratcheted<T> {
    next_ratchet_token: String,
    result: T,
}

/// HTTP to the SplitID server.
#[derive(Clone, Default)]
pub struct Channel {
    http: reqwest::Client,
    /// Request and response body bytes so far, shared by the clones (the load tool reports
    /// the app API's share of the bytes per transaction from it). Headers are not counted.
    body_bytes: Arc<AtomicU64>,
}

impl Channel {
    /// Bytes of request and response bodies this channel (and its clones) has carried.
    pub fn body_bytes(&self) -> u64 {
        self.body_bytes.load(Ordering::Relaxed)
    }

    fn count(&self, bytes: usize) {
        self.body_bytes.fetch_add(bytes as u64, Ordering::Relaxed);
    }

    /// An unauthenticated JSON POST (registration).
    pub async fn post<B: Serialize, R: DeserializeOwned>(
        &self,
        url: &str,
        body: &B,
    ) -> Result<R, AppError> {
        // Serialised here rather than by reqwest's `.json` so that its size can be counted.
        let body = serde_json::to_vec(body).map_err(|e| AppError::Protocol(e.to_string()))?;
        self.count(body.len());
        let response = self
            .http
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await
            .map_err(network)?;
        self.read(response).await
    }

    /// An unauthenticated GET (a proofing challenge's state).
    pub async fn get_public<R: DeserializeOwned>(&self, url: &str) -> Result<R, AppError> {
        let response = self.http.get(url).send().await.map_err(network)?;
        self.read(response).await
    }

    /// An authenticated request that changes nothing on the server.
    pub async fn get<R: DeserializeOwned>(
        &self,
        account: &StoredAccount,
        path: &str,
        query: &str,
    ) -> Result<R, AppError> {
        let request = self.signed(account, Method::GET, path, query, Vec::new(), None)?;
        self.read(self.http.execute(request).await.map_err(network)?)
            .await
    }

    /// Follows an authenticated server-sent-events stream, sending the data of each event to
    /// `sink` until the stream ends or the receiver is gone.
    pub async fn follow_events(
        &self,
        account: &StoredAccount,
        path: &str,
        sink: tokio::sync::mpsc::Sender<String>,
    ) -> Result<(), AppError> {
        let request = self.signed(account, Method::GET, path, "", Vec::new(), None)?;
        let mut response = self.http.execute(request).await.map_err(network)?;
        if response.status() != StatusCode::OK {
            return self.read::<serde_json::Value>(response).await.map(|_| ());
        }
        let mut buffer = String::new();
        while let Some(chunk) = response.chunk().await.map_err(network)? {
            buffer.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = buffer.find("\n\n") {
                let event: String = buffer.drain(..end + 2).collect();
                let data: Vec<&str> = event
                    .lines()
                    .filter_map(|line| line.strip_prefix("data:"))
                    .map(str::trim_start)
                    .collect();
                if !data.is_empty() && sink.send(data.join("\n")).await.is_err() {
                    return Ok(());
                }
            }
        }
        Ok(())
    }

    /// An authenticated, ratcheted request. On success `account.ratchet_token` holds the next
    /// token: save the vault before anything else. A request whose answer was lost is sent
    /// again byte for byte, which the server answers from its record.
    pub async fn ratcheted<R: DeserializeOwned>(
        &self,
        account: &mut StoredAccount,
        method: Method,
        path: &str,
        body: Option<&impl Serialize>,
    ) -> Result<R, AppError> {
        let body = match body {
            Some(body) => {
                serde_json::to_vec(body).map_err(|e| AppError::Protocol(e.to_string()))?
            }
            None => Vec::new(),
        };
        let ratchet = account.ratchet_token.clone();
        let request = self.signed(account, method, path, "", body, Some(&ratchet))?;
        let retry = request.try_clone();
        let response = match self.http.execute(request).await {
            Ok(response) => response,
            Err(_) if retry.is_some() => self
                .http
                .execute(retry.expect("checked"))
                .await
                .map_err(network)?,
            Err(e) => return Err(network(e)),
        };
        let answer: Ratcheted<R> = self.read(response).await?;
        account.ratchet_token = answer.next_ratchet_token;
        Ok(answer.result)
    }

    fn signed(
        &self,
        account: &StoredAccount,
        method: Method,
        path: &str,
        query: &str,
        body: Vec<u8>,
        ratchet: Option<&str>,
    ) -> Result<reqwest::Request, AppError> {
        let timestamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs()
            .to_string();
        let mut nonce = [0u8; 16];
        SystemRandom::new()
            .fill(&mut nonce)
            .map_err(|_| AppError::Protocol("random generator failed".into()))?;
        let nonce = BASE64.encode(nonce);
        let ratchet = ratchet.unwrap_or_default();
        let key = BASE64
            .decode(&account.mac_key)
            .map_err(|_| AppError::Vault("MAC key is not base64".into()))?;
        let input = mac_input(method.as_str(), path, &timestamp, &nonce, ratchet, &body);
        let mac = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, &key), &input);
        let url = format!("{}{path}{query}", account.server.trim_end_matches('/'));
        let mut builder = self
            .http
            .request(method, url)
            .header(headers::ACCOUNT, &account.account_id)
            .header(headers::TIMESTAMP, timestamp)
            .header(headers::NONCE, nonce)
            .header(headers::MAC, BASE64.encode(mac.as_ref()));
        if !ratchet.is_empty() {
            builder = builder.header(headers::RATCHET, ratchet);
        }
        self.count(body.len());
        if !body.is_empty() {
            builder = builder
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body);
        }
        builder
            .build()
            .map_err(|e| AppError::Protocol(e.to_string()))
    }
}

fn network(error: reqwest::Error) -> AppError {
    AppError::Network(error.to_string())
}

impl Channel {
    async fn read<R: DeserializeOwned>(&self, response: reqwest::Response) -> Result<R, AppError> {
        let status = response.status();
        let bytes = response.bytes().await.map_err(network)?;
        self.count(bytes.len());
        if status == StatusCode::OK {
            return serde_json::from_slice(&bytes)
                .map_err(|e| AppError::Protocol(format!("unexpected answer: {e}")));
        }
        let detail = serde_json::from_slice::<ErrorBody>(&bytes)
            .map(|e| e.detail)
            .unwrap_or_else(|_| String::from_utf8_lossy(&bytes).into_owned());
        Err(AppError::Server {
            status: status.as_u16(),
            detail,
        })
    }
}
