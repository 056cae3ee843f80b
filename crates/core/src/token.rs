//! Opaque bearer tokens (sessions, API tokens). The holder gets the token once; the database
//! keeps only its SHA-256, which is enough for 256-bit random values.

use crate::clock::{random_bytes, Random};
use base64::Engine;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;

/// Makes a new token `"<prefix>_<43 chars of base64url>"` from 32 random bytes.
pub fn generate(prefix: &str, rng: &dyn Random) -> String {
    let bytes: [u8; 32] = random_bytes(rng);
    format!(
        "{prefix}_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

/// The lookup hash of a token: lower-case hex SHA-256.
pub fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// What an API token may call. Stored and shown as `admin`, `validate` or `step_up`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApiScope {
    /// The admin API, and every other API.
    Admin,
    /// Code validation (`POST /api/v1/validate`).
    Validate,
    /// Step-up requests.
    StepUp,
    /// Reading `/metrics` (a Prometheus scraper), when no `admin_listen` serves it apart.
    Metrics,
}

impl ApiScope {
    /// Every scope.
    pub const ALL: &'static [ApiScope] = &[
        ApiScope::Admin,
        ApiScope::Validate,
        ApiScope::StepUp,
        ApiScope::Metrics,
    ];

    /// The stored and API name.
    pub fn as_str(self) -> &'static str {
        match self {
            ApiScope::Admin => "admin",
            ApiScope::Validate => "validate",
            ApiScope::StepUp => "step_up",
            ApiScope::Metrics => "metrics",
        }
    }

    /// Parses a name; `None` for an unknown scope.
    pub fn parse(s: &str) -> Option<ApiScope> {
        ApiScope::ALL.iter().copied().find(|v| v.as_str() == s)
    }
}

impl fmt::Display for ApiScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixed;
    impl Random for Fixed {
        fn fill(&self, buf: &mut [u8]) {
            buf.fill(0xab);
        }
    }

    #[test]
    fn token_shape_and_hash() {
        let t = generate("sks", &Fixed);
        assert!(t.starts_with("sks_"));
        assert_eq!(t.len(), 4 + 43);
        assert_eq!(hash(&t).len(), 64);
        assert_ne!(hash(&t), hash("sks_other"));
    }

    #[test]
    fn scope_names_round_trip_and_match_serde() {
        for scope in ApiScope::ALL {
            assert_eq!(ApiScope::parse(scope.as_str()), Some(*scope));
            assert_eq!(
                serde_json::to_string(scope).unwrap_or_default(),
                format!("\"{scope}\"")
            );
        }
        assert_eq!(ApiScope::parse("root"), None);
    }
}
