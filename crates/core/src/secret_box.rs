//! Encryption at rest for shared secrets (TOTP/HOTP keys): AES-256-GCM with a key-id prefix so
//! the master key can be rotated, and associated data naming what the value belongs to, so a
//! ciphertext copied onto another row does not decrypt.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;

/// Seals and opens secrets under one master key.
pub struct SecretBox {
    key_id: String,
    cipher: Aes256Gcm,
}

impl SecretBox {
    /// A box for a 32-byte master key named `key_id` (letters and digits, stored with each value).
    pub fn new(key_id: &str, key: &[u8; 32]) -> SecretBox {
        SecretBox {
            key_id: key_id.to_owned(),
            cipher: Aes256Gcm::new(key.into()),
        }
    }

    /// Encrypts `plaintext` bound to `aad` with a fresh 12-byte `nonce` from the caller's RNG;
    /// returns `"<key_id>:<base64url(nonce ‖ ciphertext ‖ tag)>"`.
    pub fn seal(&self, plaintext: &[u8], aad: &[u8], nonce: [u8; 12]) -> Option<String> {
        let ct = self
            .cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad,
                },
            )
            .ok()?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ct);
        Some(format!(
            "{}:{}",
            self.key_id,
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(out)
        ))
    }

    /// Decrypts a value made by [`SecretBox::seal`] with the same key and `aad`; `None` if the
    /// key id differs or the value was altered.
    pub fn open(&self, sealed: &str, aad: &[u8]) -> Option<Vec<u8>> {
        let (kid, body) = sealed.split_once(':')?;
        if kid != self.key_id {
            return None;
        }
        let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(body)
            .ok()?;
        if raw.len() < 12 + 16 {
            return None;
        }
        let (nonce, ct) = raw.split_at(12);
        self.cipher
            .decrypt(Nonce::from_slice(nonce), Payload { msg: ct, aad })
            .ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_and_tamper() {
        let b = SecretBox::new("k1", &[9; 32]);
        let s = b
            .seal(b"12345678901234567890", b"totp:42", [1; 12])
            .unwrap_or_default();
        assert!(s.starts_with("k1:"));
        assert!(!s.contains("12345678901234567890"));
        assert_eq!(
            b.open(&s, b"totp:42").as_deref(),
            Some(&b"12345678901234567890"[..])
        );
        assert_eq!(b.open(&s, b"totp:43"), None, "other row");
        assert_eq!(
            SecretBox::new("k2", &[9; 32]).open(&s, b"totp:42"),
            None,
            "other key id"
        );
        assert_eq!(
            SecretBox::new("k1", &[8; 32]).open(&s, b"totp:42"),
            None,
            "other key"
        );
        let mut t = s.clone().into_bytes();
        let last = t.len() - 1;
        t[last] = if t[last] == b'A' { b'B' } else { b'A' };
        assert_eq!(
            b.open(&String::from_utf8(t).unwrap_or_default(), b"totp:42"),
            None
        );
    }
}
