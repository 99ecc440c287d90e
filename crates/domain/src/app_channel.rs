//! The authenticated app channel (docs/spec/splitkey.md §7.4, adapted).
//!
//! Every request carries the account id, a timestamp, a nonce and an HMAC-SHA256 under the
//! account's MAC key (given to the app once, at registration). State-changing requests also
//! carry the current *ratchet token*; the answer hands out the next one. A copy of the app's
//! storage therefore falls behind as soon as either copy is used: a request with a valid MAC
//! but a superseded token can only come from a copy, and closes the account. Forged requests
//! (bad MAC) are refused without touching the account. A retransmitted request (same bytes,
//! previous token) gets the stored answer again, so a lost response is harmless.
//!
//! The channel's next state is prepared before the request's action runs
//! ([`ChannelMove`]), so an action that commits a result (a confirmed transaction) writes the
//! move in the same commit: one `fsync` fewer per login, and no moment at which the result is
//! committed but the answer that carries it is not.

use std::sync::{Arc, Mutex, PoisonError};

use aws_lc_rs::{digest, hmac};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::{Deserialize, Serialize};
use splitid_proto::app_v1::{headers, mac_input};
use uuid::Uuid;

use crate::Service;
use crate::accounts::token_digest;
use crate::error::{ServiceError, ServiceResult};
use crate::store::{AccountRecord, ChannelAdvance, ChannelState, Serialised, StoreError};

/// How far a request's timestamp may be from the server's clock.
const CLOCK_SKEW_SECONDS: i64 = 300;

/// A state-changing answer: the result and the next ratchet token.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Ratcheted<T> {
    pub next_ratchet_token: String,
    pub result: T,
}

/// A request that passed authentication.
pub struct Authenticated {
    pub account: AccountRecord,
    /// For state-changing requests: the presented token and the request's digest.
    ratchet: Option<(Vec<u8>, Vec<u8>)>,
}

/// The channel's next move for one request, prepared before its action runs. The action may
/// take it, carrying its result, into its own commit ([`carrying`](Self::carrying)); an action
/// that takes it must commit it or fail. Otherwise the channel moves after the action.
#[derive(Clone)]
pub struct ChannelMove {
    account: Uuid,
    presented: Vec<u8>,
    request_digest: Vec<u8>,
    next_token: [u8; 32],
    /// The answer an action took the move with.
    taken: Arc<Mutex<Option<Vec<u8>>>>,
}

impl ChannelMove {
    /// The answer to the app: its result and the next token.
    fn answer<T: Serialize>(&self, result: &T) -> ServiceResult<Vec<u8>> {
        serde_json::to_vec(&Ratcheted {
            next_ratchet_token: BASE64.encode(self.next_token),
            result,
        })
        .map_err(ServiceError::internal)
    }

    fn advance(&self, answer: Vec<u8>) -> ChannelAdvance {
        ChannelAdvance {
            account: self.account,
            expected_token: self.presented.clone(),
            next: ChannelState {
                ratchet_token: token_digest(&self.next_token),
                previous_token: Some(self.presented.clone()),
                last_request: Some(self.request_digest.clone()),
                last_response: Some(answer),
            },
        }
    }

    /// The move with `result` as the request's answer, for the action to commit with it.
    pub fn carrying<T: Serialize>(&self, result: &T) -> ServiceResult<ChannelAdvance> {
        let answer = self.answer(result)?;
        *self.taken.lock().unwrap_or_else(PoisonError::into_inner) = Some(answer.clone());
        Ok(self.advance(answer))
    }

    /// The answer the action committed the move with, if it took it.
    fn taken(&self) -> Option<Vec<u8>> {
        self.taken
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// What an app's request proves itself with, as received (each absent or unreadable value
/// is `None`): the headers of the app API.
#[derive(Clone, Default)]
pub struct AppCredentials {
    pub account: Option<String>,
    pub timestamp: Option<String>,
    pub nonce: Option<String>,
    pub ratchet: Option<String>,
    pub mac: Option<String>,
}

/// The account and the time only: the ratchet token and the MAC never reach a log.
impl std::fmt::Debug for AppCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppCredentials")
            .field("account", &self.account)
            .field("timestamp", &self.timestamp)
            .finish_non_exhaustive()
    }
}

/// An app's request as the channel checks it: what its MAC covers, and its credentials.
pub struct AppRequest<'a> {
    /// The account the request's path names.
    pub account_in_path: &'a str,
    pub method: &'a str,
    pub path: &'a str,
    pub credentials: &'a AppCredentials,
    pub body: &'a [u8],
}

fn required<'a>(value: &'a Option<String>, name: &str) -> ServiceResult<&'a str> {
    value.as_deref().ok_or_else(|| {
        ServiceError::NotAuthenticated(format!("missing or unreadable header {name}"))
    })
}

impl Service {
    /// Checks a request's MAC and freshness; `ratcheted` requests must also carry a token.
    pub async fn authenticate_app(
        &self,
        request: AppRequest<'_>,
        ratcheted: bool,
    ) -> ServiceResult<Authenticated> {
        let unauthorized = |why: &str| ServiceError::NotAuthenticated(why.to_owned());
        let credentials = request.credentials;
        let account_id = required(&credentials.account, headers::ACCOUNT)?;
        if account_id != request.account_in_path {
            return Err(unauthorized("the account header does not match the path"));
        }
        let id = Uuid::parse_str(account_id).map_err(|_| unauthorized("unknown account"))?;
        let account = self
            .store()
            .account(id)
            .await?
            .ok_or_else(|| unauthorized("unknown account"))?;
        let timestamp = required(&credentials.timestamp, headers::TIMESTAMP)?;
        let nonce = required(&credentials.nonce, headers::NONCE)?;
        let ratchet = if ratcheted {
            required(&credentials.ratchet, headers::RATCHET)?
        } else {
            ""
        };
        let mac = BASE64
            .decode(required(&credentials.mac, headers::MAC)?)
            .map_err(|_| unauthorized("the MAC is not base64"))?;
        let key = self
            .keys()
            .open(&account.mac_key_sealed, &format!("splitid/{id}/mac-key"))?;
        let input = mac_input(
            request.method,
            request.path,
            timestamp,
            nonce,
            ratchet,
            request.body,
        );
        hmac::verify(&hmac::Key::new(hmac::HMAC_SHA256, &key), &input, &mac)
            .map_err(|_| unauthorized("the request's MAC does not verify"))?;
        let sent_at: i64 = timestamp
            .parse()
            .map_err(|_| unauthorized("bad timestamp"))?;
        if (self.wall_clock().unix_timestamp() - sent_at).abs() > CLOCK_SKEW_SECONDS {
            return Err(unauthorized(
                "the request's timestamp is too far from the server's clock",
            ));
        }
        let ratchet = if ratcheted {
            let token = BASE64
                .decode(ratchet)
                .map_err(|_| unauthorized("the ratchet token is not base64"))?;
            Some((
                token,
                digest::digest(&digest::SHA256, &input).as_ref().to_vec(),
            ))
        } else {
            None
        };
        Ok(Authenticated { account, ratchet })
    }

    /// Runs a state-changing request under the ratchet: once per token, replayed on
    /// retransmission, and a stale token from a valid MAC closes the account as cloned.
    pub async fn ratcheted<T, F, Fut>(
        &self,
        request: Authenticated,
        action: F,
    ) -> ServiceResult<Vec<u8>>
    where
        T: Serialize,
        F: FnOnce(AccountRecord, Serialised, ChannelMove) -> Fut,
        Fut: std::future::Future<Output = ServiceResult<T>>,
    {
        let (token, request_digest) = request
            .ratchet
            .ok_or_else(|| ServiceError::internal("ratcheted without a token"))?;
        let lock = self.store().lock_account(request.account.id).await?;
        let serialised = lock.proof();
        let result = self
            .under_ratchet(
                request.account.id,
                token,
                request_digest,
                serialised,
                action,
            )
            .await;
        lock.release().await;
        result
    }

    /// The ratchet's check and move, run under the account's lock.
    async fn under_ratchet<T, F, Fut>(
        &self,
        account_id: uuid::Uuid,
        token: Vec<u8>,
        request_digest: Vec<u8>,
        serialised: Serialised,
        action: F,
    ) -> ServiceResult<Vec<u8>>
    where
        T: Serialize,
        F: FnOnce(AccountRecord, Serialised, ChannelMove) -> Fut,
        Fut: std::future::Future<Output = ServiceResult<T>>,
    {
        let account = self
            .store()
            .account(account_id)
            .await?
            .ok_or_else(|| ServiceError::internal("account vanished"))?;
        let presented = token_digest(&token);
        let channel = &account.channel;
        if presented != channel.ratchet_token {
            let retransmission = channel.previous_token.as_deref() == Some(presented.as_slice())
                && channel.last_request.as_deref() == Some(request_digest.as_slice());
            return match (&channel.last_response, retransmission) {
                (Some(response), true) => Ok(response.clone()),
                _ => Err(self.clone_detected(&account).await?),
            };
        }
        let mut next_token = [0u8; 32];
        self.keys().random(&mut next_token)?;
        let channel_move = ChannelMove {
            account: account.id,
            presented,
            request_digest,
            next_token,
            taken: Arc::default(),
        };
        let result = action(account, serialised, channel_move.clone()).await?;
        if let Some(answer) = channel_move.taken() {
            return Ok(answer);
        }
        let answer = channel_move.answer(&result)?;
        if !self
            .store()
            .advance_channel(&channel_move.advance(answer.clone()))
            .await?
        {
            return Err(StoreError::ChannelMoved.into());
        }
        Ok(answer)
    }

    async fn clone_detected(&self, account: &AccountRecord) -> ServiceResult<ServiceError> {
        tracing::warn!(account = %account.id, document = %account.document_number, "stale ratchet token with a valid MAC: cloned app, account closed");
        let event = crate::store::AuditEvent::new(
            crate::store::AuditKind::CloneDetected,
            "system",
            self.now(),
        )
        .account(account);
        self.store().append_audit(&event).await?;
        self.close_account(account.id, crate::closing::Closure::CloneDetected, None)
            .await?;
        Ok(ServiceError::Conflict(
            "this app's state is stale: the account has been used from a copy of this app, so it is now closed; register again".into(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::AppCredentials;

    #[test]
    fn credentials_never_print_their_secrets() {
        let credentials = AppCredentials {
            account: Some("account-id".into()),
            timestamp: Some("1764700000".into()),
            nonce: Some("nonce-value".into()),
            ratchet: Some("ratchet-token-value".into()),
            mac: Some("mac-value".into()),
        };
        let printed = format!("{credentials:?}");
        assert!(printed.contains("account-id"), "{printed}");
        for secret in ["ratchet-token-value", "mac-value", "nonce-value"] {
            assert!(!printed.contains(secret), "{printed}");
        }
    }
}
