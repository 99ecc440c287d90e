//! Web Push: telling a device's browser that a transaction waits (`splitid-push` does the
//! encryption, VAPID and posting).
//!
//! A push is a courtesy, never the way a transaction reaches the phone: the app fetches the
//! transaction over its authenticated channel, and finds it without push too (on opening, or
//! with "Check for transactions"). So sending runs after the session has started, in its own
//! task; a slow, failing or absent push service never delays or fails a session. Any node
//! sends for the sessions it starts: the VAPID key is in the database, sealed under the
//! key-encryption key, so every node opens the same one.
//!
//! The message carries only what the notification shows (the kind of request and the
//! e-service's name), encrypted to the browser and padded; the transaction's id, text and
//! verification code stay out of it.

use std::time::Duration as StdDuration;

use splitid_proto::app_v1::{PushMessage, PushSubscription, TransactionKind};
pub use splitid_push::{DEFAULT_PUSH_ORIGINS, PushOrigins};
use splitid_push::{Delivery, PushSender, Subscription, VapidKey};
use uuid::Uuid;

use crate::Service;
use crate::error::{ServiceError, ServiceResult};
use crate::keystore::KeyStore;
use crate::store::{
    AccountRecord, PushSubscriptionRecord, SessionKind, SessionRecord, Store, VapidKeyRecord,
};

/// The key-store context of the sealed VAPID key.
const VAPID_CONTEXT: &str = "splitid/vapid-key";

/// Which push services the service posts to, and the contact address it gives them.
#[derive(Debug, Clone, Default)]
pub struct PushConfig {
    /// The origins subscriptions' endpoints must have (by default today's browsers' push
    /// services).
    pub origins: PushOrigins,
    /// The `mailto:` or `https:` address push services can reach the operator at; the
    /// service's public URL unless set.
    pub contact: Option<String>,
}

/// A session's kind in the app API's words.
pub(crate) fn transaction_kind(kind: SessionKind) -> TransactionKind {
    match kind {
        SessionKind::Authentication => TransactionKind::Authentication,
        SessionKind::Signature => TransactionKind::Signature,
        SessionKind::CertificateChoice => TransactionKind::CertificateChoice,
    }
}

/// The contact address push services are given: the configured one, else the public URL if it
/// is https (RFC 8292 §2.1 asks for `mailto:` or `https:`), else none (the claim is optional).
fn contact(config: &crate::Config) -> Option<String> {
    config
        .push
        .contact
        .clone()
        .or_else(|| Some(config.public_url.clone()).filter(|url| url.starts_with("https://")))
}

/// Opens the VAPID key, making it first if this is the first node to start.
pub(crate) async fn open_sender(
    store: &Store,
    keys: &KeyStore,
    config: &crate::Config,
    now: time::OffsetDateTime,
) -> ServiceResult<PushSender> {
    if store.vapid_key().await?.is_none() {
        let pkcs8 = VapidKey::generate().map_err(ServiceError::internal)?;
        let key = VapidKey::from_pkcs8(&pkcs8).map_err(ServiceError::internal)?;
        let record = VapidKeyRecord {
            public_key: key.public_key(),
            secret_sealed: keys.seal(&pkcs8, VAPID_CONTEXT)?,
            created_at: now,
        };
        // Another node may have stored its key meanwhile: the stored one is read back below.
        store.add_vapid_key(&record).await?;
    }
    let record = store
        .vapid_key()
        .await?
        .ok_or_else(|| ServiceError::internal("the VAPID key vanished"))?;
    let pkcs8 = keys.open(&record.secret_sealed, VAPID_CONTEXT)?;
    let key = VapidKey::from_pkcs8(&pkcs8).map_err(ServiceError::internal)?;
    if key.public_key() != record.public_key {
        return Err(ServiceError::internal(
            "the stored VAPID key does not match its public key",
        ));
    }
    PushSender::new(key, contact(config)).map_err(ServiceError::internal)
}

impl Service {
    /// The key browsers subscribe with (`applicationServerKey`).
    pub fn push_key(&self) -> ServiceResult<String> {
        Ok(self.push_sender()?.public_key())
    }

    /// Sets where this account's device is told of transactions. Refused (400) when the
    /// endpoint is not at an allowed push service or the keys are malformed.
    pub async fn subscribe_push(
        &self,
        account: &AccountRecord,
        subscription: &PushSubscription,
    ) -> ServiceResult<()> {
        if !account.is_usable(self.now()) {
            return Err(ServiceError::Conflict(
                "this account is closed or expired".into(),
            ));
        }
        let checked = Subscription::parse(
            &subscription.endpoint,
            &subscription.keys.p256dh,
            &subscription.keys.auth,
            &self.config().push.origins,
        )
        .map_err(|error| ServiceError::Invalid(error.to_string()))?;
        let record = PushSubscriptionRecord {
            account: account.id,
            endpoint: checked.endpoint().to_owned(),
            p256dh: checked.p256dh(),
            auth: checked.auth(),
            updated_at: self.now(),
        };
        // Written only while the account is active: a closure committing meanwhile (which
        // deletes the subscription) leaves none behind.
        if !self.store().put_push_subscription(&record).await? {
            return Err(ServiceError::Conflict(
                "this account is closed or expired".into(),
            ));
        }
        Ok(())
    }

    /// Forgets this account's push subscription (the person turned notifications off).
    pub async fn unsubscribe_push(&self, account: &AccountRecord) -> ServiceResult<()> {
        self.store()
            .delete_push_subscription(account.id, None)
            .await?;
        Ok(())
    }

    /// Tells the devices a new session went to, in the background.
    pub(crate) fn push_new_transaction(
        &self,
        session: &SessionRecord,
        relying_party: &str,
        devices: &[Uuid],
    ) {
        let message = PushMessage {
            kind: transaction_kind(session.kind),
            relying_party_name: relying_party.to_owned(),
        };
        let Ok(message) = serde_json::to_vec(&message) else {
            return;
        };
        let ttl = (session.deadline - self.now()).whole_seconds().max(1);
        let ttl = StdDuration::from_secs(ttl.unsigned_abs());
        // One task per device: a push service that hangs delays no other device's message.
        let message = std::sync::Arc::new(message);
        for &account in devices {
            let (service, message) = (self.clone(), message.clone());
            tokio::spawn(async move { service.push_to(account, &message, ttl).await });
        }
    }

    async fn push_to(&self, account: Uuid, message: &[u8], ttl: StdDuration) {
        let stored = match self.store().push_subscription(account).await {
            Ok(Some(stored)) => stored,
            Ok(None) => return,
            Err(error) => {
                tracing::warn!(%account, %error, "reading a push subscription failed");
                return;
            }
        };
        // Checked again: the operator may have withdrawn the push service's origin since.
        let Ok(subscription) = Subscription::parse(
            &stored.endpoint,
            &stored.p256dh,
            &stored.auth,
            &self.config().push.origins,
        ) else {
            tracing::warn!(%account, "a stored push subscription is no longer allowed; forgetting it");
            self.forget_subscription(account, &stored.endpoint).await;
            return;
        };
        let Ok(sender) = self.push_sender() else {
            return;
        };
        let now = self.wall_clock().unix_timestamp();
        let delivery = sender.send(&subscription, message, ttl, now).await;
        let outcome = match &delivery {
            Delivery::Accepted => "accepted",
            Delivery::Gone => "gone",
            Delivery::Refused(_) => "refused",
            Delivery::Unreachable(_) => "unreachable",
            Delivery::NotSent(_) => "not_sent",
            Delivery::Throttled => "throttled",
        };
        metrics::counter!("splitid_push_messages_total", "outcome" => outcome).increment(1);
        match delivery {
            Delivery::Accepted => tracing::debug!(%account, "push message accepted"),
            Delivery::Gone => {
                tracing::info!(%account, "the push service says the subscription is gone; forgetting it");
                self.forget_subscription(account, &stored.endpoint).await;
            }
            Delivery::Refused(status) => {
                tracing::warn!(%account, status, "the push service refused a message")
            }
            Delivery::Unreachable(why) | Delivery::NotSent(why) => {
                tracing::warn!(%account, %why, "a push message could not be sent")
            }
            Delivery::Throttled => {
                tracing::info!(%account, "the push service asked to slow down; message not delivered")
            }
        }
    }

    /// Forgets a subscription if it is still the one at `endpoint` (the device may have sent a
    /// new one meanwhile).
    async fn forget_subscription(&self, account: Uuid, endpoint: &str) {
        if let Err(error) = self
            .store()
            .delete_push_subscription(account, Some(endpoint))
            .await
        {
            tracing::warn!(%account, %error, "forgetting a push subscription failed");
        }
    }
}
