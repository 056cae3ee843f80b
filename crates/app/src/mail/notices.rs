//! Notices: the mails that tell a customer about a login or a change to their security settings
//! (Gungin's ログイン通知, and the notices the issue asks for on factor, password, delivery
//! address and lock changes), and the confirmation code for a new delivery address.
//!
//! Like every Sekisho mail they carry no link: a customer who did not expect one is told to
//! contact the support desk and to open the firm's site or app the way they always do.

use super::templates::{compose, Rendered};
use crate::zone::Zone;
use sekisho_core::{Lang, Timestamp};

/// What a notice is about.
#[derive(Debug, Clone)]
pub enum Notice<'a> {
    /// A successful login.
    Login {
        /// Client IP address.
        ip: Option<&'a str>,
        /// Browser or app (User-Agent).
        user_agent: Option<&'a str>,
        /// Methods used (`pwd`, `email`, `otp`, `device`).
        methods: &'a [String],
    },
    /// A second factor was registered (`totp`).
    FactorAdded(&'a str),
    /// A second factor was removed (`totp`).
    FactorRemoved(&'a str),
    /// The password was changed by the customer, or set by an operator.
    PasswordChanged {
        /// Set by an operator (a reset) rather than changed by the customer.
        by_operator: bool,
    },
    /// The code delivery address changed; `None`: removed (codes go to the registered address).
    CodeAddressChanged(Option<&'a str>),
    /// A recovery code was used in place of the second factor.
    RecoveryCodeUsed {
        /// Codes left in the set.
        remaining: i64,
    },
    /// The login was locked: by password failures, or the second factor by wrong codes.
    Locked {
        /// The second factor (true) or the password (false).
        factor: bool,
    },
}

fn method_name(m: &str, lang: Lang) -> &str {
    match (m, lang) {
        ("pwd", Lang::Ja) => "パスワード",
        ("pwd", Lang::En) => "password",
        ("email", Lang::Ja) => "メール認証コード",
        ("email", Lang::En) => "e-mail code",
        ("otp" | "totp", Lang::Ja) => "認証アプリ(ワンタイムパスワード)",
        ("otp" | "totp", Lang::En) => "authenticator app",
        ("passkey", Lang::Ja) => "パスキー",
        ("passkey", Lang::En) => "passkey",
        ("recovery_code", Lang::Ja) => "リカバリーコード",
        ("recovery_code", Lang::En) => "recovery codes",
        ("device", Lang::Ja) => "普段ご利用の環境(追加認証を省略)",
        ("device", Lang::En) => "familiar browser (second step skipped)",
        (other, _) => other,
    }
}

fn utc(t: Timestamp) -> String {
    t.to_rfc3339().replace('T', " ").replace('Z', " (UTC)")
}

/// A notice to the customer.
pub fn notice(
    lang: Lang,
    zone: &Zone,
    firm: &str,
    support: &str,
    name: &str,
    now: Timestamp,
    what: &Notice<'_>,
) -> Rendered {
    let ja = lang == Lang::Ja;
    let when = if ja {
        format!("日時: {} / {}", zone.seconds(now), utc(now))
    } else {
        format!("Time: {} / {}", zone.seconds(now), utc(now))
    };
    let support = if support.is_empty() {
        if ja {
            "当社サポートデスク"
        } else {
            "our support desk"
        }
    } else {
        support
    };
    let (kind, subject, lead, details): (&'static str, &str, String, Vec<String>) = match what {
        Notice::Login {
            ip,
            user_agent,
            methods,
        } => {
            let how: Vec<&str> = methods.iter().map(|m| method_name(m, lang)).collect();
            let unknown = if ja { "不明" } else { "unknown" };
            let (subject, lead, labels) = if ja {
                (
                    "ログインのお知らせ",
                    format!("{firm}にログインがありました。"),
                    ["IPアドレス", "ブラウザ・アプリ", "認証方法"],
                )
            } else {
                (
                    "New login to your account",
                    format!("Someone logged in to your {firm} account."),
                    ["IP address", "Browser or app", "Method"],
                )
            };
            (
                "login_notice",
                subject,
                lead,
                vec![
                    format!("{}: {}", labels[0], ip.unwrap_or(unknown)),
                    format!("{}: {}", labels[1], user_agent.unwrap_or(unknown)),
                    format!("{}: {}", labels[2], how.join(" + ")),
                ],
            )
        }
        Notice::FactorAdded(f) => (
            "factor_added_notice",
            if ja {
                "追加認証の登録のお知らせ"
            } else {
                "A second factor was added"
            },
            if ja {
                format!("{}が登録されました。", method_name(f, lang))
            } else {
                format!("A second factor was registered for your login: {}.", method_name(f, lang))
            },
            vec![],
        ),
        Notice::FactorRemoved(f) => (
            "factor_removed_notice",
            if ja {
                "追加認証の利用停止のお知らせ"
            } else {
                "A second factor was removed"
            },
            if ja {
                format!("{}の利用が停止されました。", method_name(f, lang))
            } else {
                format!("The {} was removed from your login.", method_name(f, lang))
            },
            vec![],
        ),
        Notice::PasswordChanged { by_operator } => (
            "password_changed_notice",
            if ja {
                "パスワード変更のお知らせ"
            } else {
                "Your password was changed"
            },
            match (ja, by_operator) {
                (true, false) => "ログインパスワードが変更されました。".to_owned(),
                (true, true) => "当社にてログインパスワードを再設定しました。".to_owned(),
                (false, false) => "Your login password was changed.".to_owned(),
                (false, true) => "Your login password was reset by our staff.".to_owned(),
            },
            vec![if ja {
                "普段ご利用の環境(追加認証の省略)の登録はすべて解除されました。".to_owned()
            } else {
                "All familiar browsers were forgotten: the next login asks for the second step again."
                    .to_owned()
            }],
        ),
        Notice::CodeAddressChanged(new) => (
            "code_address_changed_notice",
            if ja {
                "認証コード受信用メールアドレス変更のお知らせ"
            } else {
                "Your code delivery address was changed"
            },
            match (ja, new) {
                (true, Some(a)) => format!(
                    "ログイン時の追加認証コードの配信先が {a} に変更されました。今後、認証コードはこのアドレスには届きません。"
                ),
                (true, None) => "ログイン時の追加認証コードの配信先が、ご登録のメールアドレスに戻されました。".to_owned(),
                (false, Some(a)) => format!(
                    "Login verification codes are now sent to {a}. This address no longer receives them."
                ),
                (false, None) => {
                    "Login verification codes are now sent to your registered e-mail address.".to_owned()
                }
            },
            vec![],
        ),
        Notice::RecoveryCodeUsed { remaining } => (
            "recovery_code_used_notice",
            if ja {
                "リカバリーコード使用のお知らせ"
            } else {
                "A recovery code was used"
            },
            if ja {
                "ログイン時の追加認証にリカバリーコードが使用されました。使用したコードは再び使えません。".to_owned()
            } else {
                "A recovery code was used for the second step of a login. It cannot be used again."
                    .to_owned()
            },
            vec![if ja {
                format!("残りのリカバリーコード: {remaining}個。残りが少なくなったら、ログイン後のセキュリティ設定で新しいコードを発行してください(以前のコードは使えなくなります)。")
            } else {
                format!("Recovery codes left: {remaining}. When few are left, generate a new set in your security settings after logging in (the old codes then stop working).")
            }],
        ),
        Notice::Locked { factor } => (
            "locked_notice",
            if ja {
                "ログインロックのお知らせ"
            } else {
                "Your login was locked"
            },
            match (ja, factor) {
                (true, false) => "パスワードを所定回数連続して誤って入力されたため、ログインをロックしました。".to_owned(),
                (true, true) => "ワンタイムパスワードを所定回数連続して誤って入力されたため、追加認証をロックしました。".to_owned(),
                (false, false) => "Your login was locked after repeated wrong passwords.".to_owned(),
                (false, true) => "Your second factor was locked after repeated wrong one-time passwords.".to_owned(),
            },
            {
                let mut lines = vec![if ja {
                    format!("ロックの解除は{support}にご依頼ください。")
                } else {
                    format!("To unlock it, please contact {support}.")
                }];
                // The password prompt answers a locked login as it answers a wrong password
                // (no password oracle): say so, or the customer keeps retyping a right one.
                if !factor {
                    lines.push(if ja {
                        "ロックの解除までは、正しいパスワードを入力してもログインできず、ログイン画面には「ログインIDもしくはパスワードに誤りがあります」と表示されます。".to_owned()
                    } else {
                        "Until it is unlocked, even the right password cannot log in, and the login page says that the login ID or password is incorrect.".to_owned()
                    });
                }
                lines
            },
        ),
    };
    let mut block = vec![when];
    block.extend(details);
    let advice = if ja {
        format!(
            "お心当たりのない場合は、第三者がお客さまの情報を不正に利用しているおそれがあります。このメールに返信せず、直ちに{support}までご連絡ください。当社がメールでパスワードの入力を求めることはありません。"
        )
    } else {
        format!(
            "If this was not you, someone else may be using your details. Do not reply to this mail: contact {support} at once. We never ask you to enter your password from a mail."
        )
    };
    let greeting = if ja {
        format!("{name} 様")
    } else {
        format!("Dear {name},")
    };
    let paras = vec![greeting, lead, block.join("\n"), advice];
    compose(kind, lang, firm, subject.to_owned(), &paras)
}

/// The code that confirms a new code delivery address, sent to that address.
pub fn code_address_confirmation(
    lang: Lang,
    zone: &Zone,
    firm: &str,
    name: &str,
    code: &str,
    expires_at: Timestamp,
    ttl_secs: i64,
) -> Rendered {
    let minutes = (ttl_secs + 59) / 60;
    let (subject, paras) = match lang {
        Lang::Ja => (
            "認証コード受信用メールアドレスの確認",
            vec![
                format!("{name} 様"),
                "このアドレスをログイン時の追加認証コードの配信先とするお手続きを受け付けました。お手続きの画面に次の確認コードを入力してください。".to_owned(),
                format!("確認コード: {code}\n有効期限: {minutes}分({}まで)", zone.seconds(expires_at)),
                "お心当たりのない場合は、このメールを破棄してください。配信先は変更されません。".to_owned(),
            ],
        ),
        Lang::En => (
            "Confirm your code delivery address",
            vec![
                format!("Dear {name},"),
                "You asked to receive login verification codes at this address. Enter this confirmation code where you made the request.".to_owned(),
                format!("Confirmation code: {code}\nValid for: {minutes} minutes (until {})", zone.seconds(expires_at)),
                "If you did not ask for this, ignore this mail: nothing changes.".to_owned(),
            ],
        ),
    };
    compose(
        "code_address_confirmation",
        lang,
        firm,
        subject.to_owned(),
        &paras,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notices_have_both_times_and_no_link() {
        let methods = vec!["pwd".to_owned(), "email".to_owned()];
        let r = notice(
            Lang::Ja,
            &Zone::default(),
            "関所証券",
            "サポートデスク(0120-000-000)",
            "山田 太郎",
            Timestamp(0),
            &Notice::Login {
                ip: Some("192.0.2.1"),
                user_agent: Some("Mozilla/5.0"),
                methods: &methods,
            },
        );
        assert!(r.text.contains("1970-01-01 09:00:00 (JST)"), "{}", r.text);
        assert!(r.text.contains("1970-01-01 00:00:00 (UTC)"), "{}", r.text);
        assert!(r.text.contains("パスワード + メール認証コード"));
        assert!(r.text.contains("0120-000-000"));
        assert!(!r.text.contains("http") && !r.html.contains("href"));
    }
}
