//! One-time codes sent by e-mail at login (JTG: 6 digits, valid 5 minutes, invalid after too
//! many wrong tries, re-issue on request). The server keeps only a keyed hash of a code.

use crate::clock::{random_bytes, Random, Timestamp};
use crate::error::Error;
use crate::lang::Lang;

/// The rules for e-mail codes (the `email_code.*` settings).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EmailCodePolicy {
    /// Code length in digits.
    pub digits: u32,
    /// How long a code is valid.
    pub ttl_secs: i64,
    /// Wrong tries a code allows; the one that reaches this number invalidates it.
    pub max_tries: u32,
    /// Wait between two re-issues.
    pub resend_cooldown_secs: i64,
    /// Re-issues allowed per login attempt.
    pub max_resends: u32,
    /// How long a login attempt may wait for its code, re-issues included.
    pub login_timeout_secs: i64,
}

impl Default for EmailCodePolicy {
    fn default() -> Self {
        EmailCodePolicy {
            digits: 6,
            ttl_secs: 300,
            max_tries: 5,
            resend_cooldown_secs: 30,
            max_resends: 3,
            login_timeout_secs: 900,
        }
    }
}

/// A code's state as stored with its challenge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodeState {
    /// The code's end.
    pub expires_at: Timestamp,
    /// Wrong tries so far in this login attempt (re-issues do not reset it).
    pub failures: i64,
    /// The count at which the current code stops working.
    pub fail_limit: i64,
    /// Codes sent so far (the first one included).
    pub sends: i64,
    /// When the last code was sent.
    pub sent_at: Timestamp,
}

impl CodeState {
    /// Whether the current code can still be tried: not worn out by wrong tries, not expired.
    pub fn usable(&self, now: Timestamp) -> Result<(), Error> {
        if self.failures >= self.fail_limit {
            return Err(Error::EmailCodeExhausted);
        }
        if now >= self.expires_at {
            return Err(Error::EmailCodeExpired);
        }
        Ok(())
    }

    /// The error for a wrong code, given the failure count after it.
    pub fn wrong(&self, failures_after: i64) -> Error {
        if failures_after >= self.fail_limit {
            Error::EmailCodeExhausted
        } else {
            Error::EmailCodeInvalid
        }
    }

    /// Whether another code may be sent now; `Err` carries the seconds to wait when it is the
    /// cool-down that refuses.
    pub fn may_resend(&self, policy: &EmailCodePolicy, now: Timestamp) -> Result<(), (Error, i64)> {
        if self.sends > i64::from(policy.max_resends) {
            return Err((Error::EmailCodeResendLimit, 0));
        }
        let ready = self.sent_at.plus_secs(policy.resend_cooldown_secs);
        if now < ready {
            return Err((Error::EmailCodeResendTooSoon, ready.0 - now.0));
        }
        Ok(())
    }

    /// The failure limit for a newly sent code: the count goes on, the new code allows
    /// `max_tries` more, so the guesses in one login attempt stay bounded by
    /// `max_tries × (1 + max_resends)`.
    pub fn next_fail_limit(&self, policy: &EmailCodePolicy) -> i64 {
        self.failures + i64::from(policy.max_tries)
    }
}

/// A uniformly random code of `digits` decimal digits.
pub fn generate(rng: &dyn Random, digits: u32) -> String {
    let digits = digits.clamp(4, 10);
    let modulus = 10_u64.pow(digits);
    // Rejection sampling keeps every code equally likely.
    let limit = u64::MAX - u64::MAX % modulus;
    loop {
        let v = u64::from_be_bytes(random_bytes::<8>(rng));
        if v < limit {
            return format!("{:0width$}", v % modulus, width = digits as usize);
        }
    }
}

/// Keeps only ASCII digits of what the customer typed (full-width digits are folded, spaces and
/// hyphens dropped); `None` if anything else is in it.
pub fn normalize(input: &str) -> Option<String> {
    let mut out = String::new();
    for c in input.chars() {
        match c {
            '0'..='9' => out.push(c),
            '０'..='９' => out.push(char::from(b'0' + (c as u32 - '０' as u32) as u8)),
            ' ' | '-' | '　' => {}
            _ => return None,
        }
    }
    Some(out)
}

/// The notice shown after a re-issue (JTG's wording).
pub fn resent_notice(lang: Lang) -> &'static str {
    match lang {
        Lang::Ja => "配信設定したメールアドレスに再発行された認証コードを送信しました。",
        Lang::En => "A new verification code was sent to your code delivery address.",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Counter(std::sync::atomic::AtomicU8);
    impl Random for Counter {
        fn fill(&self, buf: &mut [u8]) {
            let v = self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            buf.fill(v);
        }
    }

    #[test]
    fn codes_have_the_requested_length() {
        let rng = Counter(std::sync::atomic::AtomicU8::new(0));
        for _ in 0..20 {
            let c = generate(&rng, 6);
            assert_eq!(c.len(), 6);
            assert!(c.chars().all(|c| c.is_ascii_digit()));
        }
        assert_eq!(generate(&rng, 8).len(), 8);
    }

    #[test]
    fn states_follow_jtg() {
        let p = EmailCodePolicy::default();
        let s = CodeState {
            expires_at: Timestamp(400),
            failures: 0,
            fail_limit: 5,
            sends: 1,
            sent_at: Timestamp(100),
        };
        assert_eq!(s.usable(Timestamp(399)), Ok(()));
        assert_eq!(s.usable(Timestamp(400)), Err(Error::EmailCodeExpired));
        assert_eq!(s.wrong(4), Error::EmailCodeInvalid);
        assert_eq!(s.wrong(5), Error::EmailCodeExhausted);
        let worn = CodeState { failures: 5, ..s };
        assert_eq!(worn.usable(Timestamp(101)), Err(Error::EmailCodeExhausted));
        assert_eq!(worn.next_fail_limit(&p), 10, "re-issue keeps the count");
        assert_eq!(
            s.may_resend(&p, Timestamp(110)),
            Err((Error::EmailCodeResendTooSoon, 20))
        );
        assert_eq!(s.may_resend(&p, Timestamp(130)), Ok(()));
        let many = CodeState { sends: 4, ..s };
        assert_eq!(
            many.may_resend(&p, Timestamp(1000)),
            Err((Error::EmailCodeResendLimit, 0))
        );
    }

    #[test]
    fn typed_codes_are_normalized() {
        assert_eq!(normalize("123 456").as_deref(), Some("123456"));
        assert_eq!(normalize("１２３４５６").as_deref(), Some("123456"));
        assert_eq!(normalize("12a456"), None);
    }
}
