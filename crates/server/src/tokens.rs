//! API tokens for apps and scripts, shared by the admin API and the `sekisho api-token` CLI.

use crate::error::ApiError;
use sekisho_core::audit::{Actor, ClientInfo, EventType, NewAuditEvent};
use sekisho_core::{token, Error, Random, Timestamp};
use sekisho_store::{ApiToken, Store};

/// The scopes an API token can have.
pub const SCOPES: [&str; 2] = ["admin", "validate"];

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
) -> Result<(String, ApiToken), ApiError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) {
        return Err(Error::InvalidRequest("token name must be 1 to 64 characters".into()).into());
    }
    if !SCOPES.contains(&scope) {
        return Err(
            Error::InvalidRequest(format!("scope must be one of {}", SCOPES.join(", "))).into(),
        );
    }
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
