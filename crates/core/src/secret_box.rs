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
    mac_key: [u8; 32],
}

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

impl SecretBox {
    /// A box for a 32-byte master key named `key_id` (letters and digits, stored with each value).
    pub fn new(key_id: &str, key: &[u8; 32]) -> SecretBox {
        // A separate key for hashing short codes, so the encryption key is used for one thing.
        let mut mac = <HmacSha256 as hmac::Mac>::new_from_slice(key)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        hmac::Mac::update(&mut mac, b"sekisho/code-hash/v1");
        SecretBox {
            key_id: key_id.to_owned(),
            cipher: Aes256Gcm::new(key.into()),
            mac_key: hmac::Mac::finalize(mac).into_bytes().into(),
        }
    }

    /// A keyed hash (HMAC-SHA-256, hex) of a short secret such as a 6-digit code bound to
    /// `context`: unlike a plain hash, a copy of the database does not let anyone try all
    /// million codes offline.
    pub fn code_hash(&self, context: &str, code: &str) -> String {
        let mut mac = <HmacSha256 as hmac::Mac>::new_from_slice(&self.mac_key)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        hmac::Mac::update(&mut mac, context.as_bytes());
        hmac::Mac::update(&mut mac, b"\0");
        hmac::Mac::update(&mut mac, code.as_bytes());
        hex::encode(hmac::Mac::finalize(mac).into_bytes())
    }

    /// Compares two hashes in constant time.
    pub fn hashes_equal(a: &str, b: &str) -> bool {
        use subtle::ConstantTimeEq;
        a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
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
    fn code_hashes_are_keyed_and_bound_to_their_context() {
        let b = SecretBox::new("k1", &[9; 32]);
        let h = b.code_hash("challenge-1", "123456");
        assert_eq!(h.len(), 64);
        assert!(SecretBox::hashes_equal(
            &h,
            &b.code_hash("challenge-1", "123456")
        ));
        assert!(!SecretBox::hashes_equal(
            &h,
            &b.code_hash("challenge-2", "123456")
        ));
        assert!(!SecretBox::hashes_equal(
            &h,
            &SecretBox::new("k1", &[8; 32]).code_hash("challenge-1", "123456")
        ));
    }

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
