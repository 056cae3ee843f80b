//! Recovery codes: ten single-use codes shown once, for a customer whose phone is lost. Each
//! is 12 characters of an alphabet without look-alikes (no 0/o, 1/l/i), about 59 bits, shown
//! as `xxxx-xxxx-xxxx`; the server keeps only a keyed hash of the normalised code.

use crate::clock::{random_bytes, Random};

/// Codes in a set.
pub const COUNT: usize = 10;

/// The characters of a code: digits 2–9 and lower-case letters without i, l and o.
pub const ALPHABET: &[u8] = b"23456789abcdefghjkmnpqrstuvwxyz";

/// Characters in a code (hyphens aside).
pub const LENGTH: usize = 12;

/// One uniformly random code, formatted `xxxx-xxxx-xxxx`.
pub fn generate(rng: &dyn Random) -> String {
    let n = ALPHABET.len();
    // Rejection sampling keeps every character equally likely.
    let limit = 256 - 256 % n;
    let mut out = String::with_capacity(LENGTH + 2);
    let mut chars = 0;
    while chars < LENGTH {
        for b in random_bytes::<16>(rng) {
            if chars == LENGTH {
                break;
            }
            let b = usize::from(b);
            if b < limit {
                if chars > 0 && chars % 4 == 0 {
                    out.push('-');
                }
                out.push(char::from(ALPHABET[b % n]));
                chars += 1;
            }
        }
    }
    out
}

/// A fresh set of [`COUNT`] distinct codes.
pub fn generate_set(rng: &dyn Random) -> Vec<String> {
    let mut set: Vec<String> = Vec::with_capacity(COUNT);
    while set.len() < COUNT {
        let c = generate(rng);
        if !set.contains(&c) {
            set.push(c);
        }
    }
    set
}

/// The canonical form of what the customer typed: lower case, full-width folded, spaces and
/// hyphens dropped; `None` unless it is [`LENGTH`] characters of the alphabet.
pub fn normalize(input: &str) -> Option<String> {
    let mut out = String::with_capacity(LENGTH);
    for c in input.chars() {
        let c = match c {
            '\u{ff01}'..='\u{ff5e}' => char::from_u32(c as u32 - 0xfee0)?,
            _ => c,
        };
        match c {
            ' ' | '-' | '　' | '－' | 'ー' => {}
            _ => {
                let c = c.to_ascii_lowercase();
                if !c.is_ascii() || !ALPHABET.contains(&(c as u8)) {
                    return None;
                }
                out.push(c);
            }
        }
        if out.len() > LENGTH {
            return None;
        }
    }
    (out.len() == LENGTH).then_some(out)
}

/// The context of a login's recovery code hashes (see `SecretBox::code_hash`).
pub fn hash_context(login_pk: i64) -> String {
    format!("recovery:{login_pk}")
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Counter(std::sync::atomic::AtomicU8);
    impl Random for Counter {
        fn fill(&self, buf: &mut [u8]) {
            for b in buf {
                *b = self.0.fetch_add(37, std::sync::atomic::Ordering::SeqCst);
            }
        }
    }

    #[test]
    fn codes_are_formatted_and_distinct() {
        let rng = Counter(std::sync::atomic::AtomicU8::new(0));
        let set = generate_set(&rng);
        assert_eq!(set.len(), COUNT);
        for c in &set {
            assert_eq!(c.len(), LENGTH + 2, "{c}");
            assert_eq!(c.matches('-').count(), 2);
            assert_eq!(normalize(c).map(|n| n.len()), Some(LENGTH));
        }
        let mut sorted = set.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), COUNT);
        // 31 symbols, 12 of them: more than 50 bits.
        assert!((LENGTH as f64) * (ALPHABET.len() as f64).log2() > 50.0);
    }

    #[test]
    fn typed_codes_are_normalized() {
        assert_eq!(normalize("ABCD-efgh-2345").as_deref(), Some("abcdefgh2345"));
        assert_eq!(
            normalize("ａｂｃｄ　ｅｆｇｈ　２３４５").as_deref(),
            Some("abcdefgh2345")
        );
        assert_eq!(normalize("abcd-efgh-234"), None);
        assert_eq!(
            normalize("abcd-efgh-2340"),
            None,
            "0 is not in the alphabet"
        );
        assert_eq!(normalize("abcd-efgh-23456"), None);
    }
}
