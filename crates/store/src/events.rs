//! Telling every node that something a long poll may wait for has happened.
//!
//! On PostgreSQL, events go out with NOTIFY on one channel and every node LISTENs, so a
//! relying party long-polling on node C wakes the moment node B completes its session, with
//! no polling loop on the database. On SQLite there is one node, which wakes its own waiters,
//! so publishing is a no-op and there is nothing to listen to.

use sqlx::postgres::PgListener;
use uuid::Uuid;

use super::{Backend, Store, StoreError};

/// The NOTIFY channel all nodes listen on.
const CHANNEL: &str = "splitid_events";
/// Events per NOTIFY: the payload limit is 8000 bytes, an event is 39.
const EVENTS_PER_NOTIFY: usize = 150;

/// Something a long poll may be waiting for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// A session completed: its relying party's long poll can answer.
    SessionCompleted(Uuid),
    /// A transaction for this account started or ended: its device's long poll can answer.
    AccountChanged(Uuid),
}

impl Event {
    fn encode(self) -> String {
        match self {
            Event::SessionCompleted(id) => format!("s:{id}"),
            Event::AccountChanged(id) => format!("a:{id}"),
        }
    }

    fn decode(text: &str) -> Option<Self> {
        let (kind, id) = text.split_once(':')?;
        let id = Uuid::parse_str(id).ok()?;
        match kind {
            "s" => Some(Event::SessionCompleted(id)),
            "a" => Some(Event::AccountChanged(id)),
            _ => None,
        }
    }
}

/// A node's subscription to every node's events.
pub struct EventListener {
    listener: PgListener,
}

/// What the listener heard.
pub enum Heard {
    Events(Vec<Event>),
    /// The connection was lost and has been re-established: events may have been missed, so
    /// every waiter should look again.
    Reconnected,
}

impl EventListener {
    /// The next events (waits for them).
    pub async fn next(&mut self) -> Result<Heard, StoreError> {
        match self.listener.try_recv().await? {
            Some(notification) => Ok(Heard::Events(
                notification
                    .payload()
                    .split(' ')
                    .filter_map(Event::decode)
                    .collect(),
            )),
            None => Ok(Heard::Reconnected),
        }
    }
}

impl Store {
    /// Tells every node (this one included) about committed changes.
    pub async fn publish(&self, events: &[Event]) -> Result<(), StoreError> {
        if self.backend != Backend::Postgres {
            return Ok(());
        }
        for batch in events.chunks(EVENTS_PER_NOTIFY) {
            let payload: Vec<String> = batch.iter().map(|event| event.encode()).collect();
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(CHANNEL)
                .bind(payload.join(" "))
                .execute(&self.pool)
                .await?;
        }
        Ok(())
    }

    /// Subscribes to every node's events; `None` on SQLite, where there are no other nodes.
    pub async fn listen(&self) -> Result<Option<EventListener>, StoreError> {
        let Some(url) = &self.postgres_url else {
            return Ok(None);
        };
        let mut listener = PgListener::connect(url).await?;
        listener.listen(CHANNEL).await?;
        Ok(Some(EventListener { listener }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_survive_their_encoding() {
        for event in [
            Event::SessionCompleted(Uuid::new_v4()),
            Event::AccountChanged(Uuid::new_v4()),
        ] {
            assert_eq!(Event::decode(&event.encode()), Some(event));
        }
        assert_eq!(Event::decode("x:1"), None);
        assert_eq!(Event::encode(Event::AccountChanged(Uuid::nil())).len(), 38);
    }
}
