//! Serialising each account's state-changing app requests, within a node and across nodes.
//!
//! A PIN attempt is counted durably *before* it is judged, and judged with the count it saw,
//! and the app channel's ratchet moves on once per token, so two such requests for one
//! account must never overlap, wherever they arrive. Every one of them runs under the app
//! channel's ratchet (the server's `Service::ratcheted`), which holds this lock; PIN judging
//! asks for the [`Serialised`] proof that it does.
//!
//! Within a node a mutex per account orders them; on PostgreSQL a session-level advisory lock
//! does the same across nodes. It is held on a connection of a separate small pool for the
//! whole request (several transactions), and released explicitly; if the holder is cancelled
//! or its node dies, the connection closes and PostgreSQL releases the lock, so a dead node
//! never blocks an account. (A separate pool, because a holder also needs a connection to
//! work with: sharing one pool, enough holders would starve themselves.) SQLite needs only
//! the mutex: one node owns the file.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use sqlx::Any;
use sqlx::pool::PoolConnection;
use tokio::sync::OwnedMutexGuard;
use uuid::Uuid;

use super::{Store, StoreError};

/// This node's mutexes, one per (account, scope) in use.
#[derive(Default)]
pub(super) struct LocalLocks(Mutex<HashMap<Uuid, Arc<tokio::sync::Mutex<()>>>>);

impl LocalLocks {
    fn of(&self, account: Uuid) -> Arc<tokio::sync::Mutex<()>> {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        // Forget the mutexes nobody holds or waits for, so the map stays as small as the
        // number of accounts busy right now.
        map.retain(|_, mutex| Arc::strong_count(mutex) > 1);
        map.entry(account).or_default().clone()
    }
}

/// The advisory-lock key of an account: 64 bits of a hash (a collision only makes two
/// accounts wait for each other now and then).
fn advisory_key(account: Uuid) -> i64 {
    let mut context = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
    context.update(b"splitid/account-lock/");
    context.update(account.as_bytes());
    let digest = context.finish();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest.as_ref()[..8]);
    i64::from_be_bytes(first)
}

/// A held account lock. Release it with [`release`](Self::release); dropping it unreleased
/// (a cancelled request) closes its database connection, which releases it too.
pub struct AccountLock {
    account: Uuid,
    _local: OwnedMutexGuard<()>,
    remote: Option<(PoolConnection<Any>, i64)>,
}

/// Proof, for code that needs it, that the caller holds an account's lock.
#[derive(Debug, Clone, Copy)]
pub struct Serialised {
    account: Uuid,
}

impl Serialised {
    /// Whether this is the proof for `account`.
    pub fn covers(self, account: Uuid) -> bool {
        self.account == account
    }
}

impl AccountLock {
    pub fn proof(&self) -> Serialised {
        Serialised {
            account: self.account,
        }
    }

    /// Never fails: if the unlock cannot be sent, the connection is closed instead, which
    /// releases the lock all the same.
    pub async fn release(mut self) {
        if let Some((mut connection, key)) = self.remote.take() {
            let unlocked = sqlx::query("SELECT pg_advisory_unlock($1)")
                .bind(key)
                .execute(&mut *connection)
                .await;
            if let Err(error) = unlocked {
                tracing::warn!(%error, "advisory unlock failed; closing its connection instead");
                connection.close_on_drop();
            }
        }
    }
}

impl Drop for AccountLock {
    fn drop(&mut self) {
        if let Some((connection, _)) = self.remote.as_mut() {
            connection.close_on_drop();
        }
    }
}

impl Store {
    /// Waits for an account's lock; see the module documentation.
    pub async fn lock_account(&self, account: Uuid) -> Result<AccountLock, StoreError> {
        let local = self.local_locks.of(account).lock_owned().await;
        let remote = match &self.lock_pool {
            None => None,
            Some(pool) => {
                let key = advisory_key(account);
                let mut connection = pool.acquire().await?;
                sqlx::query("SELECT pg_advisory_lock($1)")
                    .bind(key)
                    .execute(&mut *connection)
                    .await?;
                Some((connection, key))
            }
        };
        Ok(AccountLock {
            account,
            _local: local,
            remote,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_account_has_its_own_key() {
        let a = Uuid::from_u128(1);
        let b = Uuid::from_u128(2);
        assert_ne!(advisory_key(a), advisory_key(b));
        assert_eq!(advisory_key(a), advisory_key(a));
    }

    #[tokio::test]
    async fn a_second_holder_waits_for_the_first() {
        let (store, _database) = Store::for_tests().await;
        let account = Uuid::new_v4();
        let first = store.lock_account(account).await.unwrap();
        assert!(first.proof().covers(account));
        let waiting = tokio::time::timeout(
            std::time::Duration::from_millis(50),
            store.lock_account(account),
        )
        .await;
        assert!(waiting.is_err(), "the second holder got in");
        let other = store.lock_account(Uuid::new_v4()).await.unwrap();
        other.release().await;
        first.release().await;
        store.lock_account(account).await.unwrap().release().await;
    }
}
