//! The push channel: `GET /app/v1/accounts/{id}/events`, a server-sent-events stream that
//! delivers each transaction for this account the moment its session starts. It plays the role
//! of a mobile push notification: it carries the relying party's name and the verification
//! code, and the app then fetches and answers the transaction as usual.

use std::collections::HashSet;
use std::convert::Infallible;
use std::time::Duration;

use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream;
use futures_util::{Stream, StreamExt};

use splitid_domain::Service;
use splitid_domain::error::ServiceResult;
use splitid_domain::store::AccountRecord;

/// Idle connections get a comment this often, so proxies keep them open.
const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// A stream ends after this long and the app connects again, authenticating afresh: a
/// stream is never a standing credential (a replayed request could not open one anyway,
/// nor could one outlive the account's deletion by more than this).
pub const STREAM_LIFETIME: Duration = Duration::from_secs(300);

struct Listener {
    service: Service,
    account: AccountRecord,
    announced: HashSet<String>,
}

impl Listener {
    /// Waits until a transaction not yet announced is open, and returns its event.
    async fn next_event(&mut self) -> ServiceResult<Event> {
        loop {
            let notify = self.service.waiters().account(self.account.id);
            let notified = notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let open = self
                .service
                .pending_transactions(&self.account, Duration::ZERO)
                .await?;
            if let Some(new) = open
                .into_iter()
                .find(|t| !self.announced.contains(&t.transaction_id))
            {
                self.announced.insert(new.transaction_id.clone());
                let data = serde_json::to_string(&new)
                    .map_err(splitid_domain::error::ServiceError::internal)?;
                return Ok(Event::default()
                    .event("transaction")
                    .id(new.transaction_id)
                    .data(data));
            }
            notified.await;
        }
    }
}

/// The event stream for an authenticated account. It ends if the store fails.
pub(crate) fn stream_for(
    service: Service,
    account: AccountRecord,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let listener = Listener {
        service,
        account,
        announced: HashSet::new(),
    };
    let events = stream::unfold(Some(listener), |state| async move {
        let mut listener = state?;
        match listener.next_event().await {
            Ok(event) => Some((Ok(event), Some(listener))),
            Err(error) => {
                tracing::error!(%error, "push channel ended");
                None
            }
        }
    });
    let events = events.take_until(tokio::time::sleep(STREAM_LIFETIME));
    Sse::new(events).keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
}
