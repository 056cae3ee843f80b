//! The transition table: every branch of the second step, the password step's denials and the
//! proofs a completed login carries.

use super::*;
use crate::login::AfterDeadline;
use crate::step_up::ConfirmMethod;

const NOW: Timestamp = Timestamp(1_000_000);

fn facts() -> Facts {
    Facts {
        configured: SecondFactor::None,
        mfa_required: false,
        email_codes: false,
        registered: Registered::default(),
        passkeys: PasskeyRules::default(),
        rollout: MfaRollout::default(),
        inline: Inline::default(),
    }
}

fn account() -> Account {
    Account {
        has_password: true,
        ..Account::default()
    }
}

/// The login after its password (`ok`) and, when right, its second step's facts.
fn after_account(ok: bool, a: Account, f: Facts) -> LoginState {
    let s = next(
        LoginState::PasswordStep,
        Event::PasswordChecked { ok, account: a },
        NOW,
    );
    match s {
        LoginState::PasswordAccepted => next(s, Event::FactorsGathered(Box::new(f)), NOW),
        other => other,
    }
}

fn after(ok: bool, f: Facts) -> LoginState {
    after_account(ok, account(), f)
}

fn done(password: bool, second: Second) -> LoginState {
    LoginState::Done(Done::new(password, second, NOW))
}

fn awaiting(offered: &[Factor], token: bool) -> LoginState {
    LoginState::AwaitingFactor {
        offered: offered.to_vec(),
        token,
    }
}

fn app() -> Facts {
    Facts {
        registered: Registered {
            app: true,
            ..Registered::default()
        },
        ..facts()
    }
}

fn token_login() -> Facts {
    Facts {
        configured: SecondFactor::Token,
        mfa_required: true,
        registered: Registered {
            token: true,
            ..Registered::default()
        },
        ..facts()
    }
}

fn with_inline(mut f: Facts, otp: bool, recovery_code: bool, device_token: bool) -> Facts {
    f.inline = Inline {
        otp,
        recovery_code,
        device_token,
    };
    f
}

#[test]
fn factor_names_are_the_stored_and_wire_names() {
    for f in Factor::ALL {
        assert_eq!(Factor::parse(f.as_str()), Some(f));
        let json = serde_json::to_string(&f).unwrap_or_default();
        assert_eq!(json, format!("\"{}\"", f.as_str()));
    }
    let names = [
        "totp",
        "token",
        "email",
        "passkey",
        "recovery_code",
        "token_register",
    ];
    assert_eq!(Factor::names(&Factor::ALL), names);
    assert_eq!(
        Factor::parse_all(&["totp", "sms", "passkey"]),
        [Factor::Totp, Factor::Passkey]
    );
    assert_eq!(SecondFactor::Any.factor(), None);
    assert_eq!(SecondFactor::None.factor(), None);
    assert_eq!(SecondFactor::Token.factor(), Some(Factor::Token));
}

#[test]
fn step_up_and_login_name_a_factor_with_the_same_amr() {
    for m in ConfirmMethod::ALL {
        let f = Factor::from(*m);
        assert_eq!(f.as_str(), m.as_str());
        let login: Vec<&str> = f.amr().iter().map(|a| a.as_str()).collect();
        assert_eq!(login, m.amr(), "{m:?}");
    }
}

#[test]
fn a_password_only_login_is_done_with_pwd() {
    let s = after(true, facts());
    assert_eq!(s, done(true, Second::Nothing));
    let LoginState::Done(d) = s else {
        unreachable!()
    };
    assert_eq!(d.amr_names(), ["pwd"]);
    assert_eq!(d.acr, Acr::Password);
    assert_eq!(d.session_methods(), ["pwd"]);
    assert_eq!(d.description(), "password");
    assert_eq!(d.auth_time, NOW);
}

#[test]
fn the_rollout_reminds_before_the_deadline_and_mails_a_code_after_it() {
    let mut f = facts();
    f.rollout = MfaRollout {
        mandatory_from: Some(Timestamp(NOW.0 + 10)),
        ..MfaRollout::default()
    };
    let LoginState::Done(d) = after(true, f.clone()) else {
        unreachable!()
    };
    assert_eq!(d.mfa_reminder, Some(Timestamp(NOW.0 + 10)));
    f.rollout.mandatory_from = Some(NOW);
    assert_eq!(after(true, f.clone()), LoginState::AwaitingEmailCode);
    f.rollout.after_deadline = AfterDeadline::Refuse;
    assert_eq!(
        after(true, f),
        denied(
            Error::SecondFactorNotInitialized,
            Record::Refused(NOT_INITIALIZED)
        )
    );
}

#[test]
fn not_initialized_sends_a_token_login_to_registration_and_refuses_any_other() {
    let mut f = token_login();
    f.registered.token = false;
    assert_eq!(
        after(true, f.clone()),
        LoginState::TokenRegistrationRequired
    );
    f.configured = SecondFactor::Totp;
    assert_eq!(
        after(true, f),
        denied(
            Error::SecondFactorNotInitialized,
            Record::Refused(NOT_INITIALIZED)
        )
    );
}

#[test]
fn an_inline_code_is_checked_by_the_token_or_by_the_app() {
    // A token login: the token checks the code.
    let s = after(true, with_inline(token_login(), true, false, false));
    let LoginState::VerifyingInline { factor, plan } = s.clone() else {
        unreachable!("{s:?}")
    };
    assert_eq!(factor, Factor::Token);
    assert!(plan.offers_token());
    let s = next(
        s,
        Event::FactorAnswered {
            factor: Factor::Token,
            result: Ok(()),
        },
        NOW,
    );
    let LoginState::Done(d) = s else {
        unreachable!()
    };
    assert_eq!(d.amr_names(), ["pwd", "otp", "hwk", "mfa"]);
    assert_eq!(d.acr, Acr::MultiFactor);
    assert_eq!(d.session_methods(), ["pwd", "otp"]);
    assert_eq!(d.description(), "password + token");

    // App and token under `any`: the app answers.
    let mut f = with_inline(app(), true, false, false);
    f.registered.token = true;
    let s = after(true, f);
    assert!(
        matches!(&s, LoginState::VerifyingInline { factor: Factor::Totp, plan } if plan.offered == [Factor::Totp, Factor::Token]),
        "{s:?}"
    );
    let s = next(
        s,
        Event::FactorAnswered {
            factor: Factor::Totp,
            result: Ok(()),
        },
        NOW,
    );
    let LoginState::Done(d) = s else {
        unreachable!()
    };
    assert_eq!(d.amr_names(), ["pwd", "otp", "swk", "mfa"]);
    assert_eq!(d.session_methods(), ["pwd", "otp"]);
    assert_eq!(d.description(), "password + authenticator app");
}

#[test]
fn a_wrong_inline_code_is_denied_as_its_verifier_said() {
    let s = after(true, with_inline(app(), true, false, false));
    let e = Error::SecondFactorInvalid;
    let s2 = next(
        s.clone(),
        Event::FactorAnswered {
            factor: Factor::Totp,
            result: Err(e.clone()),
        },
        NOW,
    );
    assert_eq!(s2, denied(e, Record::Settled));
    // Another factor's answer does not complete a login verifying the app.
    let s3 = next(
        s,
        Event::FactorAnswered {
            factor: Factor::Passkey,
            result: Ok(()),
        },
        NOW,
    );
    assert_eq!(s3, denied(Error::ChallengeInvalid, Record::Settled));
}

#[test]
fn without_a_code_the_login_waits_at_a_challenge() {
    assert_eq!(after(true, app()), awaiting(&[Factor::Totp], false));
    assert_eq!(after(true, token_login()), awaiting(&[Factor::Token], true));
}

#[test]
fn a_recovery_code_sent_with_the_password_is_checked_first() {
    let s = after(true, with_inline(app(), true, true, true));
    assert!(
        matches!(
            s,
            LoginState::VerifyingInline {
                factor: Factor::RecoveryCode,
                ..
            }
        ),
        "{s:?}"
    );
    let LoginState::Done(d) = next(
        s,
        Event::FactorAnswered {
            factor: Factor::RecoveryCode,
            result: Ok(()),
        },
        NOW,
    ) else {
        unreachable!()
    };
    assert_eq!(d.session_methods(), ["pwd", "recovery_code"]);
    assert_eq!(d.description(), "password + recovery code");
    assert_eq!(d.acr, Acr::MultiFactor);
}

#[test]
fn a_familiar_browser_skips_the_factor_asked_but_proves_no_otp() {
    let s = after(true, with_inline(app(), false, false, true));
    let LoginState::CheckingDevice(plan) = s.clone() else {
        unreachable!("{s:?}")
    };
    assert_eq!(plan.asked, Factor::Totp);
    let LoginState::Done(d) = next(s.clone(), Event::DeviceChecked { recognised: true }, NOW)
    else {
        unreachable!()
    };
    assert_eq!(d.second, Second::FamiliarBrowser(Factor::Totp));
    assert_eq!(d.amr_names(), ["pwd"], "no otp was typed");
    assert_eq!(d.acr, Acr::Password);
    assert_eq!(d.session_methods(), ["pwd", "device"]);
    // Not recognised: the challenge as without a token.
    assert_eq!(
        next(s, Event::DeviceChecked { recognised: false }, NOW),
        awaiting(&[Factor::Totp], false)
    );
    // A code typed with the password wins over the browser.
    let s = after(true, with_inline(app(), true, false, true));
    assert!(matches!(s, LoginState::VerifyingInline { .. }), "{s:?}");
}

#[test]
fn passkey_only_logins_wait_for_the_passkey_and_refuse_a_code() {
    let mut f = app();
    f.configured = SecondFactor::Passkey;
    f.registered.passkey = true;
    assert_eq!(after(true, f.clone()), awaiting(&[Factor::Passkey], false));
    let s = after(true, with_inline(f.clone(), true, false, false));
    assert_eq!(s, denied(Error::PasskeyRequired, Record::Settled));
    // A familiar browser may skip the passkey it would be asked for.
    let s = after(true, with_inline(f.clone(), false, false, true));
    let LoginState::CheckingDevice(plan) = s else {
        unreachable!("{s:?}")
    };
    assert_eq!(plan.asked, Factor::Passkey);
    // Required for everyone and not registered: the login cannot go on.
    let mut f = app();
    f.passkeys.required = true;
    assert_eq!(
        after(true, f),
        denied(
            Error::SecondFactorNotInitialized,
            Record::Refused(NOT_INITIALIZED)
        )
    );
}

#[test]
fn a_passkey_offered_beside_the_codes_comes_first() {
    let mut f = app();
    f.passkeys.instead_of_codes = true;
    f.registered.passkey = true;
    assert_eq!(
        after(true, f.clone()),
        awaiting(&[Factor::Passkey, Factor::Totp], false)
    );
    // A code typed with the password is still checked by the app.
    let s = after(true, with_inline(f, true, false, false));
    assert!(
        matches!(
            s,
            LoginState::VerifyingInline {
                factor: Factor::Totp,
                ..
            }
        ),
        "{s:?}"
    );
    // Offered to a login without another factor: the passkey alone.
    let mut f = facts();
    f.configured = SecondFactor::Any;
    f.registered.passkey = true;
    assert_eq!(after(true, f), awaiting(&[Factor::Passkey], false));
}

#[test]
fn e_mail_codes_are_the_fallback_without_an_app() {
    let mut f = facts();
    f.configured = SecondFactor::Email;
    f.email_codes = true;
    assert_eq!(after(true, f.clone()), LoginState::AwaitingEmailCode);
    // A code typed with the password does not replace the mail.
    let s = after(true, with_inline(f.clone(), true, false, false));
    assert_eq!(s, LoginState::AwaitingEmailCode);
    // An app's code is the stronger factor: with one registered, no mail is sent; the
    // challenge (which the app answers) offers no e-mail code.
    f.registered.app = true;
    assert_eq!(after(true, f), awaiting(&[], false));
    let LoginState::Done(d) = next(
        LoginState::AwaitingEmailCode,
        Event::FactorAnswered {
            factor: Factor::Email,
            result: Ok(()),
        },
        NOW,
    ) else {
        unreachable!()
    };
    assert_eq!(d.session_methods(), ["pwd", "email"]);
    assert_eq!(d.amr_names(), ["pwd", "otp", "mfa"]);
}

#[test]
fn a_password_to_change_comes_before_the_second_factor() {
    let a = Account {
        change: Some(ChangeReason::Expired),
        ..account()
    };
    assert_eq!(
        after_account(true, a, app()),
        LoginState::PasswordChangeRequired {
            reason: ChangeReason::Expired
        }
    );
}

#[test]
fn a_wrong_password_counts_toward_the_lock() {
    let wrong = Record::Password {
        verdict: Verdict::Wrong,
        reason: "wrong password",
    };
    assert_eq!(
        after(false, app()),
        denied(Error::InvalidCredentials, wrong)
    );
    let none = Record::Password {
        verdict: Verdict::Wrong,
        reason: "no password set",
    };
    assert_eq!(
        after_account(false, Account::default(), app()),
        denied(Error::InvalidCredentials, none)
    );
}

#[test]
fn a_locked_login_answers_every_password_alike_and_counts_nothing() {
    for f in [facts(), app(), token_login()] {
        for disabled in [false, true] {
            let a = Account {
                locked: true,
                disabled,
                change: Some(ChangeReason::Temporary),
                ..account()
            };
            let right = after_account(true, a, f.clone());
            let wrong = after_account(false, a, f.clone());
            let (LoginState::Denied(r), LoginState::Denied(w)) = (right, wrong) else {
                unreachable!()
            };
            assert_eq!(r.error, Error::InvalidCredentials);
            assert_eq!(w.error, r.error, "no oracle");
            for d in [r, w] {
                let Record::Password { verdict, .. } = d.record else {
                    unreachable!("{d:?}")
                };
                assert_eq!(verdict, Verdict::Locked);
                assert_eq!(
                    crate::lockout::decide(verdict),
                    crate::lockout::Decision::RefuseUncounted,
                    "not counted"
                );
            }
        }
    }
}

#[test]
fn a_disabled_login_is_told_to_the_right_password_only() {
    let a = Account {
        disabled: true,
        ..account()
    };
    assert_eq!(
        after_account(true, a, app()),
        denied(Error::LoginDisabled, Record::Refused("login_disabled"))
    );
    assert!(matches!(
        after_account(false, a, app()),
        LoginState::Denied(Denial {
            error: Error::InvalidCredentials,
            record: Record::Password {
                verdict: Verdict::Wrong,
                ..
            }
        })
    ));
}

#[test]
fn the_account_facts_come_from_the_login() {
    use crate::lang::Lang;
    use crate::password::{PasswordPolicy, Preset};
    let mut l = Login {
        id: 1,
        login_id: "tanaka".into(),
        display_name: "田中".into(),
        email: "t@example.jp".into(),
        code_email: None,
        notify_login: None,
        lang: Lang::Ja,
        second_factor: SecondFactor::Email,
        mfa_required: true,
        disabled: false,
        failed_logins: 5,
        locked_at: Some(Timestamp(1)),
        password_hash: None,
        password_changed_at: Some(Timestamp(0)),
        password_temporary: true,
        created_at: Timestamp(0),
        updated_at: Timestamp(0),
        last_login_at: None,
    };
    let jp = PasswordPolicy::preset(Preset::JpBroker);
    let a = Account::of(&l, &jp, NOW);
    assert!(a.locked && !a.disabled && !a.has_password);
    assert_eq!(a.change, Some(ChangeReason::Temporary));
    let f = Facts::of(&l);
    assert!(f.email_codes && f.mfa_required);
    l.second_factor = SecondFactor::Totp;
    assert!(!Facts::of(&l).email_codes);
    l.code_email = Some("x@example.jp".into());
    assert!(
        Facts::of(&l).email_codes,
        "a delivery address of the customer's own"
    );
}

#[test]
fn a_passwordless_passkey_honours_the_lock_and_the_disabling() {
    let ev = |locked, disabled| Event::PasskeyVerified { locked, disabled };
    let refused = Record::Refused("passkey (passwordless): refused");
    assert_eq!(
        next(LoginState::PasswordStep, ev(true, false), NOW),
        denied(Error::LoginLocked, refused)
    );
    assert_eq!(
        next(LoginState::PasswordStep, ev(true, true), NOW),
        denied(Error::LoginDisabled, refused)
    );
    let LoginState::Done(d) = next(LoginState::PasswordStep, ev(false, false), NOW) else {
        unreachable!()
    };
    assert_eq!(d.session_methods(), ["passkey"]);
    assert_eq!(d.amr_names(), ["hwk", "user", "mfa"]);
    assert_eq!(d.acr, Acr::PhishingResistant);
    assert_eq!(d.description(), "passkey (passwordless)");
    // After the password, at a challenge.
    let LoginState::Done(d) = next(
        awaiting(&[Factor::Passkey, Factor::Totp], false),
        Event::FactorAnswered {
            factor: Factor::Passkey,
            result: Ok(()),
        },
        NOW,
    ) else {
        unreachable!()
    };
    assert_eq!(d.session_methods(), ["pwd", "passkey"]);
    assert_eq!(d.acr, Acr::PhishingResistant);
}

#[test]
fn an_event_out_of_place_ends_the_login() {
    assert_eq!(
        next(
            LoginState::PasswordStep,
            Event::DeviceChecked { recognised: true },
            NOW
        ),
        denied(Error::ChallengeInvalid, Record::Settled)
    );
    assert_eq!(
        next(
            LoginState::PasswordStep,
            Event::FactorsGathered(Box::new(app())),
            NOW
        ),
        denied(Error::ChallengeInvalid, Record::Settled)
    );
    assert_eq!(
        next(
            LoginState::TokenRegistrationRequired,
            Event::FactorAnswered {
                factor: Factor::Token,
                result: Ok(())
            },
            NOW
        ),
        denied(Error::ChallengeInvalid, Record::Settled)
    );
}

#[test]
fn a_code_at_a_challenge_goes_to_the_right_verifier() {
    use Factor as F;
    use SecondFactor as S;
    let both = Registered {
        app: true,
        token: true,
        passkey: false,
    };
    let only_token = Registered {
        token: true,
        ..Registered::default()
    };
    let only_app = Registered {
        app: true,
        ..Registered::default()
    };
    let pk = [F::Passkey];
    assert_eq!(
        code_answer(&pk, None, S::Passkey, both),
        Err(Error::PasskeyRequired)
    );
    assert_eq!(
        code_answer(&[F::Email], Some(F::Totp), S::Email, both),
        Ok(F::Email)
    );
    let offered = [F::Totp, F::Token];
    assert_eq!(code_answer(&offered, None, S::Any, both), Ok(F::Totp));
    assert_eq!(
        code_answer(&offered, Some(F::Token), S::Any, both),
        Ok(F::Token)
    );
    assert_eq!(code_answer(&offered, None, S::Token, both), Ok(F::Token));
    assert_eq!(
        code_answer(&offered, Some(F::Totp), S::Token, both),
        Ok(F::Totp)
    );
    // A choice the challenge does not offer is the configured one.
    assert_eq!(
        code_answer(&[F::Token], Some(F::Totp), S::Token, both),
        Ok(F::Token)
    );
    // A registration challenge, once the token is registered.
    let reg = [F::TokenRegistration];
    assert_eq!(code_answer(&reg, None, S::Token, only_token), Ok(F::Token));
    assert_eq!(
        code_answer(&reg, None, S::Token, Registered::default()),
        Err(Error::ChallengeInvalid)
    );
    // A login set to e-mail codes whose challenge the app answers (no mail was sent).
    assert_eq!(code_answer(&[], None, S::Email, only_app), Ok(F::Totp));
}
