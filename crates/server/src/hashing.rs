//! Password hashing off the async workers, behind a concurrency limit sized to the cores: a
//! login storm queues here instead of starving other requests or allocating 19 MiB per
//! attempt, and past a bounded queue it is refused with `server_busy`.

use crate::metrics::Metrics;
use sekisho_core::password::PasswordHasher;
use sekisho_core::Error;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::sync::Semaphore;

/// The hashing pool.
pub struct HashPool {
    hasher: PasswordHasher,
    permits: Arc<Semaphore>,
    concurrency: usize,
    waiting: AtomicUsize,
    queue_limit: usize,
    /// A hash of a random password, verified for unknown logins so they cost the same time.
    dummy: String,
}

struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl HashPool {
    /// A pool running at most `concurrency` hashes at once with at most `queue_limit` waiting.
    /// `dummy_salt` and `dummy_password` make the timing-equaliser hash.
    pub fn new(
        hasher: PasswordHasher,
        concurrency: usize,
        queue_limit: usize,
        dummy_password: &str,
        dummy_salt: [u8; 16],
    ) -> Result<HashPool, Error> {
        let dummy = hasher.hash(dummy_password, dummy_salt)?;
        Ok(HashPool {
            hasher,
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
            concurrency: concurrency.max(1),
            waiting: AtomicUsize::new(0),
            queue_limit,
            dummy,
        })
    }

    /// The hasher (for parameters).
    pub fn hasher(&self) -> &PasswordHasher {
        &self.hasher
    }

    /// Hashes currently waiting for a permit.
    pub fn waiting(&self) -> usize {
        self.waiting.load(Ordering::Relaxed)
    }

    /// Hashes currently running.
    pub fn running(&self) -> usize {
        self.concurrency
            .saturating_sub(self.permits.available_permits())
    }

    async fn run<T: Send + 'static>(
        &self,
        metrics: &Metrics,
        job: impl FnOnce(&PasswordHasher) -> T + Send + 'static,
    ) -> Result<T, Error> {
        if self.waiting.fetch_add(1, Ordering::Relaxed) >= self.queue_limit {
            self.waiting.fetch_sub(1, Ordering::Relaxed);
            metrics.hash_refused();
            return Err(Error::Busy);
        }
        let guard = Waiting(&self.waiting);
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| Error::Internal)?;
        drop(guard);
        let hasher = self.hasher.clone();
        let started = std::time::Instant::now();
        let out = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            job(&hasher)
        })
        .await
        .map_err(|_| Error::Internal)?;
        metrics.hash_done(started.elapsed());
        Ok(out)
    }

    /// Verifies `password` against `phc`; without a stored hash, verifies against the dummy
    /// hash (same cost) and answers false.
    pub async fn verify(
        &self,
        metrics: &Metrics,
        password: String,
        phc: Option<String>,
    ) -> Result<bool, Error> {
        let (phc, real) = match phc {
            Some(p) => (p, true),
            None => (self.dummy.clone(), false),
        };
        let ok = self
            .run(metrics, move |h| h.verify(&password, &phc))
            .await?;
        Ok(ok && real)
    }

    /// Hashes a new password.
    pub async fn hash(
        &self,
        metrics: &Metrics,
        password: String,
        salt: [u8; 16],
    ) -> Result<String, Error> {
        self.run(metrics, move |h| h.hash(&password, salt)).await?
    }
}
