//! The server's channel keys: what apps seal their PIN-testable secrets to (partial
//! signatures, the server's exponent share; see `splitid-sealing`).
//!
//! One key per generation, in the store; the newest is current and is what
//! `GET /app/v1/server-key` publishes, with the signed rotations that lead to it. A rotated
//! key still opens what was sealed to it until it retires (the overlap period), so an app
//! that sealed just before a rotation is not refused. The secret halves are sealed under the
//! key-encryption key (file or PKCS#11 token) and opened once per node into a cache.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use splitid_proto::app_v1::{KeyRotation, SealedSecret, ServerKey, ServerKeyDocument};
use splitid_sealing::{Binding, ServerKeyPair};
use time::{Duration, OffsetDateTime};
use zeroize::Zeroizing;

use crate::Service;
use crate::error::{ServiceError, ServiceResult};
use crate::store::ChannelKeyRecord;

/// How long a rotated key keeps opening what was sealed to it, unless the operator says.
pub const DEFAULT_OVERLAP: Duration = Duration::days(30);

/// Opened channel keys of this node, by key id.
#[derive(Default)]
pub struct ChannelKeyCache {
    keys: Mutex<HashMap<String, CachedKey>>,
}

#[derive(Clone)]
struct CachedKey {
    pair: Arc<ServerKeyPair>,
    retires_at: Option<OffsetDateTime>,
}

fn seal_context(key_id: &str) -> String {
    format!("splitid/channel-key/{key_id}")
}

fn public_of(record: &ChannelKeyRecord) -> ServiceResult<ServerKey> {
    serde_json::from_str(&record.public_key).map_err(ServiceError::internal)
}

impl Service {
    /// Makes the first channel key if there is none (a new data directory or database).
    pub(crate) async fn ensure_channel_key(&self) -> ServiceResult<()> {
        if self.store().channel_keys().await?.is_empty() {
            let pair = ServerKeyPair::generate().map_err(ServiceError::internal)?;
            let record = self.channel_key_record(&pair, 1, None)?;
            // Another node may have made it meanwhile: then its key is the first.
            self.store().add_channel_key(&record, None).await?;
        }
        Ok(())
    }

    fn channel_key_record(
        &self,
        pair: &ServerKeyPair,
        generation: i64,
        rotation: Option<&KeyRotation>,
    ) -> ServiceResult<ChannelKeyRecord> {
        let public = pair.public().to_wire();
        Ok(ChannelKeyRecord {
            generation,
            key_id: public.key_id.clone(),
            public_key: serde_json::to_string(&public).map_err(ServiceError::internal)?,
            secret_sealed: self
                .keys()
                .seal(pair.secret(), &seal_context(&public.key_id))?,
            rotation: rotation
                .map(serde_json::to_string)
                .transpose()
                .map_err(ServiceError::internal)?,
            created_at: self.now(),
            retires_at: None,
        })
    }

    /// The current key and the rotations that lead to it: what `GET /app/v1/server-key`
    /// answers.
    pub async fn channel_key_document(&self) -> ServiceResult<ServerKeyDocument> {
        let records = self.store().channel_keys().await?;
        let current = records
            .last()
            .ok_or_else(|| ServiceError::internal("no channel key"))?;
        let rotations = records
            .iter()
            .filter_map(|r| r.rotation.as_deref())
            .map(serde_json::from_str)
            .collect::<Result<_, _>>()
            .map_err(ServiceError::internal)?;
        Ok(ServerKeyDocument {
            current: public_of(current)?,
            rotations,
        })
    }

    /// The id of the current channel key (what the app seals to).
    pub async fn current_channel_key_id(&self) -> ServiceResult<String> {
        let records = self.store().channel_keys().await?;
        records
            .last()
            .map(|r| r.key_id.clone())
            .ok_or_else(|| ServiceError::internal("no channel key"))
    }

    /// Every channel key with its times (the admin tool's listing).
    pub async fn channel_keys(&self) -> ServiceResult<Vec<ChannelKeyRecord>> {
        Ok(self.store().channel_keys().await?)
    }

    /// Makes a new current key, signed by the current one, which keeps opening what was
    /// sealed to it for `overlap`.
    pub async fn rotate_channel_key(&self, overlap: Duration) -> ServiceResult<ServerKey> {
        let records = self.store().channel_keys().await?;
        let current = records
            .last()
            .ok_or_else(|| ServiceError::internal("no channel key"))?;
        let current_pair = self.opened_channel_key(current)?;
        let next = ServerKeyPair::generate().map_err(ServiceError::internal)?;
        let rotation = current_pair.rotate_to(next.public());
        let record = self.channel_key_record(&next, current.generation + 1, Some(&rotation))?;
        if !self
            .store()
            .add_channel_key(&record, Some(self.now() + overlap))
            .await?
        {
            return Err(ServiceError::Conflict(
                "the channel key was rotated meanwhile; list the keys and try again".into(),
            ));
        }
        self.inner_channel_keys()
            .keys
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
        tracing::info!(key = %record.key_id, generation = record.generation, "channel key rotated");
        public_of(&record)
    }

    fn opened_channel_key(&self, record: &ChannelKeyRecord) -> ServiceResult<ServerKeyPair> {
        let secret = self
            .keys()
            .open(&record.secret_sealed, &seal_context(&record.key_id))?;
        ServerKeyPair::from_secret(&secret).map_err(ServiceError::internal)
    }

    /// The opened key `key_id`, from this node's cache or the store (a key another node
    /// made since).
    async fn channel_key(&self, key_id: &str) -> ServiceResult<Option<CachedKey>> {
        let cache = &self.inner_channel_keys().keys;
        if let Some(key) = cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(key_id)
        {
            return Ok(Some(key.clone()));
        }
        let records = self.store().channel_keys().await?;
        let Some(record) = records.iter().find(|r| r.key_id == key_id) else {
            return Ok(None);
        };
        let key = CachedKey {
            pair: Arc::new(self.opened_channel_key(record)?),
            retires_at: record.retires_at,
        };
        cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(key_id.to_owned(), key.clone());
        Ok(Some(key))
    }

    /// Opens a secret the app sealed for `binding`. `field` names it in the refusal: a value
    /// that does not open (tampered, moved from elsewhere, sealed to an unknown or retired
    /// key) is the app's error, and changes nothing.
    pub(crate) async fn open_sealed(
        &self,
        field: &str,
        sealed: &SealedSecret,
        binding: Binding<'_>,
    ) -> ServiceResult<Zeroizing<Vec<u8>>> {
        let key = self
            .channel_key(&sealed.key_id)
            .await?
            .filter(|key| key.retires_at.is_none_or(|retires| self.now() < retires));
        let Some(key) = key else {
            return Err(ServiceError::Invalid(format!(
                "{field}: sealed to a server key that is unknown or retired; fetch GET /app/v1/server-key and seal again"
            )));
        };
        key.pair
            .open(sealed, &binding)
            .map_err(|e| ServiceError::Invalid(format!("{field}: {e}")))
    }
}
