//! Argon2id password hashing. The caller supplies the salt (randomness is injected) and runs
//! this off the async workers: one hash takes tens of milliseconds and ~19 MiB by design.

use crate::error::Error;
use argon2::password_hash::{PasswordHash, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use serde::{Deserialize, Serialize};

/// Argon2id cost parameters. The default is OWASP's recommendation: 19 MiB, 2 passes, 1 lane.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct HashParams {
    /// Memory in KiB.
    pub memory_kib: u32,
    /// Passes over memory.
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
}

impl Default for HashParams {
    fn default() -> Self {
        HashParams {
            memory_kib: 19 * 1024,
            iterations: 2,
            parallelism: 1,
        }
    }
}

/// Hashes and verifies passwords with fixed Argon2id parameters.
#[derive(Clone)]
pub struct PasswordHasher {
    argon: Argon2<'static>,
    params: HashParams,
}

impl PasswordHasher {
    /// A hasher with the given parameters; fails if Argon2 rejects them.
    pub fn new(params: HashParams) -> Result<PasswordHasher, String> {
        let p = Params::new(
            params.memory_kib,
            params.iterations,
            params.parallelism,
            None,
        )
        .map_err(|e| format!("invalid Argon2 parameters: {e}"))?;
        Ok(PasswordHasher {
            argon: Argon2::new(Algorithm::Argon2id, Version::V0x13, p),
            params,
        })
    }

    /// The parameters in use.
    pub fn params(&self) -> HashParams {
        self.params
    }

    /// Hashes `password` with a 16-byte salt into a PHC string (`$argon2id$v=19$m=…`).
    pub fn hash(&self, password: &str, salt: [u8; 16]) -> Result<String, Error> {
        use argon2::PasswordHasher as _;
        let salt = SaltString::encode_b64(&salt).map_err(|_| Error::Internal)?;
        self.argon
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|_| Error::Internal)
    }

    /// Checks `password` against a stored PHC string (using the parameters recorded in it).
    /// A malformed stored hash verifies as false.
    pub fn verify(&self, password: &str, phc: &str) -> bool {
        match PasswordHash::new(phc) {
            Ok(h) => self.argon.verify_password(password.as_bytes(), &h).is_ok(),
            Err(_) => false,
        }
    }

    /// Whether a stored hash was made with other parameters than the current ones, so it should
    /// be replaced after the next successful verification.
    pub fn needs_rehash(&self, phc: &str) -> bool {
        let Ok(h) = PasswordHash::new(phc) else {
            return true;
        };
        let Ok(p) = Params::try_from(&h) else {
            return true;
        };
        h.algorithm.as_str() != "argon2id"
            || p.m_cost() != self.params.memory_kib
            || p.t_cost() != self.params.iterations
            || p.p_cost() != self.params.parallelism
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cheap() -> PasswordHasher {
        PasswordHasher::new(HashParams {
            memory_kib: 64,
            iterations: 1,
            parallelism: 1,
        })
        .unwrap_or_else(|e| unreachable!("{e}"))
    }

    #[test]
    fn hash_then_verify() {
        let h = cheap();
        let phc = h.hash("abc12345", [7; 16]).unwrap_or_default();
        assert!(phc.starts_with("$argon2id$v=19$m=64,t=1,p=1$"));
        assert!(h.verify("abc12345", &phc));
        assert!(!h.verify("abc12346", &phc));
        assert!(!h.verify("abc12345", "garbage"));
        assert!(!h.needs_rehash(&phc));
        let stronger =
            PasswordHasher::new(HashParams::default()).unwrap_or_else(|e| unreachable!("{e}"));
        assert!(stronger.needs_rehash(&phc));
        // The stronger hasher still verifies the old hash with the old hash's own parameters.
        assert!(stronger.verify("abc12345", &phc));
    }
}
