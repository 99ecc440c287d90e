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
    /// For state-changing requests: what the ratchet judges.
    ratchet: Option<RatchetedRequest>,
}

/// A state-changing request, whose freshness and nonce are judged under the ratchet: a
/// retransmission of the last request is answered from the record however old it is.
struct RatchetedRequest {
    token: Vec<u8>,
    digest: Vec<u8>,
    freshness: Freshness,
}

/// A request's timestamp and nonce, checked against the window and the nonces seen.
struct Freshness {
    sent_at: i64,
    nonce: String,
}

/// The channel's next move for one request, prepared before its action runs. The action may
/// take it, carrying its result, into its own commit ([`carrying`](Self::carrying)); an action
/// that takes it must commit it or fail. Otherwise the channel moves after the action.
#[derive(Clone)]
pub struct ChannelMove {
    /// To seal the stored answer.
    service: Service,
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

    /// The channel's next state; the answer is kept sealed, since it carries the next token.
    fn advance(&self, answer: Vec<u8>) -> ServiceResult<ChannelAdvance> {
        let sealed = self
            .service
            .keys()
            .seal(&answer, &last_answer_context(self.account))?;
        Ok(ChannelAdvance {
            account: self.account,
            expected_token: self.presented.clone(),
            next: ChannelState {
                ratchet_token: token_digest(&self.next_token),
                previous_token: Some(self.presented.clone()),
                last_request: Some(self.request_digest.clone()),
                last_response: Some(sealed),
            },
        })
    }

    /// The move with `result` as the request's answer, for the action to commit with it.
    pub fn carrying<T: Serialize>(&self, result: &T) -> ServiceResult<ChannelAdvance> {
        let answer = self.answer(result)?;
        *self.taken.lock().unwrap_or_else(PoisonError::into_inner) = Some(answer.clone());
        self.advance(answer)
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

/// The key-store context of an account's sealed last answer.
fn last_answer_context(account: Uuid) -> String {
    format!("splitid/{account}/last-answer")
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
        // A closure a crash interrupted is finished before anything else happens.
        let account = self.close_if_locked_for_good(account).await?;
        let freshness = Freshness {
            sent_at: timestamp
                .parse()
                .map_err(|_| unauthorized("bad timestamp"))?,
            nonce: nonce.to_owned(),
        };
        if !ratcheted {
            self.check_fresh(account.id, &freshness).await?;
            return Ok(Authenticated {
                account,
                ratchet: None,
            });
        }
        let token = BASE64
            .decode(ratchet)
            .map_err(|_| unauthorized("the ratchet token is not base64"))?;
        Ok(Authenticated {
            account,
            ratchet: Some(RatchetedRequest {
                token,
                digest: digest::digest(&digest::SHA256, &input).as_ref().to_vec(),
                freshness,
            }),
        })
    }

    /// Refuses a request whose timestamp is outside the window, or whose nonce this account
    /// used before (a replay, on any node, before or after a restart); remembers the nonce
    /// for the rest of the window otherwise.
    async fn check_fresh(&self, account: Uuid, freshness: &Freshness) -> ServiceResult<()> {
        let now = self.wall_clock().unix_timestamp();
        if (now - freshness.sent_at).abs() > CLOCK_SKEW_SECONDS {
            return Err(ServiceError::NotAuthenticated(
                "the request's timestamp is too far from the server's clock".into(),
            ));
        }
        if !self
            .store()
            .remember_nonce(
                account,
                &freshness.nonce,
                freshness.sent_at + CLOCK_SKEW_SECONDS,
            )
            .await?
        {
            return Err(ServiceError::NotAuthenticated(
                "this request was received before: a replayed request is refused".into(),
            ));
        }
        Ok(())
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
        let ratcheted = request
            .ratchet
            .ok_or_else(|| ServiceError::internal("ratcheted without a token"))?;
        let lock = self.store().lock_account(request.account.id).await?;
        let serialised = lock.proof();
        let result = self
            .under_ratchet(request.account.id, ratcheted, serialised, action)
            .await;
        lock.release().await;
        result
    }

    /// The ratchet's check and move, run under the account's lock.
    async fn under_ratchet<T, F, Fut>(
        &self,
        account_id: uuid::Uuid,
        request: RatchetedRequest,
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
        let presented = token_digest(&request.token);
        let channel = &account.channel;
        if presented != channel.ratchet_token {
            let retransmission = channel.previous_token.as_deref() == Some(presented.as_slice())
                && channel.last_request.as_deref() == Some(request.digest.as_slice());
            if retransmission {
                return self.last_answer(&account);
            }
            // Only a fresh request never seen before, with a valid MAC, on a superseded token
            // can come from a copy of the app's storage; a replay of an old one is refused
            // and changes nothing.
            self.check_fresh(account.id, &request.freshness).await?;
            return Err(self.clone_detected(&account).await?);
        }
        self.check_fresh(account.id, &request.freshness).await?;
        let mut next_token = [0u8; 32];
        self.keys().random(&mut next_token)?;
        let channel_move = ChannelMove {
            service: self.clone(),
            account: account.id,
            presented,
            request_digest: request.digest,
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
            .advance_channel(&channel_move.advance(answer.clone())?)
            .await?
        {
            return Err(StoreError::ChannelMoved.into());
        }
        Ok(answer)
    }

    /// The stored answer to the account's last state-changing request, for its
    /// retransmission. It is kept sealed (it carries the next ratchet token); an answer
    /// stored in clear by an older version is still given.
    fn last_answer(&self, account: &AccountRecord) -> ServiceResult<Vec<u8>> {
        let Some(stored) = &account.channel.last_response else {
            return Err(ServiceError::Conflict(
                "the answer to this request is no longer kept: register this device again".into(),
            ));
        };
        match self.keys().open(stored, &last_answer_context(account.id)) {
            Ok(answer) => Ok(answer.to_vec()),
            Err(_) if serde_json::from_slice::<serde_json::Value>(stored).is_ok() => {
                Ok(stored.clone())
            }
            Err(error) => Err(error.into()),
        }
    }

    /// Seals the answers an older version kept in clear (they carry a ratchet token), once,
    /// at start.
    pub(crate) async fn seal_plain_channel_answers(&self) -> ServiceResult<()> {
        for (account, stored) in self.store().stored_channel_answers().await? {
            if serde_json::from_slice::<serde_json::Value>(&stored).is_ok() {
                let sealed = self.keys().seal(&stored, &last_answer_context(account))?;
                self.store()
                    .replace_channel_answer(account, &stored, &sealed)
                    .await?;
            }
        }
        Ok(())
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
