//! API tokens for apps and scripts, shared by the admin API and the `sekisho api-token` CLI.

use crate::error::AppError;
use sekisho_core::audit::{Actor, ClientInfo, EventType, NewAuditEvent};
use sekisho_core::token::ApiScope;
use sekisho_core::{token, Error, Random, Timestamp};
use sekisho_store::{ApiToken, Store};

/// The scopes an API token can have.
pub const SCOPES: [&str; 4] = ["admin", "validate", "step_up", "metrics"];

/// Creates a token named `name` with `scope`; returns the bearer secret (shown only now) and
/// the stored record.
pub async fn issue_api_token(
    store: &dyn Store,
    rng: &dyn Random,
    now: Timestamp,
    name: &str,
    scope: &str,
    actor: Actor,
    client: &ClientInfo,
) -> Result<(String, ApiToken), AppError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) {
        return Err(Error::InvalidRequest("token name must be 1 to 64 characters".into()).into());
    }
    let Some(scope) = ApiScope::parse(scope) else {
        return Err(
            Error::InvalidRequest(format!("scope must be one of {}", SCOPES.join(", "))).into(),
        );
    };
    let secret = token::generate("sksa", rng);
    let ev = NewAuditEvent::new(
        now,
        EventType::ApiTokenCreated,
        None,
        actor,
        client,
        format!("API token \"{name}\" with scope {scope} created"),
    );
    let stored = store
        .create_api_token(name, scope, &token::hash(&secret), now, &ev)
        .await?;
    Ok((secret, stored))
}

/// API tokens this instance has recently found valid, so that a busy caller (a trading system
/// validating thousands of codes a second) is not read from the database on every request.
/// The database stays the authority: an entry lives at most `ttl` seconds, a revocation on this
/// instance drops it at once, and other instances honour a revoked token for at most `ttl`
/// seconds more. Only valid tokens are kept (guessed ones would fill it), and at most
/// [`TokenCache::MAX`] of them.
pub struct TokenCache {
    ttl: i64,
    entries: std::sync::RwLock<std::collections::HashMap<String, (ApiToken, Timestamp)>>,
}

impl TokenCache {
    /// The most tokens kept; past it the cache starts over.
    const MAX: usize = 10_000;

    /// A cache whose entries live `ttl` seconds (0 disables it).
    pub fn new(ttl: i64) -> TokenCache {
        TokenCache {
            ttl,
            entries: std::sync::RwLock::default(),
        }
    }

    /// The token with hash `hash` if checked less than `ttl` seconds before `now`.
    pub fn get(&self, hash: &str, now: Timestamp) -> Option<ApiToken> {
        if self.ttl <= 0 {
            return None;
        }
        let entries = self.entries.read().unwrap_or_else(|e| e.into_inner());
        entries
            .get(hash)
            .filter(|(_, at)| now.0 >= at.0 && now.0 - at.0 < self.ttl)
            .map(|(t, _)| t.clone())
    }

    /// Remembers a token just read from the database.
    pub fn put(&self, hash: String, token: ApiToken, now: Timestamp) {
        if self.ttl <= 0 {
            return;
        }
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= Self::MAX {
            entries.clear();
        }
        entries.insert(hash, (token, now));
    }

    /// Forgets the token with internal id `id` (it was revoked).
    pub fn forget(&self, id: i64) {
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        entries.retain(|_, (t, _)| t.id != id);
    }
}
