//! Encryption at rest for shared secrets (TOTP/HOTP keys, signing keys, mail bodies, …):
//! AES-256-GCM with a key-id prefix, so the master key can be rotated, and associated data
//! naming what the value belongs to, so a ciphertext copied onto another row does not decrypt.
//!
//! A box holds a keyring: the current master key, which seals, and any number of other keys,
//! which only open (the old key while its values are re-sealed, or the coming key before the
//! instances switch to it). A key's id is derived from the key itself ([`key_id`]), so every
//! instance names a key alike without configuration. Values sealed before keyrings existed carry
//! the id [`LEGACY_KEY_ID`] (`k1`) whatever the key: they are opened by trying each key (the GCM
//! tag tells the right one). A box with a single key still seals under `k1`, so a deployment that
//! never rotates writes exactly what earlier versions wrote and can run beside them.
//!
//! Short codes are not sealed but hashed ([`SecretBox::code_hash`]) with a separate MAC key. A
//! keyed hash cannot be re-sealed, and some of them live for years (recovery codes, pairwise
//! subjects), so the MAC key must not change when the master key does: it is derived from the
//! first master key once, then kept in the database sealed like any other secret (and re-sealed
//! by a rotation) — see `sekisho_app::master_key`.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;

/// The id of values sealed before keyrings existed, and of the single key of a box that has one.
pub const LEGACY_KEY_ID: &str = "k1";

/// Seals and opens secrets under a keyring of master keys.
pub struct SecretBox {
    /// The current key first; it seals.
    keys: Vec<BoxKey>,
    /// The id written in front of new values.
    seal_id: String,
    mac_key: [u8; 32],
}

struct BoxKey {
    id: String,
    cipher: Aes256Gcm,
}

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

fn hmac(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let mut mac = <HmacSha256 as hmac::Mac>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    for p in parts {
        hmac::Mac::update(&mut mac, p);
    }
    hmac::Mac::finalize(mac).into_bytes().into()
}

/// The id of a master key: `m` and 12 hex digits of an HMAC keyed by the key, so it names the
/// key the same on every instance and tells nothing about it.
pub fn key_id(key: &[u8; 32]) -> String {
    format!(
        "m{}",
        &hex::encode(hmac(key, &[b"sekisho/master-key-id/v1"]))[..12]
    )
}

/// The MAC key for [`SecretBox::code_hash`] derived from a master key, as every version has
/// derived it (the value a deployment keeps for good when it first needs one).
pub fn derived_mac_key(key: &[u8; 32]) -> [u8; 32] {
    // A separate key for hashing short codes, so the encryption key is used for one thing.
    hmac(key, &[b"sekisho/code-hash/v1"])
}

/// The id in front of a sealed value.
pub fn sealed_key_id(sealed: &str) -> Option<&str> {
    sealed.split_once(':').map(|(kid, _)| kid)
}

impl SecretBox {
    /// A box for a 32-byte master key named `key_id` (letters and digits, stored with each
    /// value), with the MAC key derived from it.
    pub fn new(key_id: &str, key: &[u8; 32]) -> SecretBox {
        SecretBox {
            keys: vec![BoxKey {
                id: key_id.to_owned(),
                cipher: Aes256Gcm::new(key.into()),
            }],
            seal_id: key_id.to_owned(),
            mac_key: derived_mac_key(key),
        }
    }

    /// A keyring: `current` seals; it and `others` open. Keys are named by [`key_id`]; a ring of
    /// one key seals under [`LEGACY_KEY_ID`]. The MAC key is derived from `current` until
    /// [`SecretBox::with_mac_key`] sets the one the deployment keeps.
    pub fn keyring(current: &[u8; 32], others: &[[u8; 32]]) -> SecretBox {
        let mut keys = vec![BoxKey {
            id: key_id(current),
            cipher: Aes256Gcm::new(current.into()),
        }];
        for k in others.iter().filter(|k| *k != current) {
            let id = key_id(k);
            if keys.iter().all(|have| have.id != id) {
                keys.push(BoxKey {
                    id,
                    cipher: Aes256Gcm::new(k.into()),
                });
            }
        }
        let seal_id = if keys.len() == 1 {
            LEGACY_KEY_ID.to_owned()
        } else {
            keys[0].id.clone()
        };
        SecretBox {
            keys,
            seal_id,
            mac_key: derived_mac_key(current),
        }
    }

    /// The same box hashing codes with `mac_key`.
    pub fn with_mac_key(mut self, mac_key: [u8; 32]) -> SecretBox {
        self.mac_key = mac_key;
        self
    }

    /// The same box sealing under the current key's own id even when it is the only key (a
    /// rotation writes values that name their key).
    pub fn sealing_under_key_id(mut self) -> SecretBox {
        if let Some(k) = self.keys.first() {
            if k.id != LEGACY_KEY_ID {
                self.seal_id = k.id.clone();
            }
        }
        self
    }

    /// The id new values are sealed under.
    pub fn seal_id(&self) -> &str {
        &self.seal_id
    }

    /// The ids of the keys this box opens with, the current one first.
    pub fn key_ids(&self) -> Vec<&str> {
        self.keys.iter().map(|k| k.id.as_str()).collect()
    }

    /// A keyed hash (HMAC-SHA-256, hex) of a short secret such as a 6-digit code bound to
    /// `context`: unlike a plain hash, a copy of the database does not let anyone try all
    /// million codes offline.
    pub fn code_hash(&self, context: &str, code: &str) -> String {
        hex::encode(hmac(
            &self.mac_key,
            &[context.as_bytes(), b"\0", code.as_bytes()],
        ))
    }

    /// Compares two hashes in constant time.
    pub fn hashes_equal(a: &str, b: &str) -> bool {
        use subtle::ConstantTimeEq;
        a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
    }

    /// Encrypts `plaintext` bound to `aad` with a fresh 12-byte `nonce` from the caller's RNG
    /// under the current key; returns `"<key_id>:<base64url(nonce ‖ ciphertext ‖ tag)>"`.
    pub fn seal(&self, plaintext: &[u8], aad: &[u8], nonce: [u8; 12]) -> Option<String> {
        let ct = self
            .keys
            .first()?
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
            self.seal_id,
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(out)
        ))
    }

    /// Decrypts a value made by [`SecretBox::seal`] with `aad`, by the key its id names (each
    /// key for [`LEGACY_KEY_ID`]); `None` if no key of the ring opens it or it was altered.
    pub fn open(&self, sealed: &str, aad: &[u8]) -> Option<Vec<u8>> {
        let (kid, body) = sealed.split_once(':')?;
        let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(body)
            .ok()?;
        if raw.len() < 12 + 16 {
            return None;
        }
        let (nonce, ct) = raw.split_at(12);
        self.keys
            .iter()
            .filter(|k| k.id == kid || kid == LEGACY_KEY_ID)
            .find_map(|k| {
                k.cipher
                    .decrypt(Nonce::from_slice(nonce), Payload { msg: ct, aad })
                    .ok()
            })
    }

    /// Opens `sealed` and seals its plaintext again under the current key with the same `aad`:
    /// `None` if it does not open. A value already under [`SecretBox::seal_id`] comes back
    /// unchanged, so re-sealing twice does nothing.
    pub fn reseal(&self, sealed: &str, aad: &[u8], nonce: [u8; 12]) -> Option<String> {
        if sealed_key_id(sealed) == Some(self.seal_id.as_str()) && self.seal_id != LEGACY_KEY_ID {
            return Some(sealed.to_owned());
        }
        let plain = self.open(sealed, aad)?;
        self.seal(&plain, aad, nonce)
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
        let under_k2 = SecretBox::new("k2", &[9; 32])
            .seal(b"12345678901234567890", b"totp:42", [1; 12])
            .unwrap_or_default();
        assert_eq!(b.open(&under_k2, b"totp:42"), None, "other key id");
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

    const OLD: [u8; 32] = [9; 32];
    const NEW: [u8; 32] = [4; 32];

    #[test]
    fn a_single_key_ring_writes_what_earlier_versions_wrote() {
        let ring = SecretBox::keyring(&OLD, &[]);
        let s = ring.seal(b"secret", b"otp:a", [2; 12]).unwrap_or_default();
        assert!(s.starts_with("k1:"), "{s}");
        let legacy = SecretBox::new("k1", &OLD);
        assert_eq!(legacy.open(&s, b"otp:a").as_deref(), Some(&b"secret"[..]));
        let earlier = legacy
            .seal(b"secret", b"otp:a", [3; 12])
            .unwrap_or_default();
        assert_eq!(
            ring.open(&earlier, b"otp:a").as_deref(),
            Some(&b"secret"[..])
        );
        // Same code hashes as before keyrings.
        assert_eq!(
            ring.code_hash("c", "123456"),
            legacy.code_hash("c", "123456")
        );
    }

    #[test]
    fn key_ids_are_stable_and_differ_per_key() {
        assert_eq!(key_id(&OLD), key_id(&[9; 32]));
        assert_ne!(key_id(&OLD), key_id(&NEW));
        assert_eq!(key_id(&OLD).len(), 13);
        assert!(key_id(&OLD).starts_with('m'));
    }

    #[test]
    fn a_ring_opens_with_every_key_and_seals_with_the_current_one() {
        let before = SecretBox::keyring(&OLD, &[]);
        let legacy_value = before.seal(b"one", b"otp:a", [1; 12]).unwrap_or_default();
        // Step 1 of a rotation: the coming key opens only.
        let adding = SecretBox::keyring(&OLD, &[NEW]);
        let old_value = adding.seal(b"two", b"otp:b", [1; 12]).unwrap_or_default();
        assert!(old_value.starts_with(&format!("{}:", key_id(&OLD))));
        // Step 2: the new key seals, the old one opens.
        let switched = SecretBox::keyring(&NEW, &[OLD]);
        assert_eq!(switched.seal_id(), key_id(&NEW));
        assert_eq!(switched.key_ids(), vec![key_id(&NEW), key_id(&OLD)]);
        let new_value = switched
            .seal(b"three", b"otp:c", [1; 12])
            .unwrap_or_default();
        assert_eq!(
            switched.open(&legacy_value, b"otp:a").as_deref(),
            Some(&b"one"[..])
        );
        assert_eq!(
            switched.open(&old_value, b"otp:b").as_deref(),
            Some(&b"two"[..])
        );
        assert_eq!(
            adding.open(&new_value, b"otp:c").as_deref(),
            Some(&b"three"[..])
        );
        // After the rotation, only the new key: old values no longer open.
        let after = SecretBox::keyring(&NEW, &[]);
        assert_eq!(
            after.open(&new_value, b"otp:c").as_deref(),
            Some(&b"three"[..])
        );
        assert_eq!(after.open(&old_value, b"otp:b"), None);
        assert_eq!(after.open(&legacy_value, b"otp:a"), None);
        // The wrong associated data still fails with every key.
        assert_eq!(switched.open(&legacy_value, b"otp:b"), None);
    }

    #[test]
    fn reseal_moves_a_value_to_the_current_key_once() {
        let before = SecretBox::keyring(&OLD, &[]);
        let v = before
            .seal(b"seed", b"token:T1", [1; 12])
            .unwrap_or_default();
        let ring = SecretBox::keyring(&NEW, &[OLD]);
        let moved = ring.reseal(&v, b"token:T1", [5; 12]).unwrap_or_default();
        assert_eq!(sealed_key_id(&moved), Some(key_id(&NEW).as_str()));
        assert_eq!(
            SecretBox::keyring(&NEW, &[])
                .open(&moved, b"token:T1")
                .as_deref(),
            Some(&b"seed"[..])
        );
        assert_eq!(
            ring.reseal(&moved, b"token:T1", [6; 12]),
            Some(moved.clone())
        );
        assert_eq!(ring.reseal(&v, b"token:T2", [5; 12]), None, "other row");
        // The rotation command seals under the new key's id even when it holds only that key.
        let only_new = SecretBox::keyring(&NEW, &[]).sealing_under_key_id();
        assert_eq!(only_new.seal_id(), key_id(&NEW));
    }

    #[test]
    fn the_mac_key_survives_a_change_of_master_key() {
        let kept = derived_mac_key(&OLD);
        let before = SecretBox::keyring(&OLD, &[]);
        let after = SecretBox::keyring(&NEW, &[]).with_mac_key(kept);
        assert_eq!(
            before.code_hash("recovery", "abcd"),
            after.code_hash("recovery", "abcd")
        );
        assert_ne!(
            SecretBox::keyring(&NEW, &[]).code_hash("recovery", "abcd"),
            before.code_hash("recovery", "abcd")
        );
    }
}
