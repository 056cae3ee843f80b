//! Sessions: what a successful login gets. The token is opaque; the database keeps its hash.

use crate::clock::Timestamp;
use serde::{Deserialize, Serialize};

/// Session lifetimes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionPolicy {
    /// A session unused for this many seconds ends.
    pub idle_secs: i64,
    /// A session ends this many seconds after login, however active.
    pub absolute_secs: i64,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        SessionPolicy {
            idle_secs: 30 * 60,
            absolute_secs: 12 * 3600,
        }
    }
}

/// What a session may be used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionPurpose {
    /// A logged-in customer.
    Full,
    /// Only to change a temporary or expired password; nothing else.
    PasswordChange,
}

impl SessionPurpose {
    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            SessionPurpose::Full => "full",
            SessionPurpose::PasswordChange => "password_change",
        }
    }

    /// Parses a stored name (unknown names are treated as the most restricted purpose).
    pub fn parse(s: &str) -> SessionPurpose {
        match s {
            "full" => SessionPurpose::Full,
            _ => SessionPurpose::PasswordChange,
        }
    }
}

/// A stored session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// Internal key.
    pub id: i64,
    /// The login's internal key.
    pub login_pk: i64,
    /// The login ID.
    pub login_id: String,
    /// What it may be used for.
    pub purpose: SessionPurpose,
    /// How the customer authenticated (e.g. `["pwd"]`).
    pub methods: Vec<String>,
    /// Created at login.
    pub created_at: Timestamp,
    /// Last use.
    pub last_seen_at: Timestamp,
    /// Absolute end.
    pub expires_at: Timestamp,
    /// Revoked (logout, password change, operator).
    pub revoked_at: Option<Timestamp>,
    /// Client IP at login.
    pub client_ip: Option<String>,
    /// User agent at login.
    pub user_agent: Option<String>,
}

impl Session {
    /// When the session ends if it stays unused.
    pub fn idle_expires_at(&self, policy: &SessionPolicy) -> Timestamp {
        self.last_seen_at
            .plus_secs(policy.idle_secs)
            .min(self.expires_at)
    }

    /// Whether the session can be used at `now`.
    pub fn is_active(&self, policy: &SessionPolicy, now: Timestamp) -> bool {
        self.revoked_at.is_none() && now < self.expires_at && now < self.idle_expires_at(policy)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idle_and_absolute_lifetimes() {
        let p = SessionPolicy {
            idle_secs: 100,
            absolute_secs: 1000,
        };
        let mut s = Session {
            id: 1,
            login_pk: 1,
            login_id: "tanaka".into(),
            purpose: SessionPurpose::Full,
            methods: vec!["pwd".into()],
            created_at: Timestamp(0),
            last_seen_at: Timestamp(0),
            expires_at: Timestamp(1000),
            revoked_at: None,
            client_ip: None,
            user_agent: None,
        };
        assert!(s.is_active(&p, Timestamp(99)));
        assert!(!s.is_active(&p, Timestamp(100)), "idle");
        s.last_seen_at = Timestamp(950);
        assert!(s.is_active(&p, Timestamp(999)));
        assert!(!s.is_active(&p, Timestamp(1000)), "absolute");
        s.last_seen_at = Timestamp(10);
        s.revoked_at = Some(Timestamp(11));
        assert!(!s.is_active(&p, Timestamp(12)), "revoked");
    }
}
