//! Batching of hot-path statements.
//!
//! Code validation is the one path that must run at thousands of requests a second. One
//! statement per request makes the database driver the bound (on SQLite every statement is a
//! hand-off to the connection's thread and back; on PostgreSQL a network round trip), so hot
//! statements queue to one task per kind that runs whatever has gathered as one statement (or
//! one transaction) and then answers each caller. Under light load a batch is a single request
//! and nothing waits; under heavy load one round trip carries up to `max` requests.

use crate::{StoreError, StoreResult};
use std::collections::HashSet;
use std::future::Future;
use tokio::sync::{mpsc, oneshot};

/// How many requests may wait for a batch before callers wait to enqueue.
const QUEUE: usize = 8_192;

struct Job<Q, A> {
    request: Q,
    reply: oneshot::Sender<StoreResult<A>>,
}

/// The queue in front of one batching task; the task ends when the queue is dropped.
pub(crate) struct Batcher<Q, A> {
    jobs: mpsc::Sender<Job<Q, A>>,
}

impl<Q: Send + 'static, A: Send + 'static> Batcher<Q, A> {
    /// Starts the task on the current tokio runtime. `run` executes a batch and answers each
    /// request in order. Requests with the same `exclusive` key never share a batch: a later
    /// one waits for the next batch, so it sees the outcome of the earlier one.
    pub(crate) fn start<K, F, Fut>(max: usize, exclusive: fn(&Q) -> Option<K>, run: F) -> Self
    where
        K: std::hash::Hash + Eq + Send + 'static,
        F: Fn(Vec<Q>) -> Fut + Send + 'static,
        Fut: Future<Output = Result<Vec<A>, StoreError>> + Send + 'static,
    {
        let (jobs, rx) = mpsc::channel(QUEUE);
        tokio::spawn(drive(rx, max.max(1), exclusive, run));
        Batcher { jobs }
    }

    /// Queues `request` and waits for its batch to finish.
    pub(crate) async fn call(&self, request: Q) -> StoreResult<A> {
        let (reply, answer) = oneshot::channel();
        let stopped = || StoreError::Backend("the batching task has stopped".into());
        self.jobs
            .send(Job { request, reply })
            .await
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

async fn drive<Q, A, K, F, Fut>(
    mut rx: mpsc::Receiver<Job<Q, A>>,
    max: usize,
    exclusive: fn(&Q) -> Option<K>,
    run: F,
) where
    K: std::hash::Hash + Eq,
    F: Fn(Vec<Q>) -> Fut,
    Fut: Future<Output = Result<Vec<A>, StoreError>>,
{
    let mut carried: Vec<Job<Q, A>> = Vec::new();
    loop {
        let mut batch = std::mem::take(&mut carried);
        if batch.is_empty() {
            match rx.recv().await {
                Some(job) => batch.push(job),
                None => return,
            }
        }
        while batch.len() < max {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let mut keys = HashSet::new();
        let (now, later): (Vec<_>, Vec<_>) = batch
            .into_iter()
            .partition(|job| exclusive(&job.request).is_none_or(|k| keys.insert(k)));
        carried = later;
        let (requests, replies): (Vec<Q>, Vec<_>) =
            now.into_iter().map(|j| (j.request, j.reply)).unzip();
        let n = requests.len();
        match run(requests).await {
            Ok(answers) if answers.len() == n => {
                for (reply, answer) in replies.into_iter().zip(answers) {
                    // A caller that went away (its request was cancelled) needs no answer.
                    let _ = reply.send(Ok(answer));
                }
            }
            Ok(_) => {
                for reply in replies {
                    let _ = reply.send(Err(StoreError::Backend(
                        "a batch answered the wrong number of requests".into(),
                    )));
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "batched statement failed");
                for reply in replies {
                    let _ = reply.send(Err(e.clone()));
                }
            }
        }
    }
}
