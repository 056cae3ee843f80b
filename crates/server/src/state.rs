//! The state every handler shares: settings, storage, clock, randomness, hashing, metrics.

use crate::hashing::HashPool;
use crate::metrics::Metrics;
use sekisho_core::password::PasswordPolicy;
use sekisho_core::session::SessionPolicy;
use sekisho_core::{Clock, Random};
use sekisho_store::Store;
use std::sync::Arc;

/// Server settings, resolved from the configuration by the binary.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The externally visible base URL (`https://login.example-sec.co.jp`).
    pub public_url: String,
    /// The password policy (preset plus overrides).
    pub password_policy: PasswordPolicy,
    /// Session lifetimes.
    pub session: SessionPolicy,
    /// Lifetime of the restricted session handed out to change a temporary or expired password.
    pub password_change_secs: i64,
    /// Take the client IP from `X-Forwarded-For` (only behind a trusted proxy).
    pub trust_forwarded_for: bool,
    /// Largest accepted request body.
    pub max_body_bytes: usize,
}

/// Shared, cheaply clonable state.
#[derive(Clone)]
pub struct AppState(pub(crate) Arc<Inner>);

/// The shared parts (reached through [`AppState`]'s `Deref`).
pub struct Inner {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) rng: Arc<dyn Random>,
    pub(crate) settings: Settings,
    pub(crate) hashes: HashPool,
    pub(crate) metrics: Metrics,
}

impl AppState {
    /// Assembles the state.
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        rng: Arc<dyn Random>,
        settings: Settings,
        hashes: HashPool,
    ) -> AppState {
        AppState(Arc::new(Inner {
            store,
            clock,
            rng,
            settings,
            hashes,
            metrics: Metrics::default(),
        }))
    }
}

impl Inner {
    /// The storage.
    pub fn store(&self) -> &std::sync::Arc<dyn Store> {
        &self.store
    }
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}
