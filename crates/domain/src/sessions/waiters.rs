//! Wake-ups: a relying party's long poll waits on its session, a device's long poll (and push
//! channel) on its account. Whoever changes one announces it ([`Service::announce`]): this
//! node's waiters wake at once, and on PostgreSQL every other node's through the database's
//! NOTIFY, which each node's listener ([`Service::listen_to_other_nodes`]) turns back into
//! local wake-ups. The waiters themselves are only this node's memory: a long poll re-reads
//! the database whenever it wakes, so nothing is lost with them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;
use uuid::Uuid;

use crate::Service;
use crate::store::{Event, Heard};

#[derive(Default)]
pub struct Waiters {
    sessions: Mutex<HashMap<Uuid, Arc<Notify>>>,
    accounts: Mutex<HashMap<Uuid, Arc<Notify>>>,
}

fn entry(map: &Mutex<HashMap<Uuid, Arc<Notify>>>, id: Uuid) -> Arc<Notify> {
    let mut map = map.lock().unwrap_or_else(|e| e.into_inner());
    // Forget the entries nobody waits on any more, so the maps stay as small as the number
    // of long polls open right now.
    map.retain(|_, notify| Arc::strong_count(notify) > 1);
    map.entry(id).or_default().clone()
}

fn wake(map: &Mutex<HashMap<Uuid, Arc<Notify>>>, id: Uuid) {
    let notify = map
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(&id)
        .cloned();
    if let Some(notify) = notify {
        notify.notify_waiters();
    }
}

fn wake_all(map: &Mutex<HashMap<Uuid, Arc<Notify>>>) {
    let all: Vec<_> = map
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .values()
        .cloned()
        .collect();
    all.iter().for_each(|notify| notify.notify_waiters());
}

impl Waiters {
    /// What a long poll on a session waits on.
    pub fn session(&self, id: Uuid) -> Arc<Notify> {
        entry(&self.sessions, id)
    }

    /// What a device's long poll waits on.
    pub fn account(&self, id: Uuid) -> Arc<Notify> {
        entry(&self.accounts, id)
    }

    /// Wakes this node's waiters on what changed.
    pub fn wake(&self, event: Event) {
        match event {
            Event::SessionCompleted(id) => wake(&self.sessions, id),
            Event::AccountChanged(id) => wake(&self.accounts, id),
        }
    }

    /// Wakes every waiter of this node, to look again (events may have been missed).
    pub fn wake_everyone(&self) {
        wake_all(&self.sessions);
        wake_all(&self.accounts);
    }
}

impl Service {
    /// Announces committed changes to every long poll that may wait for them, on this node and
    /// on every other. A failure to tell the other nodes is logged, not returned: the change
    /// is committed, and their long polls find it when they next look.
    pub(crate) async fn announce(&self, events: &[Event]) {
        events.iter().for_each(|event| self.waiters().wake(*event));
        if let Err(error) = self.store().publish(events).await {
            tracing::error!(%error, "telling the other nodes about a change failed");
        }
    }

    /// Turns the other nodes' announcements into wake-ups on this node, for as long as the
    /// service runs (PostgreSQL only: on SQLite there are no other nodes). Waits until it
    /// listens, so that a node is ready only once it hears the others.
    pub(crate) async fn listen_to_other_nodes(&self) -> crate::error::ServiceResult<()> {
        let Some(mut listener) = self.store().listen().await? else {
            return Ok(());
        };
        let service = self.clone();
        tokio::spawn(async move {
            loop {
                match listener.next().await {
                    Ok(Heard::Events(events)) => events
                        .iter()
                        .for_each(|event| service.waiters().wake(*event)),
                    Ok(Heard::Reconnected) => {
                        tracing::warn!("the event listener reconnected; waking every long poll");
                        service.waiters().wake_everyone();
                    }
                    Err(error) => {
                        tracing::error!(%error, "the event listener failed; retrying in a second");
                        service.waiters().wake_everyone();
                        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                    }
                }
            }
        });
        Ok(())
    }
}

/// Counts a long poll while it waits.
pub struct LongPoll;

impl LongPoll {
    pub fn start() -> Self {
        metrics::gauge!("splitid_long_poll_waiters").increment(1.0);
        LongPoll
    }
}

impl Drop for LongPoll {
    fn drop(&mut self) {
        metrics::gauge!("splitid_long_poll_waiters").decrement(1.0);
    }
}
