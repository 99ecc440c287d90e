//! The app's side of the authenticated channel (see the domain's `app_channel`): every
//! request is MAC'd under the account's key; state-changing ones carry the ratchet token and
//! receive the next one, which the caller must store before doing anything else. A
//! state-changing request is stored before it is sent and sent again, byte for byte, until
//! it is answered (see the flows' `ratcheted`).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
#[cfg(feature = "desktop")]
use futures_util::StreamExt;
use hmac::{Hmac, KeyInit, Mac};
use serde::Serialize;
use serde::de::DeserializeOwned;
use splitid_proto::app_v1::ErrorBody;
use splitid_proto::app_v1::{headers, mac_input};

use crate::AppError;
use crate::ports::{Clock, Method, Random, Request, Response, Transport};
use crate::vault::{InFlightRequest, StoredAccount};

/// A state-changing answer: the result and the next ratchet token.
#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Ratcheted<T> {
    pub next_ratchet_token: String,
    pub result: T,
}

/// How often a ratcheted request is sent while no answer comes, within one call (it stays in
/// the vault after that, and goes first the next time).
const SEND_ATTEMPTS: u32 = 3;
const RETRY_PAUSE: std::time::Duration = std::time::Duration::from_millis(200);

/// The channel to the SplitID server, over a transport, with a clock for the requests'
/// timestamps and randomness for their nonces.
pub struct Channel<T, C, R> {
    transport: T,
    clock: Arc<C>,
    random: Arc<R>,
    /// Request and response body bytes so far, shared by the clones (the load tool reports
    /// the app API's share of the bytes per transaction from it). Headers are not counted.
    body_bytes: Arc<AtomicU64>,
}

/// Clones share the clock, the randomness and the byte count.
impl<T: Clone, C, R> Clone for Channel<T, C, R> {
    fn clone(&self) -> Self {
        Channel {
            transport: self.transport.clone(),
            clock: self.clock.clone(),
            random: self.random.clone(),
            body_bytes: self.body_bytes.clone(),
        }
    }
}

impl<T: Transport, C: Clock, R: Random> Channel<T, C, R> {
    pub fn new(transport: T, clock: C, random: R) -> Self {
        Channel {
            transport,
            clock: Arc::new(clock),
            random: Arc::new(random),
            body_bytes: Arc::default(),
        }
    }

    /// Bytes of request and response bodies this channel (and its clones) has carried.
    pub fn body_bytes(&self) -> u64 {
        self.body_bytes.load(Ordering::Relaxed)
    }

    fn count(&self, bytes: usize) {
        self.body_bytes.fetch_add(bytes as u64, Ordering::Relaxed);
    }

    /// The clock, for the flows too (how long to wait).
    pub fn clock(&self) -> &C {
        &self.clock
    }

    /// Randomness, for the flows too (key identifiers).
    pub fn random(&self) -> &R {
        &self.random
    }

    /// Sends a request whose body [`count`](Self::count) has counted, and counts the answer.
    async fn exchange(&self, request: Request) -> Result<Response, AppError> {
        let response = self.transport.send(request).await?;
        self.count(response.body.len());
        Ok(response)
    }

    /// An unauthenticated JSON POST (registration).
    pub async fn post<B: Serialize, Q: DeserializeOwned>(
        &self,
        url: &str,
        body: &B,
    ) -> Result<Q, AppError> {
        let body = serde_json::to_vec(body).map_err(|e| AppError::Protocol(e.to_string()))?;
        self.count(body.len());
        let request = Request {
            method: Method::Post,
            url: url.to_owned(),
            headers: Vec::new(),
            body,
        };
        read(self.exchange(request).await?)
    }

    /// An unauthenticated GET (a proofing challenge's state).
    pub async fn get_public<Q: DeserializeOwned>(&self, url: &str) -> Result<Q, AppError> {
        let request = Request {
            method: Method::Get,
            url: url.to_owned(),
            headers: Vec::new(),
            body: Vec::new(),
        };
        read(self.exchange(request).await?)
    }

    /// An authenticated request that changes nothing on the server.
    pub async fn get<Q: DeserializeOwned>(
        &self,
        account: &StoredAccount,
        path: &str,
        query: &str,
    ) -> Result<Q, AppError> {
        let request = self.signed(account, Method::Get, path, query, Vec::new(), None)?;
        read(self.exchange(request).await?)
    }

    /// An authenticated POST outside the ratchet: one that moves no secret and cannot be
    /// carried out twice (a device link opens once), answered with a body.
    pub async fn post_signed<B: Serialize, Q: DeserializeOwned>(
        &self,
        account: &StoredAccount,
        path: &str,
        body: &B,
    ) -> Result<Q, AppError> {
        let body = serde_json::to_vec(body).map_err(|e| AppError::Protocol(e.to_string()))?;
        let request = self.signed(account, Method::Post, path, "", body, None)?;
        read(self.exchange(request).await?)
    }

    /// An authenticated request outside the ratchet whose answer has no body (204): one that
    /// sets a value, so that sending it again (with a fresh nonce) sets the same value.
    pub async fn put_or_delete<B: Serialize>(
        &self,
        account: &StoredAccount,
        method: Method,
        path: &str,
        body: Option<&B>,
    ) -> Result<(), AppError> {
        let body = body
            .map(serde_json::to_vec)
            .transpose()
            .map_err(|e| AppError::Protocol(e.to_string()))?
            .unwrap_or_default();
        let request = self.signed(account, method, path, "", body, None)?;
        let response = self.exchange(request).await?;
        if response.status == 204 {
            return Ok(());
        }
        read::<serde_json::Value>(response).map(drop)
    }

    /// Follows an authenticated server-sent-events stream, sending the data of each event to
    /// `sink` until the stream ends or the receiver is gone.
    #[cfg(feature = "desktop")]
    pub async fn follow_events(
        &self,
        account: &StoredAccount,
        path: &str,
        sink: tokio::sync::mpsc::Sender<String>,
    ) -> Result<(), AppError> {
        let request = self.signed(account, Method::Get, path, "", Vec::new(), None)?;
        let mut response = self.transport.stream(request).await?;
        if response.status != 200 {
            let mut body = Vec::new();
            while let Some(chunk) = response.body.next().await {
                body.extend(chunk?);
            }
            self.count(body.len());
            let status = response.status;
            return read::<serde_json::Value>(Response { status, body }).map(|_| ());
        }
        let mut buffer = String::new();
        while let Some(chunk) = response.body.next().await {
            buffer.push_str(&String::from_utf8_lossy(&chunk?));
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

    /// A ratcheted request for `account`, signed with its current token, ready to be kept in
    /// the vault before it is sent ([`send_in_flight`](Self::send_in_flight)).
    pub fn ratcheted_request(
        &self,
        account: &StoredAccount,
        method: Method,
        path: &str,
        body: Option<&impl Serialize>,
    ) -> Result<InFlightRequest, AppError> {
        let body = match body {
            Some(body) => {
                serde_json::to_vec(body).map_err(|e| AppError::Protocol(e.to_string()))?
            }
            None => Vec::new(),
        };
        let ratchet = account.ratchet_token.clone();
        let request = self.signed(account, method, path, "", body, Some(&ratchet))?;
        Ok(InFlightRequest {
            method: method.as_str().to_owned(),
            url: request.url,
            headers: request.headers,
            body: String::from_utf8(request.body)
                .map_err(|_| AppError::Protocol("a request body is not UTF-8".into()))?,
        })
    }

    /// Sends a ratcheted request as it was stored, byte for byte, trying again a few times
    /// while no answer comes. The server's answer, whatever its status; a network error
    /// means the request may or may not have been carried out (keep it and send it again).
    pub async fn send_in_flight(&self, request: &InFlightRequest) -> Result<Response, AppError> {
        let method = match request.method.as_str() {
            "POST" => Method::Post,
            "DELETE" => Method::Delete,
            other => {
                return Err(AppError::Vault(format!(
                    "a stored request's method is {other}"
                )));
            }
        };
        let request = Request {
            method,
            url: request.url.clone(),
            headers: request.headers.clone(),
            body: request.body.clone().into_bytes(),
        };
        let mut last_error = None;
        for attempt in 0..SEND_ATTEMPTS {
            if attempt > 0 {
                self.clock.pause(RETRY_PAUSE * attempt).await;
            }
            match self.exchange(request.clone()).await {
                Err(AppError::Network(error)) => last_error = Some(AppError::Network(error)),
                answer => return answer,
            }
        }
        Err(last_error.unwrap_or_else(|| AppError::Network("no answer".into())))
    }

    fn signed(
        &self,
        account: &StoredAccount,
        method: Method,
        path: &str,
        query: &str,
        body: Vec<u8>,
        ratchet: Option<&str>,
    ) -> Result<Request, AppError> {
        let timestamp = self.clock.unix_seconds().to_string();
        let mut nonce = [0u8; 16];
        self.random.fill(&mut nonce)?;
        let nonce = BASE64.encode(nonce);
        let ratchet = ratchet.unwrap_or_default();
        let key = BASE64
            .decode(&account.mac_key)
            .map_err(|_| AppError::Vault("MAC key is not base64".into()))?;
        let input = mac_input(method.as_str(), path, &timestamp, &nonce, ratchet, &body);
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&key)
            .map_err(|_| AppError::Vault("MAC key is unusable".into()))?;
        mac.update(&input);
        let mac = BASE64.encode(mac.finalize().into_bytes());
        let mut fields = vec![
            (headers::ACCOUNT.to_owned(), account.account_id.clone()),
            (headers::TIMESTAMP.to_owned(), timestamp),
            (headers::NONCE.to_owned(), nonce),
            (headers::MAC.to_owned(), mac),
        ];
        if !ratchet.is_empty() {
            fields.push((headers::RATCHET.to_owned(), ratchet.to_owned()));
        }
        // Counted once, however often it is sent.
        self.count(body.len());
        crate::flows::check_server_address(&account.server)?;
        Ok(Request {
            method,
            url: format!("{}{path}{query}", account.server.trim_end_matches('/')),
            headers: fields,
            body,
        })
    }
}

/// The JSON of an OK answer, or the server's refusal with its detail.
pub fn read<Q: DeserializeOwned>(response: Response) -> Result<Q, AppError> {
    if response.status == 200 {
        return serde_json::from_slice(&response.body)
            .map_err(|e| AppError::Protocol(format!("unexpected answer: {e}")));
    }
    let detail = serde_json::from_slice::<ErrorBody>(&response.body)
        .map(|e| e.detail)
        .unwrap_or_else(|_| String::from_utf8_lossy(&response.body).into_owned());
    Err(AppError::Server {
        status: response.status,
        detail,
    })
}
