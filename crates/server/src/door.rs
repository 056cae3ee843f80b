//! The doors' shared state: the application's context. Rate limits are the application's
//! throttle, kept in the database (`sekisho_app::throttle`), so no door keeps counters in
//! memory.

use sekisho_app::{App, HashPool, Settings};
use sekisho_core::secret_box::SecretBox;
use sekisho_core::{Clock, Random};
use sekisho_store::Store;
use std::sync::Arc;

/// What every handler is handed: the application (reached through `Deref`) and the door's own
/// runtime state. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    app: App,
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
        AppState { app }
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
