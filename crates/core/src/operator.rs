//! Operators' roles: what a member of the firm's staff may do in the console and the admin API.

use serde::{Deserialize, Serialize};
use std::fmt;

/// An operator's role. Stored, shown and sent in JSON as `admin` or `support`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OperatorRole {
    /// Every operation, including those reserved to administrators.
    Admin,
    /// The support desk: everything except what is reserved to administrators.
    Support,
}

impl OperatorRole {
    /// Every role.
    pub const ALL: &'static [OperatorRole] = &[OperatorRole::Admin, OperatorRole::Support];

    /// The stored and API name.
    pub fn as_str(self) -> &'static str {
        match self {
            OperatorRole::Admin => "admin",
            OperatorRole::Support => "support",
        }
    }

    /// Parses a name; `None` for an unknown role.
    pub fn parse(s: &str) -> Option<OperatorRole> {
        OperatorRole::ALL.iter().copied().find(|r| r.as_str() == s)
    }
}

impl fmt::Display for OperatorRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_match_serde() {
        for role in OperatorRole::ALL {
            assert_eq!(OperatorRole::parse(role.as_str()), Some(*role));
            assert_eq!(
                serde_json::to_string(role).unwrap_or_default(),
                format!("\"{role}\"")
            );
        }
        assert_eq!(OperatorRole::parse("root"), None);
    }
}
