//! The doors' shared state: the application's context plus what only HTTP needs (the hosted
//! pages' rate limits).

use sekisho_app::{App, HashPool, Settings};
use sekisho_core::secret_box::SecretBox;
use sekisho_core::Timestamp;
use sekisho_core::{Clock, Random};
use sekisho_store::Store;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// What every handler is handed: the application (reached through `Deref`) and the door's own
/// runtime state. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    app: App,
    /// The rate limits of the pages' forms and the passwordless begin.
    pub(crate) limits: Arc<RateLimits>,
}

impl AppState {
    /// Assembles the application and the doors' state around it.
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        rng: Arc<dyn Random>,
        settings: Settings,
        hashes: HashPool,
        secrets: SecretBox,
    ) -> AppState {
        AppState::from_app(App::new(store, clock, rng, settings, hashes, secrets))
    }

    /// The doors' state around an assembled application.
    pub fn from_app(app: App) -> AppState {
        AppState {
            app,
            limits: Arc::new(RateLimits::default()),
        }
    }

    /// The application's context.
    pub fn app(&self) -> &App {
        &self.app
    }
}

impl std::ops::Deref for AppState {
    type Target = App;
    fn deref(&self) -> &App {
        &self.app
    }
}

/// What the doors keep in the server's memory: only the rate-limit counters of the pages' forms
/// and the passwordless begin (per instance; with several instances behind a load balancer each
/// counts on its own). Logins in progress and fresh re-authentications live in the database
/// ([`sekisho_store::FlowStore`]) so any instance can continue what another started.
#[derive(Default)]
pub struct RateLimits {
    hits: Mutex<HashMap<String, (i64, u32)>>,
}

impl RateLimits {
    /// Counts one submission under `key`; `false` when more than `limit` arrived this minute.
    pub(crate) fn allow(&self, key: &str, limit: u32, now: Timestamp) -> bool {
        let Ok(mut hits) = self.hits.lock() else {
            return false;
        };
        let window = now.0 - now.0.rem_euclid(60);
        if hits.len() > 100_000 {
            hits.retain(|_, (w, _)| *w == window);
        }
        let e = hits.entry(key.to_owned()).or_insert((window, 0));
        if e.0 != window {
            *e = (window, 0);
        }
        e.1 += 1;
        e.1 <= limit
    }
}
