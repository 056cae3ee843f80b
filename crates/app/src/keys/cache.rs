//! What an instance keeps of the signing keys between signatures: the list of keys, read again
//! once it is [`LIST_SECS`] old (so a key made or retired by another instance or by `sekisho
//! keys` is seen within that), and each key's opened private half and parsed public half,
//! which never change for a `kid`. Without it every signature read every key row and opened a
//! sealed private key, and every verification read the rows again.

use sekisho_core::secret_box::SecretBox;
use sekisho_core::{Error, Timestamp};
use sekisho_store::{SigningKey, Store};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// How long the list of keys read from the database is used before it is read again.
pub const LIST_SECS: i64 = 5;

/// The signing keys as this instance last read them (see the module documentation).
#[derive(Default)]
pub struct KeyCache {
    list: Mutex<Option<Listed>>,
    private: Mutex<HashMap<String, Arc<jsonwebtoken::EncodingKey>>>,
    public: Mutex<HashMap<String, Arc<jsonwebtoken::DecodingKey>>>,
}

struct Listed {
    at: Timestamp,
    keys: Arc<Vec<SigningKey>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl KeyCache {
    /// Every key (oldest first, as the store lists them), read again when the list is
    /// [`LIST_SECS`] old or the clock went back.
    pub(super) async fn keys(
        &self,
        store: &dyn Store,
        now: Timestamp,
    ) -> Result<Arc<Vec<SigningKey>>, Error> {
        if let Some(l) = lock(&self.list).as_ref() {
            if (0..LIST_SECS).contains(&(now.0 - l.at.0)) {
                return Ok(l.keys.clone());
            }
        }
        let keys = Arc::new(store.signing_keys().await.map_err(|_| Error::Internal)?);
        *lock(&self.list) = Some(Listed {
            at: now,
            keys: keys.clone(),
        });
        Ok(keys)
    }

    /// Forgets the list (this instance just made a key).
    pub(super) fn forget_list(&self) {
        *lock(&self.list) = None;
    }

    /// The private half of `key`, opened once.
    pub(super) fn private(
        &self,
        key: &SigningKey,
        secrets: &SecretBox,
    ) -> Result<Arc<jsonwebtoken::EncodingKey>, Error> {
        if let Some(k) = lock(&self.private).get(&key.kid) {
            return Ok(k.clone());
        }
        let opened = Arc::new(super::encoding_key(key, secrets)?);
        lock(&self.private).insert(key.kid.clone(), opened.clone());
        Ok(opened)
    }

    /// The public half of `key`, parsed once (`None` if its JWK is unusable).
    pub(super) fn public(&self, key: &SigningKey) -> Option<Arc<jsonwebtoken::DecodingKey>> {
        if let Some(k) = lock(&self.public).get(&key.kid) {
            return Some(k.clone());
        }
        let parsed = Arc::new(super::decoding_key(key)?);
        lock(&self.public).insert(key.kid.clone(), parsed.clone());
        Some(parsed)
    }
}
