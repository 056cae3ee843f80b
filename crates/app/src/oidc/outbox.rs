//! The back-channel logout outbox as operators see it (admin role): newest first, narrowed by
//! state and client, a page at a time. The admin API and the console both read it here.

use crate::error::AppError;
use crate::staff::StaffCaller;
use crate::state::App;
use sekisho_core::Error;
use sekisho_store::{LogoutQuery, LogoutState, OutboxLogout};
use serde::Deserialize;

/// Rows on a page unless the caller asks for another number (1 to 1,000).
pub const PAGE_ROWS: u32 = 50;

/// The filters and the page, as the API's query string and the console's form give them.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutboxParams {
    /// `pending`, `sent` or `failed`; empty for all.
    pub state: Option<String>,
    /// One client's logouts; empty for all.
    pub client_id: Option<String>,
    /// The `next_before` of the previous page.
    pub before: Option<i64>,
    /// Rows on the page.
    pub limit: Option<u32>,
}

/// A state as the API and the console's filter name it (`invalid_request` otherwise).
pub fn parse_state(s: &str) -> Result<Option<LogoutState>, AppError> {
    match s.trim() {
        "" => Ok(None),
        s => LogoutState::parse(s).map(Some).ok_or_else(|| {
            Error::InvalidRequest("state must be pending, sent or failed".into()).into()
        }),
    }
}

/// One page of logouts and the `before` of the next page (`None` on the last one).
pub async fn page(
    state: &App,
    caller: &StaffCaller,
    p: &OutboxParams,
) -> Result<(Vec<OutboxLogout>, Option<i64>), AppError> {
    caller.require_admin()?;
    let limit = p.limit.unwrap_or(PAGE_ROWS).clamp(1, 1000);
    let client_id = p
        .client_id
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_owned);
    let q = LogoutQuery {
        state: parse_state(p.state.as_deref().unwrap_or_default())?,
        client_id,
        before: p.before.filter(|b| *b > 0),
        // One more than shown tells whether a next page exists.
        limit: limit + 1,
    };
    let mut rows = state.store.list_logouts(&q).await?;
    let next = if rows.len() > limit as usize {
        rows.truncate(limit as usize);
        rows.last().map(|l| l.id)
    } else {
        None
    };
    Ok((rows, next))
}
