//! Opaque bearer tokens (sessions, API tokens). The holder gets the token once; the database
//! keeps only its SHA-256, which is enough for 256-bit random values.

use crate::clock::{random_bytes, Random};
use base64::Engine;
use sha2::{Digest, Sha256};

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
}
