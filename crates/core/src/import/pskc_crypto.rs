//! The cryptography of PSKC (RFC 6030 §6): AES-CBC with the IV prefixed to the ciphertext
//! (XML Encryption), HMAC over that IV ‖ ciphertext, and PBKDF2 (PKCS #5 v2.0) for passphrases.

use aes::cipher::block_padding::NoPadding;
use aes::cipher::{BlockDecryptMut, KeyIvInit};
use hmac::digest::KeyInit;
use hmac::{Hmac, Mac};

/// The most PBKDF2 iterations a file may ask for. Vendors use 1,000 to 100,000; a file asking
/// for billions would otherwise hold a request thread for hours.
pub(super) const MAX_PBKDF2_ITERATIONS: u32 = 1_000_000;
/// The longest salt accepted.
pub(super) const MAX_SALT_BYTES: usize = 1024;

/// AES in CBC mode, by key size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Cipher {
    Aes128,
    Aes192,
    Aes256,
}

impl Cipher {
    /// From an XML Encryption algorithm URI.
    pub fn from_uri(uri: &str) -> Option<Cipher> {
        match uri.trim() {
            "http://www.w3.org/2001/04/xmlenc#aes128-cbc" => Some(Cipher::Aes128),
            "http://www.w3.org/2001/04/xmlenc#aes192-cbc" => Some(Cipher::Aes192),
            "http://www.w3.org/2001/04/xmlenc#aes256-cbc" => Some(Cipher::Aes256),
            _ => None,
        }
    }

    /// Key length in bytes.
    pub fn key_len(self) -> usize {
        match self {
            Cipher::Aes128 => 16,
            Cipher::Aes192 => 24,
            Cipher::Aes256 => 32,
        }
    }

    /// Decrypts `iv ‖ ciphertext` and removes the XML Encryption padding (last byte = number of
    /// padding bytes, 1 to 16; the other padding bytes are arbitrary). `None` on a wrong key
    /// length, a length that is not whole blocks, or impossible padding.
    pub fn decrypt(self, key: &[u8], data: &[u8]) -> Option<Vec<u8>> {
        if data.len() < 32 || !data.len().is_multiple_of(16) || key.len() != self.key_len() {
            return None;
        }
        let (iv, ct) = data.split_at(16);
        let mut buf = ct.to_vec();
        let len = match self {
            Cipher::Aes128 => cbc::Decryptor::<aes::Aes128>::new_from_slices(key, iv)
                .ok()?
                .decrypt_padded_mut::<NoPadding>(&mut buf)
                .ok()?
                .len(),
            Cipher::Aes192 => cbc::Decryptor::<aes::Aes192>::new_from_slices(key, iv)
                .ok()?
                .decrypt_padded_mut::<NoPadding>(&mut buf)
                .ok()?
                .len(),
            Cipher::Aes256 => cbc::Decryptor::<aes::Aes256>::new_from_slices(key, iv)
                .ok()?
                .decrypt_padded_mut::<NoPadding>(&mut buf)
                .ok()?
                .len(),
        };
        buf.truncate(len);
        let pad = usize::from(*buf.last()?);
        if pad == 0 || pad > 16 || pad > buf.len() {
            return None;
        }
        buf.truncate(buf.len() - pad);
        Some(buf)
    }
}

/// An HMAC algorithm for ValueMAC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum MacAlg {
    Sha1,
    Sha224,
    Sha256,
    Sha384,
    Sha512,
}

impl MacAlg {
    /// From an XML Signature algorithm URI.
    pub fn from_uri(uri: &str) -> Option<MacAlg> {
        match uri.trim() {
            "http://www.w3.org/2000/09/xmldsig#hmac-sha1" => Some(MacAlg::Sha1),
            "http://www.w3.org/2001/04/xmldsig-more#hmac-sha224" => Some(MacAlg::Sha224),
            "http://www.w3.org/2001/04/xmldsig-more#hmac-sha256" => Some(MacAlg::Sha256),
            "http://www.w3.org/2001/04/xmldsig-more#hmac-sha384" => Some(MacAlg::Sha384),
            "http://www.w3.org/2001/04/xmldsig-more#hmac-sha512" => Some(MacAlg::Sha512),
            _ => None,
        }
    }

    /// Whether `mac` is the HMAC of `data` under `key`, compared in constant time.
    pub fn verify(self, key: &[u8], data: &[u8], mac: &[u8]) -> bool {
        fn check<M: Mac + KeyInit>(key: &[u8], data: &[u8], mac: &[u8]) -> bool {
            match <M as KeyInit>::new_from_slice(key) {
                Ok(mut m) => {
                    m.update(data);
                    m.verify_slice(mac).is_ok()
                }
                Err(_) => false,
            }
        }
        match self {
            MacAlg::Sha1 => check::<Hmac<sha1::Sha1>>(key, data, mac),
            MacAlg::Sha224 => check::<Hmac<sha2::Sha224>>(key, data, mac),
            MacAlg::Sha256 => check::<Hmac<sha2::Sha256>>(key, data, mac),
            MacAlg::Sha384 => check::<Hmac<sha2::Sha384>>(key, data, mac),
            MacAlg::Sha512 => check::<Hmac<sha2::Sha512>>(key, data, mac),
        }
    }
}

/// The pseudo-random function of PBKDF2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Prf {
    Sha1,
    Sha256,
    Sha512,
}

impl Prf {
    /// From the PRF element's Algorithm attribute; absent means HMAC-SHA-1 (PKCS #5's default).
    pub fn from_uri(uri: Option<&str>) -> Option<Prf> {
        match uri.map(str::trim) {
            None | Some("") => Some(Prf::Sha1),
            Some("http://www.w3.org/2000/09/xmldsig#hmac-sha1") => Some(Prf::Sha1),
            Some("http://www.w3.org/2001/04/xmldsig-more#hmac-sha256") => Some(Prf::Sha256),
            Some("http://www.w3.org/2001/04/xmldsig-more#hmac-sha512") => Some(Prf::Sha512),
            Some(_) => None,
        }
    }

    /// Derives `key_len` bytes from the passphrase. Iterations and lengths are checked by the
    /// caller against [`MAX_PBKDF2_ITERATIONS`] and the cipher's key size.
    pub fn derive(
        self,
        passphrase: &[u8],
        salt: &[u8],
        iterations: u32,
        key_len: usize,
    ) -> Vec<u8> {
        let mut out = vec![0u8; key_len];
        match self {
            Prf::Sha1 => pbkdf2::pbkdf2_hmac::<sha1::Sha1>(passphrase, salt, iterations, &mut out),
            Prf::Sha256 => {
                pbkdf2::pbkdf2_hmac::<sha2::Sha256>(passphrase, salt, iterations, &mut out)
            }
            Prf::Sha512 => {
                pbkdf2::pbkdf2_hmac::<sha2::Sha512>(passphrase, salt, iterations, &mut out)
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc6070_pbkdf2_vector() {
        let dk = Prf::Sha1.derive(b"password", b"salt", 2, 20);
        assert_eq!(hex::encode(dk), "ea6c014dc72d6f8ccd1ed92ace1d41f0d8de8957");
    }

    #[test]
    fn refuses_bad_shapes() {
        let key = [0u8; 16];
        assert_eq!(Cipher::Aes128.decrypt(&key, &[0; 16]), None, "IV only");
        assert_eq!(
            Cipher::Aes128.decrypt(&key, &[0; 33]),
            None,
            "not whole blocks"
        );
        assert_eq!(Cipher::Aes256.decrypt(&key, &[0; 32]), None, "key size");
        assert!(!MacAlg::Sha1.verify(b"k", b"data", &[0; 20]));
        assert!(!MacAlg::Sha1.verify(b"k", b"data", &[]));
        assert_eq!(Prf::from_uri(Some("urn:md5")), None);
    }
}
