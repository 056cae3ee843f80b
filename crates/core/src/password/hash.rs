//! Argon2id password hashing. The caller supplies the salt (randomness is injected) and runs
//! this off the async workers: one hash takes tens of milliseconds and ~19 MiB by design.

use crate::error::Error;
use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

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

/// Working memory for Argon2 (the memory cost, 19 MiB by default). A hashing thread keeps one
/// and reuses it for every hash: allocating and freeing that much per hash fragments the system
/// allocator's arenas until the process holds hundreds of MiB.
pub struct HashMemory(Vec<Block>);

impl HashMemory {
    /// Empty memory; it grows to the parameters' size on first use.
    pub fn new() -> HashMemory {
        HashMemory(Vec::new())
    }

    /// `blocks` blocks: the kept buffer when it fits the default size, otherwise a temporary one
    /// (a stored hash made with a larger memory cost should not enlarge the kept buffer forever).
    fn blocks(
        &mut self,
        blocks: usize,
        keep: usize,
        run: impl FnOnce(&mut [Block]) -> bool,
    ) -> bool {
        if blocks > keep {
            let mut temp = vec![Block::default(); blocks];
            return run(&mut temp);
        }
        if self.0.len() < blocks {
            self.0.resize(blocks, Block::default());
        }
        match self.0.get_mut(..blocks) {
            Some(b) => run(b),
            None => false,
        }
    }
}

impl Default for HashMemory {
    fn default() -> Self {
        HashMemory::new()
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

    fn own_blocks(&self) -> usize {
        self.argon.params().block_count()
    }

    /// Hashes `password` with a 16-byte salt into a PHC string (`$argon2id$v=19$m=…`).
    pub fn hash(&self, password: &str, salt: [u8; 16]) -> Result<String, Error> {
        self.hash_with(password, salt, &mut HashMemory::new())
    }

    /// [`PasswordHasher::hash`] using (and keeping) `memory`.
    pub fn hash_with(
        &self,
        password: &str,
        salt: [u8; 16],
        memory: &mut HashMemory,
    ) -> Result<String, Error> {
        let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
        let keep = self.own_blocks();
        let done = memory.blocks(keep, keep, |blocks| {
            self.argon
                .hash_password_into_with_memory(password.as_bytes(), &salt, &mut out, blocks)
                .is_ok()
        });
        if !done {
            return Err(Error::Internal);
        }
        let salt = SaltString::encode_b64(&salt).map_err(|_| Error::Internal)?;
        let phc = PasswordHash {
            algorithm: Algorithm::Argon2id.ident(),
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(self.argon.params()).map_err(|_| Error::Internal)?,
            salt: Some(salt.as_salt()),
            hash: Some(Output::new(&out).map_err(|_| Error::Internal)?),
        };
        Ok(phc.to_string())
    }

    /// Checks `password` against a stored PHC string (using the parameters recorded in it).
    /// A malformed stored hash verifies as false.
    pub fn verify(&self, password: &str, phc: &str) -> bool {
        self.verify_with(password, phc, &mut HashMemory::new())
    }

    /// [`PasswordHasher::verify`] using (and keeping) `memory`.
    pub fn verify_with(&self, password: &str, phc: &str, memory: &mut HashMemory) -> bool {
        let Ok(h) = PasswordHash::new(phc) else {
            return false;
        };
        let (Some(expected), Some(salt)) = (h.hash, h.salt) else {
            return false;
        };
        let Ok(algorithm) = Algorithm::try_from(h.algorithm) else {
            return false;
        };
        let version = match h.version.map(Version::try_from) {
            None => Version::V0x13,
            Some(Ok(v)) => v,
            Some(Err(_)) => return false,
        };
        let Ok(params) = Params::try_from(&h) else {
            return false;
        };
        let mut salt_buf = [0u8; 64];
        let Ok(salt) = salt.decode_b64(&mut salt_buf) else {
            return false;
        };
        let blocks = params.block_count();
        let argon = Argon2::new(algorithm, version, params);
        let mut out = vec![0u8; expected.len()];
        let computed = memory.blocks(blocks, self.own_blocks(), |b| {
            argon
                .hash_password_into_with_memory(password.as_bytes(), salt, &mut out, b)
                .is_ok()
        });
        computed && bool::from(out.as_slice().ct_eq(expected.as_bytes()))
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

    #[test]
    fn agrees_with_the_argon2_crate_and_reuses_memory() {
        use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
        let h = cheap();
        let salt = SaltString::encode_b64(&[5; 16]).unwrap_or_else(|e| unreachable!("{e}"));
        let reference = h
            .argon
            .hash_password(b"Passw0rd", &salt)
            .map(|p| p.to_string())
            .unwrap_or_default();
        assert_eq!(
            h.hash("Passw0rd", [5; 16]).unwrap_or_default(),
            reference,
            "same PHC string"
        );
        let mut mem = HashMemory::new();
        for _ in 0..3 {
            assert!(h.verify_with("Passw0rd", &reference, &mut mem));
            assert!(!h.verify_with("Passw0rd!", &reference, &mut mem));
        }
        let ours = h
            .hash_with("other123", [6; 16], &mut mem)
            .unwrap_or_default();
        let parsed = PasswordHash::new(&ours).unwrap_or_else(|e| unreachable!("{e}"));
        assert!(
            h.argon.verify_password(b"other123", &parsed).is_ok(),
            "the crate verifies ours"
        );
        // A hash made with a larger memory cost verifies without growing the kept buffer.
        let big = PasswordHasher::new(HashParams {
            memory_kib: 256,
            iterations: 1,
            parallelism: 1,
        })
        .unwrap_or_else(|e| unreachable!("{e}"));
        let big_phc = big.hash("legacy99", [1; 16]).unwrap_or_default();
        assert!(h.verify_with("legacy99", &big_phc, &mut mem));
        assert_eq!(
            mem.0.len(),
            64,
            "kept buffer stays at the hasher's own size"
        );
    }
}
