//! What a customer types as a code, and comparing it with the expected one.

use subtle::ConstantTimeEq;

/// Inputs longer than this (in bytes, after trimming) are refused before they are scanned: no
/// code is anywhere near it, and it bounds the work an oversized field can cause.
const MAX_INPUT_BYTES: usize = 64;

/// Turns what a customer typed into the plain ASCII digits of a code, or `None` when it is not a
/// code at all.
///
/// Accepted, because real customers produce them: whitespace around the code (pasting), one
/// space splitting it in the middle as authenticator apps display it (`"123 456"`,
/// `"1234 5678"`; the ideographic space U+3000 counts as a space), and full-width digits
/// `０`–`９`, which a Japanese IME in full-width mode types. Everything else (letters, hyphens,
/// more than one space, a space away from the middle) is refused rather than guessed at.
///
/// The length is not checked here: a code of the wrong length simply does not match.
pub fn normalize_code(input: &str) -> Option<String> {
    // `trim` removes all Unicode white space, the ideographic space included.
    let t = input.trim();
    if t.is_empty() || t.len() > MAX_INPUT_BYTES {
        return None;
    }
    let mut digits = String::with_capacity(8);
    let mut space_at: Option<usize> = None;
    for c in t.chars() {
        match c {
            '0'..='9' => digits.push(c),
            '\u{FF10}'..='\u{FF19}' => {
                digits.push(char::from_digit(u32::from(c) - 0xFF10, 10)?);
            }
            ' ' | '\u{3000}' if space_at.is_none() => space_at = Some(digits.len()),
            _ => return None,
        }
    }
    if let Some(left) = space_at {
        // Trimming guarantees digits on both sides; "middle" allows one more on the right for
        // odd lengths ("123 4567").
        let right = digits.len() - left;
        if left.abs_diff(right) > 1 {
            return None;
        }
    }
    Some(digits)
}

/// Whether `input` (as typed, see [`normalize_code`]) is the code `expected`, compared in
/// constant time so the comparison does not reveal how many leading digits were right.
pub fn code_matches(expected: &str, input: &str) -> bool {
    match normalize_code(input) {
        Some(given) => ct_eq(expected, &given),
        None => false,
    }
}

/// Constant-time equality of an expected code and normalised input. Only the length, which is
/// public (the digits setting), may end the comparison early; an empty expected code (the
/// engine's closed failure) never matches.
pub(super) fn ct_eq(expected: &str, given: &str) -> bool {
    !expected.is_empty() && bool::from(expected.as_bytes().ct_eq(given.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepted_forms() {
        let ok =
            |s: &str, want: &str| assert_eq!(normalize_code(s).as_deref(), Some(want), "{s:?}");
        ok("123456", "123456");
        ok("  123456\n", "123456");
        ok("\t123456 ", "123456");
        ok("123 456", "123456");
        ok("1234 5678", "12345678");
        ok("123 4567", "1234567");
        ok("1234 567", "1234567");
        ok("１２３４５６", "123456");
        ok("１２３　４５６", "123456");
        ok("　１２３４５６　", "123456");
        ok("12３4５6", "123456");
        ok("012345", "012345");
        // Any length comes through; the match decides.
        ok("12345", "12345");
    }

    #[test]
    fn refused_forms() {
        for s in [
            "",
            "   ",
            "12 3456",
            "12345 6",
            "123  456",
            "1 2 3 4 5 6",
            "123-456",
            "123456a",
            "abcdef",
            "+123456",
            "123.456",
            "１２３ー４５６",
            "٣٤٥٦٧٨", // Arabic-Indic digits are not what any app shows.
            "123\u{00A0}456",
            "123\t456",
        ] {
            assert_eq!(normalize_code(s), None, "{s:?}");
        }
        assert_eq!(normalize_code(&"1".repeat(65)), None);
    }

    #[test]
    fn matching() {
        assert!(code_matches("123456", "123 456"));
        assert!(code_matches("123456", "１２３４５６"));
        assert!(!code_matches("123456", "123457"));
        assert!(!code_matches("123456", "1234567"));
        assert!(!code_matches("123456", "12345"));
        assert!(!code_matches("", ""));
        assert!(!code_matches("", " "));
    }
}
