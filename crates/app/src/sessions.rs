//! Customer sessions' settings (lifetimes, and how long an ended session is kept) and the purge
//! of sessions that ended long ago. The clients a session signed in to go with it; the audit
//! trail keeps every record of it.

use crate::state::App;
use sekisho_core::session::SessionPolicy;
use sekisho_store::StoreError;
use serde::{Deserialize, Serialize};

/// `session.*`: lifetimes of sessions and of the steps before one.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SessionSettings {
    /// A session unused this long ends.
    pub idle_timeout_secs: i64,
    /// A session ends this long after login.
    pub absolute_timeout_secs: i64,
    /// Lifetime of the restricted session for changing a temporary or expired password.
    pub password_change_timeout_secs: i64,
    /// How long a login may wait between its password and its second factor.
    pub challenge_timeout_secs: i64,
    /// Days a session is kept after its absolute end before it is deleted.
    pub retain_days: i64,
}

impl Default for SessionSettings {
    fn default() -> Self {
        SessionSettings {
            idle_timeout_secs: 1800,
            absolute_timeout_secs: 12 * 3600,
            password_change_timeout_secs: 600,
            challenge_timeout_secs: 300,
            retain_days: 30,
        }
    }
}

impl SessionSettings {
    /// The sessions' lifetimes as the core rules take them.
    pub fn policy(&self) -> SessionPolicy {
        SessionPolicy {
            idle_secs: self.idle_timeout_secs,
            absolute_secs: self.absolute_timeout_secs,
        }
    }

    pub(crate) fn check(&self) -> Result<(), String> {
        if !(1..=3650).contains(&self.retain_days) {
            return Err("session.retain_days must be between 1 and 3650".into());
        }
        Ok(())
    }
}

/// Sessions deleted at most per purge (the next purge goes on).
pub const PURGE_BATCH: u32 = 1_000;

/// Deletes sessions whose absolute end is more than `session.retain_days` ago, a batch at a
/// time. A session revoked, logged out or left idle ended sooner, so it is kept a little
/// longer (at most `session.absolute_timeout_secs`); a live session is never past its absolute
/// end. Answers how many went.
pub async fn purge_ended(state: &App) -> Result<u64, StoreError> {
    let days = state.settings.session.retain_days;
    let before = state.clock.now().plus_secs(-days.saturating_mul(86_400));
    state.store.purge_sessions(before, PURGE_BATCH).await
}
