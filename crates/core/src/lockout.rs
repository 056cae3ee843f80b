//! The one rule for what a factor's answer does: every verifier (password, authenticator app,
//! hardware/software token, recovery codes, e-mail code, operators' password and code) says
//! [`Verdict::Accepted`], [`Verdict::Replayed`], [`Verdict::Wrong`] or [`Verdict::Locked`], and
//! this module alone decides whether it is counted, whether the count locks, which audit
//! records it leaves and whether the customer gets the lock notice.
//!
//! Counting itself is an atomic statement in the database (so concurrent failures are counted
//! exactly, on any instance); the threshold test here is the one that statement applies.

/// A factor whose wrong answers are counted by this rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Guarded {
    /// A customer's login password.
    Password,
    /// A customer's authenticator app (TOTP).
    App,
    /// A customer's hardware or software token.
    Token,
    /// A customer's recovery codes.
    RecoveryCodes,
    /// The code mailed for one login attempt: exhausting it ends that attempt, it locks nothing.
    EmailCode,
    /// An operator's password.
    OperatorPassword,
    /// An operator's authenticator-app code.
    OperatorCode,
}

/// Which lock notice the customer is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockNotice {
    /// The login is locked by wrong passwords.
    Password,
    /// A second factor is locked by wrong codes.
    SecondFactor,
}

impl Guarded {
    /// The notice a lock of this factor sends the customer: every customer factor that locks
    /// sends one (the README promises it); operators are staff and get none, and an e-mail
    /// code never locks.
    pub fn lock_notice(self) -> Option<LockNotice> {
        match self {
            Guarded::Password => Some(LockNotice::Password),
            Guarded::App | Guarded::Token | Guarded::RecoveryCodes => {
                Some(LockNotice::SecondFactor)
            }
            Guarded::EmailCode | Guarded::OperatorPassword | Guarded::OperatorCode => None,
        }
    }

    /// Whether a lock of this factor ends the login's open sessions: the password lock does
    /// (issue 16: wrong re-authentications in an open session lock the login, and the session
    /// must not go on to change what the lock protects); a second factor's lock leaves the
    /// sessions, which cannot use that factor any more.
    pub fn lock_revokes_sessions(self) -> bool {
        matches!(self, Guarded::Password)
    }

    /// The audit description of a lock of this factor after `threshold` failures; `subject`
    /// names the factor instance (`authenticator app`, `token VSMT00000001`, `recovery codes`)
    /// and `reason` is the failure that locked it (the operators' history shows that instead).
    pub fn lock_description(self, subject: &str, reason: &str, threshold: u32) -> String {
        match self {
            Guarded::Password => {
                format!("locked after {threshold} consecutive password failures")
            }
            Guarded::OperatorPassword | Guarded::OperatorCode => reason.to_owned(),
            Guarded::App | Guarded::Token | Guarded::RecoveryCodes | Guarded::EmailCode => {
                format!("{subject} locked after {threshold} consecutive wrong codes")
            }
        }
    }
}

/// What a factor's verifier found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The right answer, used up now.
    Accepted,
    /// A right answer that was already used (this request or another one used it first).
    Replayed,
    /// A wrong, expired or unknown answer.
    Wrong,
    /// The factor was locked before this answer was looked at.
    Locked,
}

/// What to do with a verdict, before anything is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Let it through; nothing is counted (the accepting write resets the count).
    Accept,
    /// Refuse and audit the refusal, without counting: a replayed code proves knowledge of a
    /// valid one (a client's retry must not lock the customer out), and a locked factor stays
    /// locked whatever is typed.
    RefuseUncounted,
    /// Refuse, audit and count one failure toward the factor's lock.
    Count,
}

/// Decides what a verdict does; the same for every factor, customers' and operators' alike.
pub fn decide(verdict: Verdict) -> Decision {
    match verdict {
        Verdict::Accepted => Decision::Accept,
        Verdict::Replayed | Verdict::Locked => Decision::RefuseUncounted,
        Verdict::Wrong => Decision::Count,
    }
}

/// Whether `failures` consecutive failures reach `threshold` (at least 1), i.e. lock the
/// factor. The store's counting statement applies this same test atomically.
pub fn reaches(failures: i64, threshold: u32) -> bool {
    failures >= i64::from(threshold.max(1))
}

/// What a counted failure did in the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counted {
    /// Consecutive failures after this one.
    pub failures: i64,
    /// This failure is the one that locked the factor (only one failure can be).
    pub newly_locked: bool,
}

/// What follows a counted failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AfterFailure {
    /// What the caller is told: [`Verdict::Locked`] by the failure that locked, otherwise
    /// [`Verdict::Wrong`].
    pub answer: Verdict,
    /// The lock is audited (once, with the failure that caused it).
    pub audit_lock: bool,
    /// The notice to send the customer, if any.
    pub notice: Option<LockNotice>,
    /// The login's open sessions end.
    pub revoke_sessions: bool,
}

/// Decides the consequences of a counted failure of `factor`.
pub fn after_failure(factor: Guarded, counted: Counted) -> AfterFailure {
    if counted.newly_locked && factor != Guarded::EmailCode {
        AfterFailure {
            answer: Verdict::Locked,
            audit_lock: true,
            notice: factor.lock_notice(),
            revoke_sessions: factor.lock_revokes_sessions(),
        }
    } else {
        AfterFailure {
            answer: Verdict::Wrong,
            audit_lock: false,
            notice: None,
            revoke_sessions: false,
        }
    }
}

/// How a login locked by wrong passwords is unlocked (`password.lockout_mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LockoutMode {
    /// The seeds' way: the support desk unlocks the login (jp-broker).
    #[default]
    Operator,
    /// NIST SP 800-63B's throttling: the lock lifts by itself after a duration.
    Timed,
}

impl LockoutMode {
    /// The setting's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            LockoutMode::Operator => "operator",
            LockoutMode::Timed => "timed",
        }
    }
}

/// Whether a password lock set at `locked_at` has lifted by itself at `now`: only in
/// [`LockoutMode::Timed`], once `duration_secs` have passed. An operator's unlock lifts any.
pub fn lock_lifted(
    mode: LockoutMode,
    locked_at: Option<crate::Timestamp>,
    duration_secs: i64,
    now: crate::Timestamp,
) -> bool {
    mode == LockoutMode::Timed && locked_at.is_some_and(|at| now >= at.plus_secs(duration_secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [Guarded; 7] = [
        Guarded::Password,
        Guarded::App,
        Guarded::Token,
        Guarded::RecoveryCodes,
        Guarded::EmailCode,
        Guarded::OperatorPassword,
        Guarded::OperatorCode,
    ];

    #[test]
    fn only_a_timed_lock_lifts_and_only_after_its_duration() {
        use crate::Timestamp;
        let at = Some(Timestamp(1_000));
        assert!(!lock_lifted(LockoutMode::Timed, at, 900, Timestamp(1_899)));
        assert!(lock_lifted(LockoutMode::Timed, at, 900, Timestamp(1_900)));
        assert!(!lock_lifted(
            LockoutMode::Operator,
            at,
            900,
            Timestamp(99_999)
        ));
        assert!(!lock_lifted(
            LockoutMode::Timed,
            None,
            900,
            Timestamp(99_999)
        ));
    }

    #[test]
    fn a_replayed_or_locked_answer_is_refused_without_counting() {
        assert_eq!(decide(Verdict::Replayed), Decision::RefuseUncounted);
        assert_eq!(decide(Verdict::Locked), Decision::RefuseUncounted);
        assert_eq!(decide(Verdict::Wrong), Decision::Count);
        assert_eq!(decide(Verdict::Accepted), Decision::Accept);
    }

    #[test]
    fn the_tenth_failure_locks_at_ten() {
        assert!(!reaches(9, 10));
        assert!(reaches(10, 10));
        assert!(reaches(11, 10));
        // A threshold of 0 would lock before any failure; it means 1.
        assert!(!reaches(0, 0));
        assert!(reaches(1, 0));
    }

    #[test]
    fn every_customer_lock_sends_a_notice_and_operators_get_none() {
        let locked = Counted {
            failures: 10,
            newly_locked: true,
        };
        for f in ALL {
            let a = after_failure(f, locked);
            let expected = match f {
                Guarded::Password => Some(LockNotice::Password),
                Guarded::App | Guarded::Token | Guarded::RecoveryCodes => {
                    Some(LockNotice::SecondFactor)
                }
                _ => None,
            };
            assert_eq!(a.notice, expected, "{f:?}");
            assert_eq!(a.audit_lock, f != Guarded::EmailCode, "{f:?}");
            assert_eq!(a.revoke_sessions, f == Guarded::Password, "{f:?}");
        }
    }

    #[test]
    fn a_failure_below_the_threshold_is_only_wrong() {
        for f in ALL {
            let a = after_failure(
                f,
                Counted {
                    failures: 3,
                    newly_locked: false,
                },
            );
            assert_eq!(a.answer, Verdict::Wrong);
            assert!(!a.audit_lock && a.notice.is_none() && !a.revoke_sessions);
        }
    }

    #[test]
    fn lock_descriptions_name_the_factor_and_the_threshold() {
        assert_eq!(
            Guarded::Token.lock_description("token HW-1", "wrong", 10),
            "token HW-1 locked after 10 consecutive wrong codes"
        );
        assert_eq!(
            Guarded::Password.lock_description("", "wrong password", 5),
            "locked after 5 consecutive password failures"
        );
        assert_eq!(
            Guarded::OperatorCode.lock_description("", "wrong one-time code", 10),
            "wrong one-time code"
        );
    }
}
