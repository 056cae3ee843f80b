//! The cryptography of PSKC (RFC 6030 §6) and of the vendor files that came before it: CBC
//! ciphers with the IV prefixed to the ciphertext (XML Encryption), the key wraps of RFC 3394 /
//! RFC 5649 (AES, and Camellia by RFC 3657) and RFC 3217 (triple DES), HMAC over the encrypted
//! value, and PBKDF2 (PKCS #5 v2.0) for passphrases. Every primitive comes from a RustCrypto
//! crate; only RFC 3217's framing around triple-DES CBC is written here, since no maintained
//! crate implements it.

use aes::cipher::block_padding::NoPadding;
use aes::cipher::consts::U16;
use aes::cipher::{BlockCipher, BlockDecrypt, BlockDecryptMut, BlockEncrypt, KeyIvInit};
use aes::cipher::{BlockSizeUser, KeyInit as CipherKeyInit};
use hmac::digest::KeyInit;
use hmac::{Hmac, Mac};
use sha1::Digest;
use subtle::ConstantTimeEq;

/// The most PBKDF2 iterations a file may ask for. Vendors use 1,000 to 100,000; a file asking
/// for billions would otherwise hold a request thread for hours.
pub(super) const MAX_PBKDF2_ITERATIONS: u32 = 1_000_000;
/// The longest salt accepted.
pub(super) const MAX_SALT_BYTES: usize = 1024;

/// How a value is encrypted, by XML Encryption algorithm URI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Cipher {
    Aes128Cbc,
    Aes192Cbc,
    Aes256Cbc,
    TripleDesCbc,
    Camellia128Cbc,
    Camellia192Cbc,
    Camellia256Cbc,
    /// RFC 3394 key wrap; `pad` is RFC 5649's variant for lengths that are not 8-byte blocks.
    KwAes128 {
        pad: bool,
    },
    KwAes192 {
        pad: bool,
    },
    KwAes256 {
        pad: bool,
    },
    KwCamellia128,
    KwCamellia192,
    KwCamellia256,
    /// RFC 3217 triple-DES key wrap.
    KwTripleDes,
}

impl Cipher {
    /// From an XML Encryption (1.0 or 1.1) or xmldsig-more algorithm URI.
    pub fn from_uri(uri: &str) -> Option<Cipher> {
        let uri = uri.trim();
        let (base, name) = uri.rsplit_once('#')?;
        if !matches!(
            base,
            "http://www.w3.org/2001/04/xmlenc"
                | "http://www.w3.org/2009/xmlenc11"
                | "http://www.w3.org/2001/04/xmldsig-more"
        ) {
            return None;
        }
        Some(match name {
            "aes128-cbc" => Cipher::Aes128Cbc,
            "aes192-cbc" => Cipher::Aes192Cbc,
            "aes256-cbc" => Cipher::Aes256Cbc,
            "tripledes-cbc" => Cipher::TripleDesCbc,
            "camellia128-cbc" => Cipher::Camellia128Cbc,
            "camellia192-cbc" => Cipher::Camellia192Cbc,
            "camellia256-cbc" => Cipher::Camellia256Cbc,
            "kw-aes128" => Cipher::KwAes128 { pad: false },
            "kw-aes192" => Cipher::KwAes192 { pad: false },
            "kw-aes256" => Cipher::KwAes256 { pad: false },
            "kw-aes-128-pad" => Cipher::KwAes128 { pad: true },
            "kw-aes-192-pad" => Cipher::KwAes192 { pad: true },
            "kw-aes-256-pad" => Cipher::KwAes256 { pad: true },
            "kw-camellia128" => Cipher::KwCamellia128,
            "kw-camellia192" => Cipher::KwCamellia192,
            "kw-camellia256" => Cipher::KwCamellia256,
            "kw-tripledes" => Cipher::KwTripleDes,
            _ => return None,
        })
    }

    /// Key length in bytes.
    pub fn key_len(self) -> usize {
        match self {
            Cipher::Aes128Cbc
            | Cipher::Camellia128Cbc
            | Cipher::KwAes128 { .. }
            | Cipher::KwCamellia128 => 16,
            Cipher::Aes192Cbc
            | Cipher::Camellia192Cbc
            | Cipher::KwAes192 { .. }
            | Cipher::KwCamellia192
            | Cipher::TripleDesCbc
            | Cipher::KwTripleDes => 24,
            Cipher::Aes256Cbc
            | Cipher::Camellia256Cbc
            | Cipher::KwAes256 { .. }
            | Cipher::KwCamellia256 => 32,
        }
    }

    /// Opens an encrypted value: `iv ‖ ciphertext` for the CBC modes, the wrapped key for the
    /// key wraps. `None` on a wrong key length, an impossible length or padding, or a key wrap
    /// whose integrity check fails.
    pub fn decrypt(self, key: &[u8], data: &[u8]) -> Option<Vec<u8>> {
        if key.len() != self.key_len() {
            return None;
        }
        match self {
            Cipher::Aes128Cbc => cbc_open::<aes::Aes128>(key, data),
            Cipher::Aes192Cbc => cbc_open::<aes::Aes192>(key, data),
            Cipher::Aes256Cbc => cbc_open::<aes::Aes256>(key, data),
            Cipher::TripleDesCbc => cbc_open::<des::TdesEde3>(key, data),
            Cipher::Camellia128Cbc => cbc_open::<camellia::Camellia128>(key, data),
            Cipher::Camellia192Cbc => cbc_open::<camellia::Camellia192>(key, data),
            Cipher::Camellia256Cbc => cbc_open::<camellia::Camellia256>(key, data),
            Cipher::KwAes128 { pad } => kw_open::<aes::Aes128>(key, data, pad),
            Cipher::KwAes192 { pad } => kw_open::<aes::Aes192>(key, data, pad),
            Cipher::KwAes256 { pad } => kw_open::<aes::Aes256>(key, data, pad),
            Cipher::KwCamellia128 => kw_open::<camellia::Camellia128>(key, data, false),
            Cipher::KwCamellia192 => kw_open::<camellia::Camellia192>(key, data, false),
            Cipher::KwCamellia256 => kw_open::<camellia::Camellia256>(key, data, false),
            Cipher::KwTripleDes => tripledes_kw_open(key, data),
        }
    }
}

/// CBC decryption of `iv ‖ ciphertext`, then XML Encryption's padding removed (last byte =
/// number of padding bytes, 1 to a block; the other padding bytes are arbitrary).
fn cbc_open<C>(key: &[u8], data: &[u8]) -> Option<Vec<u8>>
where
    C: BlockDecryptMut + BlockCipher + CipherKeyInit,
{
    let bs = C::block_size();
    if data.len() < 2 * bs || !data.len().is_multiple_of(bs) {
        return None;
    }
    let (iv, ct) = data.split_at(bs);
    let mut buf = ct.to_vec();
    let len = cbc::Decryptor::<C>::new_from_slices(key, iv)
        .ok()?
        .decrypt_padded_mut::<NoPadding>(&mut buf)
        .ok()?
        .len();
    buf.truncate(len);
    let pad = usize::from(*buf.last()?);
    if pad == 0 || pad > bs || pad > buf.len() {
        return None;
    }
    buf.truncate(buf.len() - pad);
    Some(buf)
}

/// RFC 3394 (or, with `pad`, RFC 5649) key unwrap with a 128-bit block cipher.
fn kw_open<C>(key: &[u8], data: &[u8], pad: bool) -> Option<Vec<u8>>
where
    C: CipherKeyInit + BlockCipher + BlockSizeUser<BlockSize = U16> + BlockEncrypt + BlockDecrypt,
{
    if data.len() < 16 || !data.len().is_multiple_of(8) {
        return None;
    }
    let kek = aes_kw::Kek::<C>::try_from(key).ok()?;
    let mut out = vec![0u8; data.len() - 8];
    if pad {
        let len = kek.unwrap_with_padding(data, &mut out).ok()?.len();
        out.truncate(len);
    } else {
        kek.unwrap(data, &mut out).ok()?;
    }
    Some(out)
}

/// RFC 3217's initial vector for the outer encryption.
const TRIPLEDES_KW_IV: [u8; 8] = [0x4a, 0xdd, 0xa2, 0x2c, 0x79, 0xe8, 0x21, 0x05];

/// RFC 3217 §3.2 key unwrap: decrypt with the fixed IV, reverse, split off the inner IV,
/// decrypt again, check the SHA-1 checksum.
fn tripledes_kw_open(key: &[u8], data: &[u8]) -> Option<Vec<u8>> {
    if data.len() < 24 || !data.len().is_multiple_of(8) {
        return None;
    }
    let decrypt = |iv: &[u8], buf: &mut [u8]| -> Option<()> {
        cbc::Decryptor::<des::TdesEde3>::new_from_slices(key, iv)
            .ok()?
            .decrypt_padded_mut::<NoPadding>(buf)
            .ok()
            .map(|_| ())
    };
    let mut temp = data.to_vec();
    decrypt(&TRIPLEDES_KW_IV, &mut temp)?;
    temp.reverse();
    let (iv, inner) = temp.split_at(8);
    let mut wkcks = inner.to_vec();
    decrypt(iv, &mut wkcks)?;
    let (cek, cks) = wkcks.split_at(wkcks.len() - 8);
    let digest = sha1::Sha1::digest(cek);
    bool::from(digest.get(..8)?.ct_eq(cks)).then(|| cek.to_vec())
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
    /// From an XML Signature algorithm URI. Vendors write `hmac-sha1` under the xmldsig-more
    /// base (RFC 4051) as often as under xmldsig's, and the pre-RFC drafts wrote the bare name
    /// (`HMAC-SHA1`); all mean the same function.
    pub fn from_uri(uri: &str) -> Option<MacAlg> {
        let uri = uri.trim();
        let name = match uri.rsplit_once('#') {
            Some((
                "http://www.w3.org/2000/09/xmldsig" | "http://www.w3.org/2001/04/xmldsig-more",
                name,
            )) => name,
            Some(_) => return None,
            None => uri,
        };
        match name.to_ascii_lowercase().as_str() {
            "hmac-sha1" => Some(MacAlg::Sha1),
            "hmac-sha224" => Some(MacAlg::Sha224),
            "hmac-sha256" => Some(MacAlg::Sha256),
            "hmac-sha384" => Some(MacAlg::Sha384),
            "hmac-sha512" => Some(MacAlg::Sha512),
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
            Some(u) => match MacAlg::from_uri(u)? {
                MacAlg::Sha1 => Some(Prf::Sha1),
                MacAlg::Sha256 => Some(Prf::Sha256),
                MacAlg::Sha512 => Some(Prf::Sha512),
                MacAlg::Sha224 | MacAlg::Sha384 => None,
            },
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
    fn rfc3394_and_rfc5649_vectors() {
        // RFC 3394 §4.1: 128 bits of key data wrapped with a 128-bit KEK.
        let kek = hex::decode("000102030405060708090A0B0C0D0E0F").unwrap_or_default();
        let wrapped =
            hex::decode("1FA68B0A8112B447AEF34BD8FB5A7B829D3E862371D2CFE5").unwrap_or_default();
        assert_eq!(
            Cipher::KwAes128 { pad: false }.decrypt(&kek, &wrapped),
            hex::decode("00112233445566778899AABBCCDDEEFF").ok()
        );
        // RFC 5649 §6: 7 octets wrapped with a 192-bit KEK.
        let kek =
            hex::decode("5840df6e29b02af1ab493b705bf16ea1ae8338f4dcc176a8").unwrap_or_default();
        let wrapped = hex::decode("afbeb0f07dfbf5419200f2ccb50bb24f").unwrap_or_default();
        assert_eq!(
            Cipher::KwAes192 { pad: true }.decrypt(&kek, &wrapped),
            hex::decode("466f7250617369").ok()
        );
        let mut bad = wrapped.clone();
        bad[3] ^= 1;
        assert_eq!(Cipher::KwAes192 { pad: true }.decrypt(&kek, &bad), None);
    }

    #[test]
    fn uris() {
        assert_eq!(
            Cipher::from_uri(" http://www.w3.org/2001/04/xmlenc#kw-tripledes "),
            Some(Cipher::KwTripleDes)
        );
        assert_eq!(
            Cipher::from_uri("http://www.w3.org/2009/xmlenc11#kw-aes-256-pad"),
            Some(Cipher::KwAes256 { pad: true })
        );
        assert_eq!(Cipher::from_uri("urn:x#aes128-cbc"), None);
        assert_eq!(Cipher::from_uri(""), None);
        for uri in [
            "http://www.w3.org/2000/09/xmldsig#hmac-sha1",
            "http://www.w3.org/2001/04/xmldsig-more#hmac-sha1",
            "HMAC-SHA1",
        ] {
            assert_eq!(MacAlg::from_uri(uri), Some(MacAlg::Sha1), "{uri}");
        }
        assert_eq!(MacAlg::from_uri("urn:x#hmac-sha1"), None);
    }

    #[test]
    fn refuses_bad_shapes() {
        let key = [0u8; 16];
        assert_eq!(Cipher::Aes128Cbc.decrypt(&key, &[0; 16]), None, "IV only");
        assert_eq!(
            Cipher::Aes128Cbc.decrypt(&key, &[0; 33]),
            None,
            "not whole blocks"
        );
        assert_eq!(Cipher::Aes256Cbc.decrypt(&key, &[0; 32]), None, "key size");
        assert_eq!(Cipher::KwAes128 { pad: false }.decrypt(&key, &[0; 8]), None);
        assert_eq!(Cipher::KwTripleDes.decrypt(&[0; 24], &[0; 40]), None);
        assert_eq!(Cipher::TripleDesCbc.decrypt(&[0; 24], &[0; 12]), None);
        assert!(!MacAlg::Sha1.verify(b"k", b"data", &[0; 20]));
        assert!(!MacAlg::Sha1.verify(b"k", b"data", &[]));
        assert_eq!(Prf::from_uri(Some("urn:md5")), None);
    }
}
