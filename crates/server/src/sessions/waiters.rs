//! Wake-ups: a relying party's long poll waits on its session, a device's long poll (and push
//! channel) on its account. Whoever changes one notifies it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;
use uuid::Uuid;

#[derive(Default)]
pub struct Waiters {
    sessions: Mutex<HashMap<Uuid, Arc<Notify>>>,
    accounts: Mutex<HashMap<Uuid, Arc<Notify>>>,
}

fn entry(map: &Mutex<HashMap<Uuid, Arc<Notify>>>, id: Uuid) -> Arc<Notify> {
    map.lock()
        .unwrap_or_else(|e| e.into_inner())
        .entry(id)
        .or_default()
        .clone()
}

fn wake(map: &Mutex<HashMap<Uuid, Arc<Notify>>>, id: Uuid, forget: bool) {
    let mut map = map.lock().unwrap_or_else(|e| e.into_inner());
    let notify = if forget {
        map.remove(&id)
    } else {
        map.get(&id).cloned()
    };
    if let Some(notify) = notify {
        notify.notify_waiters();
    }
}

impl Waiters {
    /// What a long poll on a session waits on.
    pub fn session(&self, id: Uuid) -> Arc<Notify> {
        entry(&self.sessions, id)
    }

    /// Wakes everyone waiting on a session that has completed (and forgets it).
    pub fn session_completed(&self, id: Uuid) {
        wake(&self.sessions, id, true);
    }

    /// What a device's long poll waits on.
    pub fn account(&self, id: Uuid) -> Arc<Notify> {
        entry(&self.accounts, id)
    }

    /// Wakes a device: a transaction for it started or ended.
    pub fn account_changed(&self, id: Uuid) {
        wake(&self.accounts, id, false);
    }
}
