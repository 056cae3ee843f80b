//! Clients' keys at their `jwks_uri`: fetched over HTTPS through a port the door crate supplies
//! ([`JwksFetcher`]: no HTTP types here), checked like registered `jwks`, and kept for
//! `oidc.jwks_cache_secs`. An assertion naming a `kid` the kept set does not have fetches the
//! set again, once, and not more often than every [`MIN_REFETCH_SECS`], so a stream of made-up
//! `kid`s cannot turn Sekisho into a load generator against a client's host.
//!
//! The cache holds public keys only and lives in each instance's memory: every instance fetches
//! for itself, and nothing security-relevant depends on which one did.

use super::client_keys::{check_jwks, ClientJwks};
use super::clients::Client;
use super::metadata::Profile;
use crate::state::App;
use sekisho_core::Timestamp;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

/// Largest key set read (bytes).
pub const MAX_JWKS_BYTES: usize = 64 * 1024;
/// A set is fetched again for an unknown `kid` only when it is at least this old.
pub const MIN_REFETCH_SECS: i64 = 10;
/// Most sets kept (one per `jwks_uri`); beyond it the oldest is dropped.
const MAX_ENTRIES: usize = 1000;

/// How Sekisho fetches a client's key set: one HTTPS GET of `uri`, answering the body. The door
/// crate's implementation refuses anything but `https`, follows no redirect to another scheme,
/// reads at most [`MAX_JWKS_BYTES`] and gives up after `oidc.jwks_timeout_secs`.
#[async_trait::async_trait]
pub trait JwksFetcher: Send + Sync {
    /// The body of a successful (2xx) answer, or why there was none.
    async fn fetch(&self, uri: &str) -> Result<Vec<u8>, String>;
}

struct Cached {
    keys: ClientJwks,
    fetched_at: Timestamp,
}

/// The fetched key sets, by URI (in [`crate::state::Inner`]).
#[derive(Default)]
pub struct JwksCache {
    fetcher: OnceLock<Arc<dyn JwksFetcher>>,
    entries: Mutex<HashMap<String, Cached>>,
}

impl JwksCache {
    /// Installs the fetcher (once; the server does it when it starts). Without one, clients
    /// registered with `jwks_uri` cannot authenticate.
    pub fn set_fetcher(&self, f: Arc<dyn JwksFetcher>) {
        let _ = self.fetcher.set(f);
    }

    fn kept(&self, uri: &str) -> Option<(ClientJwks, Timestamp)> {
        let map = self.entries.lock().ok()?;
        map.get(uri).map(|c| (c.keys.clone(), c.fetched_at))
    }

    fn keep(&self, uri: &str, keys: ClientJwks, now: Timestamp) {
        if let Ok(mut map) = self.entries.lock() {
            if map.len() >= MAX_ENTRIES && !map.contains_key(uri) {
                let oldest = map
                    .iter()
                    .min_by_key(|(_, c)| c.fetched_at)
                    .map(|(k, _)| k.clone());
                if let Some(k) = oldest {
                    map.remove(&k);
                }
            }
            map.insert(
                uri.to_owned(),
                Cached {
                    keys,
                    fetched_at: now,
                },
            );
        }
    }
}

/// Fetches and checks the set at `uri` for `client`, and keeps it.
async fn fetch(state: &App, client: &Client, uri: &str) -> Result<ClientJwks, String> {
    let Some(fetcher) = state.oidc_jwks.fetcher.get() else {
        return Err("jwks_uri cannot be fetched by this server".into());
    };
    let body = fetcher.fetch(uri).await?;
    if body.len() > MAX_JWKS_BYTES {
        return Err(format!("the key set is larger than {MAX_JWKS_BYTES} bytes"));
    }
    let keys: ClientJwks =
        serde_json::from_slice(&body).map_err(|_| "the answer is not a JWK Set".to_owned())?;
    check_jwks(&keys, client.metadata.profile == Profile::Fapi2)?;
    state.oidc_jwks.keep(uri, keys.clone(), state.clock.now());
    Ok(keys)
}

/// The client's keys at `uri` to verify a JWT whose header names `kid`: the kept set while it
/// is younger than `oidc.jwks_cache_secs`, else fetched; fetched again once when the kept set
/// lacks `kid` and is at least [`MIN_REFETCH_SECS`] old (the client rotated its keys).
pub async fn keys_for(
    state: &App,
    client: &Client,
    uri: &str,
    kid: Option<&str>,
) -> Result<ClientJwks, String> {
    let now = state.clock.now();
    let ttl = state.settings.oidc.jwks_cache_secs;
    match state.oidc_jwks.kept(uri) {
        Some((keys, at)) if now.0 - at.0 < ttl => {
            let known = kid.is_none_or(|k| keys.keys.iter().any(|j| j.kid.as_deref() == Some(k)));
            if known || now.0 - at.0 < MIN_REFETCH_SECS {
                return Ok(keys);
            }
            fetch(state, client, uri).await
        }
        _ => fetch(state, client, uri).await,
    }
}
