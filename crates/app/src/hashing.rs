//! Password hashing off the async workers, on a fixed set of threads sized to the cores: a
//! login storm queues here instead of starving other requests, and past a bounded queue it is
//! refused with `server_busy`.
//!
//! Each thread owns one Argon2 working memory (the memory cost, 19 MiB by default) and reuses it
//! for every hash. Allocating it per hash, on tokio's growing blocking pool, fragmented the
//! allocator's arenas until a busy server held hundreds of MiB; now memory stays near
//! `concurrency` × memory cost.

use crate::metrics::Metrics;
use sekisho_core::password::{HashMemory, PasswordHasher};
use sekisho_core::Error;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};

type Job = Box<dyn FnOnce(&PasswordHasher, &mut HashMemory) + Send>;

/// The hashing pool.
pub struct HashPool {
    hasher: PasswordHasher,
    jobs: SyncSender<Job>,
    concurrency: usize,
    waiting: Arc<AtomicUsize>,
    running: Arc<AtomicUsize>,
    /// A hash of a random password, verified for unknown logins so they cost the same time.
    dummy: String,
}

impl HashPool {
    /// A pool of `concurrency` hashing threads with at most `queue_limit` hashes waiting.
    /// `dummy_salt` and `dummy_password` make the timing-equaliser hash.
    pub fn new(
        hasher: PasswordHasher,
        concurrency: usize,
        queue_limit: usize,
        dummy_password: &str,
        dummy_salt: [u8; 16],
    ) -> Result<HashPool, Error> {
        let dummy = hasher.hash(dummy_password, dummy_salt)?;
        let concurrency = concurrency.max(1);
        let (jobs, queue) = sync_channel::<Job>(queue_limit.max(1));
        let queue = Arc::new(Mutex::new(queue));
        let waiting = Arc::new(AtomicUsize::new(0));
        let running = Arc::new(AtomicUsize::new(0));
        for i in 0..concurrency {
            let worker = Worker {
                hasher: hasher.clone(),
                queue: queue.clone(),
                waiting: waiting.clone(),
                running: running.clone(),
            };
            std::thread::Builder::new()
                .name(format!("sekisho-hash-{i}"))
                .spawn(move || worker.run())
                .map_err(|_| Error::Internal)?;
        }
        Ok(HashPool {
            hasher,
            jobs,
            concurrency,
            waiting,
            running,
            dummy,
        })
    }

    /// The hasher (for parameters).
    pub fn hasher(&self) -> &PasswordHasher {
        &self.hasher
    }

    /// Hashes currently waiting for a thread.
    pub fn waiting(&self) -> usize {
        self.waiting.load(Ordering::Relaxed)
    }

    /// Hashes currently running.
    pub fn running(&self) -> usize {
        self.running.load(Ordering::Relaxed).min(self.concurrency)
    }

    async fn run<T: Send + 'static>(
        &self,
        metrics: &Metrics,
        job: impl FnOnce(&PasswordHasher, &mut HashMemory) -> T + Send + 'static,
    ) -> Result<T, Error> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move |h, memory| {
            // The hash's duration feeds the /metrics histogram and decides nothing.
            #[allow(clippy::disallowed_methods)]
            let started = std::time::Instant::now();
            let out = job(h, memory);
            let _ = reply.send((out, started.elapsed()));
        });
        self.waiting.fetch_add(1, Ordering::Relaxed);
        match self.jobs.try_send(job) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                self.waiting.fetch_sub(1, Ordering::Relaxed);
                metrics.hash_refused();
                return Err(Error::Busy);
            }
            Err(TrySendError::Disconnected(_)) => {
                self.waiting.fetch_sub(1, Ordering::Relaxed);
                return Err(Error::Internal);
            }
        }
        let (out, took) = answer.await.map_err(|_| Error::Internal)?;
        metrics.hash_done(took);
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
            .run(metrics, move |h, m| h.verify_with(&password, &phc, m))
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
        self.run(metrics, move |h, m| h.hash_with(&password, salt, m))
            .await?
    }
}

/// One hashing thread: takes jobs until the pool is dropped.
struct Worker {
    hasher: PasswordHasher,
    queue: Arc<Mutex<Receiver<Job>>>,
    waiting: Arc<AtomicUsize>,
    running: Arc<AtomicUsize>,
}

impl Worker {
    fn run(self) {
        let mut memory = HashMemory::new();
        loop {
            let job = match self.queue.lock() {
                Ok(q) => q.recv(),
                Err(_) => return,
            };
            let Ok(job) = job else {
                return; // the pool is gone
            };
            self.waiting.fetch_sub(1, Ordering::Relaxed);
            self.running.fetch_add(1, Ordering::Relaxed);
            job(&self.hasher, &mut memory);
            self.running.fetch_sub(1, Ordering::Relaxed);
        }
    }
}
