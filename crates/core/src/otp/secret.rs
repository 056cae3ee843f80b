//! Shared secrets: making them, and the base32 form authenticator apps and token seed files use.

use crate::clock::{random_bytes, Random};

/// Length of a generated secret in bytes: 160 bits, the HMAC-SHA-1 output size that RFC 4226
/// recommends and every authenticator app accepts.
pub const SECRET_LEN: usize = 20;

/// The RFC 4648 base32 alphabet.
const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// A new random secret.
pub fn generate_secret(rng: &dyn Random) -> [u8; SECRET_LEN] {
    random_bytes(rng)
}

/// Base32 (RFC 4648, upper case) without `=` padding, the form of the `secret` parameter in an
/// `otpauth://` URI and of the key a customer types by hand.
pub fn base32_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let mut buffer: u32 = 0;
    let mut bits: u32 = 0;
    for &b in bytes {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[((buffer >> bits) & 0x1f) as usize]));
        }
        // Only the unread low bits matter; masking keeps the shift from overflowing.
        buffer &= (1 << bits) - 1;
    }
    if bits > 0 {
        out.push(char::from(
            ALPHABET[((buffer << (5 - bits)) & 0x1f) as usize],
        ));
    }
    out
}

/// Decodes base32 as people and vendors write it: letter case is ignored, and so are spaces and
/// hyphens (keys are shown in groups, `JBSW Y3DP EHPK 3PXP`), trailing `=` padding is optional.
/// `None` for any other character, `=` before the end, or a length no encoding can have (1, 3
/// or 6 symbols left over), which usually means a symbol was lost when the key was copied.
pub fn base32_decode(s: &str) -> Option<Vec<u8>> {
    let body = s.trim_end_matches(|c: char| c == '=' || c.is_ascii_whitespace());
    let mut out = Vec::with_capacity(body.len() * 5 / 8);
    let mut buffer: u32 = 0;
    let mut bits: u32 = 0;
    let mut symbols: usize = 0;
    for c in body.bytes() {
        let v = match c {
            b' ' | b'\t' | b'\r' | b'\n' | b'-' => continue,
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a',
            b'2'..=b'7' => c - b'2' + 26,
            _ => return None,
        };
        symbols += 1;
        buffer = (buffer << 5) | u32::from(v);
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push(((buffer >> bits) & 0xff) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    if matches!(symbols % 8, 1 | 3 | 6) {
        return None;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc4648_vectors() {
        let cases: [(&[u8], &str); 7] = [
            (b"", ""),
            (b"f", "MY"),
            (b"fo", "MZXQ"),
            (b"foo", "MZXW6"),
            (b"foob", "MZXW6YQ"),
            (b"fooba", "MZXW6YTB"),
            (b"foobar", "MZXW6YTBOI"),
        ];
        for (raw, enc) in cases {
            assert_eq!(base32_encode(raw), enc);
            assert_eq!(base32_decode(enc).as_deref(), Some(raw));
        }
        // The RFC 6238 SHA-1 seed, as authenticator test pages show it.
        assert_eq!(
            base32_encode(b"12345678901234567890"),
            "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
        );
    }

    #[test]
    fn lenient_decode() {
        let want = Some(b"foobar".to_vec());
        assert_eq!(base32_decode("mzxw6ytboi"), want);
        assert_eq!(base32_decode("MZXW 6YTB OI"), want);
        assert_eq!(base32_decode("mzxw-6ytb-oi"), want);
        assert_eq!(base32_decode("MZXW6YTBOI======"), want);
        assert_eq!(base32_decode(" MZXW6YTBOI== \n"), want);
        assert_eq!(base32_decode("MY======").as_deref(), Some(&b"f"[..]));
    }

    #[test]
    fn refused_decode() {
        for s in [
            "MZXW6YTB0I",  // zero is not in the alphabet
            "MZXW6YTB1I",  // nor is one
            "MZ=XW6YTBOI", // padding in the middle
            "M",           // impossible lengths
            "MZX",
            "MZXW6Y",
            "MZXW6YTBO",
            "MZXW6YTB_OI",
            "ＭＺＸＷ",
        ] {
            assert_eq!(base32_decode(s), None, "{s:?}");
        }
    }

    #[test]
    fn round_trip_every_length() {
        for len in 0..=70usize {
            let raw: Vec<u8> = (0..len).map(|i| (i * 37 + 11) as u8).collect();
            let enc = base32_encode(&raw);
            assert!(!enc.contains('='));
            assert_eq!(enc.len(), (len * 8).div_ceil(5));
            assert_eq!(base32_decode(&enc), Some(raw.clone()), "len {len}");
            assert_eq!(base32_decode(&enc.to_lowercase()), Some(raw), "len {len}");
        }
    }

    struct Counting(std::sync::atomic::AtomicU8);
    impl Random for Counting {
        fn fill(&self, buf: &mut [u8]) {
            for b in buf {
                *b = self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
        }
    }

    #[test]
    fn generated_secret() {
        let rng = Counting(std::sync::atomic::AtomicU8::new(0));
        let a = generate_secret(&rng);
        let b = generate_secret(&rng);
        assert_eq!(a.len(), 20);
        assert_eq!(a[..3], [0, 1, 2]);
        assert_ne!(a, b);
        assert_eq!(
            base32_encode(&a).len(),
            32,
            "160 bits are 32 symbols, no padding"
        );
    }
}
