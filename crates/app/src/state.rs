//! The application's context, handed to every use case: settings, storage, clock, randomness,
//! hashing, metrics, secrets and the WebAuthn relying party.

use crate::hashing::HashPool;
use crate::metrics::Metrics;
use crate::settings::Settings;
use crate::tokens::TokenCache;
use sekisho_core::audit::{Actor, ClientInfo, EventType, NewAuditEvent};
use sekisho_core::secret_box::SecretBox;
use sekisho_core::{Clock, Random};
use sekisho_store::Store;
use std::sync::Arc;

/// The application's context: shared and cheaply clonable.
#[derive(Clone)]
pub struct App(Arc<Inner>);

/// The shared parts (reached through [`App`]'s `Deref`).
pub struct Inner {
    /// The storage.
    pub store: Arc<dyn Store>,
    /// The one clock every use case reads.
    pub clock: Arc<dyn Clock>,
    /// The one source of randomness.
    pub rng: Arc<dyn Random>,
    /// The settings, deserialised and resolved by the binary's wiring.
    pub settings: Settings,
    /// Password hashing off the async workers.
    pub hashes: HashPool,
    /// Counters for `/metrics`.
    pub metrics: Metrics,
    /// Seals and opens the shared secrets kept at rest.
    pub secrets: SecretBox,
    /// Checked API tokens, trusted for a short while.
    pub api_tokens: TokenCache,
    /// Wakes the mail sender when a mail was recorded.
    pub mail_wake: tokio::sync::Notify,
    /// The WebAuthn relying party (`None` if `passkeys.*` do not describe a valid one; the
    /// binary refuses to start then, so only embedders see it).
    pub webauthn: Option<Arc<webauthn_rs::Webauthn>>,
    /// Key sets fetched from clients' `jwks_uri`, and the port that fetches them.
    pub oidc_jwks: crate::oidc::jwks_uri::JwksCache,
    /// The signing keys as this instance last read them, opened.
    pub signing_keys: crate::keys::KeyCache,
}

impl App {
    /// Assembles the context.
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        rng: Arc<dyn Random>,
        settings: Settings,
        hashes: HashPool,
        secrets: SecretBox,
    ) -> App {
        let settings_ttl = i64::from(settings.api_token_cache_secs);
        let webauthn = match settings.passkeys.build() {
            Ok(w) => Some(Arc::new(w)),
            Err(e) => {
                tracing::error!("passkeys disabled: {e}");
                None
            }
        };
        App(Arc::new(Inner {
            store,
            clock,
            rng,
            settings,
            hashes,
            metrics: Metrics::default(),
            secrets,
            api_tokens: TokenCache::new(settings_ttl),
            mail_wake: tokio::sync::Notify::new(),
            webauthn,
            oidc_jwks: Default::default(),
            signing_keys: Default::default(),
        }))
    }

    /// An audit event stamped with the context's clock, so use cases and doors stamp records
    /// without reaching for a feature module.
    pub fn event(
        &self,
        event_type: EventType,
        login_id: Option<&str>,
        actor: Actor,
        client: &ClientInfo,
        description: impl Into<String>,
    ) -> NewAuditEvent {
        NewAuditEvent::new(
            self.clock.now(),
            event_type,
            login_id,
            actor,
            client,
            description,
        )
    }
}

impl Inner {
    /// The storage.
    pub fn store(&self) -> &std::sync::Arc<dyn Store> {
        &self.store
    }
}

impl std::ops::Deref for App {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}
