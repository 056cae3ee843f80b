//! What Sekisho's mails say, in Japanese and English, as text and HTML.
//!
//! Following the Japanese regulators' anti-phishing guidance, no mail carries a link: a customer
//! who gets a mail they did not expect is told to open the firm's site or app the usual way and
//! to call the support desk, never to follow a link that asks for a password.

use crate::zone::Zone;
use sekisho_core::login::SecondFactor;
use sekisho_core::{Lang, Timestamp};

/// A mail ready to be sealed.
#[derive(Debug, Clone)]
pub struct Rendered {
    /// Kind, for operators (`test`, `email_code`, …).
    pub kind: &'static str,
    /// Subject.
    pub subject: String,
    /// Plain-text part.
    pub text: String,
    /// HTML part.
    pub html: String,
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The time in UTC, as the setup mail writes it next to Japan time (CQG: "The links will
/// expire May 22, 2026 12:02:20 UTC").
pub fn utc(t: Timestamp) -> String {
    time::OffsetDateTime::from_unix_timestamp(t.0)
        .ok()
        .and_then(|d| {
            d.format(&time::macros::format_description!(
                "[year]-[month]-[day] [hour]:[minute]:[second]"
            ))
            .ok()
        })
        .map(|s| format!("{s} UTC"))
        .unwrap_or_else(|| t.to_rfc3339())
}

/// Builds a mail from paragraphs (the first is the greeting) and the firm's signature.
pub fn compose(
    kind: &'static str,
    lang: Lang,
    firm: &str,
    subject: String,
    paras: &[String],
) -> Rendered {
    let footer = match lang {
        Lang::Ja => format!(
            "このメールは送信専用です。{firm}がメールでパスワードをお尋ねしたり、パスワードを入力するページへのリンクをお送りしたりすることはありません。"
        ),
        Lang::En => format!(
            "This is an automatic message. {firm} never asks for your password by e-mail and never sends links to pages that ask for it."
        ),
    };
    compose_with_footer(kind, lang, firm, subject, paras, &footer)
}

fn compose_with_footer(
    kind: &'static str,
    _lang: Lang,
    firm: &str,
    subject: String,
    paras: &[String],
    footer: &str,
) -> Rendered {
    let mut text = String::new();
    let mut html = String::from(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"></head><body style=\"font-family:sans-serif\">",
    );
    for p in paras {
        text.push_str(p);
        text.push_str("\n\n");
        html.push_str("<p>");
        html.push_str(&escape(p).replace('\n', "<br>"));
        html.push_str("</p>");
    }
    text.push_str("--\n");
    text.push_str(footer);
    text.push('\n');
    text.push_str(firm);
    text.push('\n');
    html.push_str("<hr><p style=\"font-size:small\">");
    html.push_str(&escape(footer));
    html.push_str("<br>");
    html.push_str(&escape(firm));
    html.push_str("</p></body></html>");
    Rendered {
        kind,
        subject: format!("[{firm}] {subject}"),
        text,
        html,
    }
}

/// A test mail operators send to check the delivery settings.
pub fn test_mail(lang: Lang, zone: &Zone, firm: &str, now: Timestamp) -> Rendered {
    let (subject, body) = match lang {
        Lang::Ja => (
            "テストメール".to_owned(),
            format!(
                "{firm}のメール送信設定の確認用テストメールです({})。",
                zone.seconds(now)
            ),
        ),
        Lang::En => (
            "Test mail".to_owned(),
            format!(
                "This test mail checks {firm}'s mail delivery settings ({}).",
                zone.seconds(now)
            ),
        ),
    };
    compose("test", lang, firm, subject, &[body])
}

/// The code for the second step of a login (JTG: ログイン時の追加認証コード通知メール).
// The mail's facts, each a different thing to say; a struct would only rename them.
#[allow(clippy::too_many_arguments)]
pub fn email_code(
    lang: Lang,
    zone: &Zone,
    firm: &str,
    name: &str,
    code: &str,
    expires_at: Timestamp,
    ttl_secs: i64,
    resent: bool,
) -> Rendered {
    let minutes = (ttl_secs + 59) / 60;
    let (subject, paras) = match lang {
        Lang::Ja => (
            if resent { "ログイン時の追加認証コード(再発行)のお知らせ" } else { "ログイン時の追加認証コードのお知らせ" }.to_owned(),
            vec![
                format!("{name} 様"),
                format!("ログイン時の追加認証コードをお知らせします。ログイン画面の「追加認証」に次の6桁の認証コードを入力してください。"),
                format!("認証コード: {code}\n有効期限: {minutes}分({}まで)", zone.seconds(expires_at)),
                "認証コードは他人に教えないでください。当社の社員がお電話やメールで認証コードやパスワードをお尋ねすることはありません。".to_owned(),
                "お心当たりのない場合は、第三者がお客さまのパスワードでログインしようとしているおそれがあります。このメールに返信せず、当社サイトまたはアプリを普段どおりの方法で開いてパスワードを変更し、サポートデスクにご連絡ください。".to_owned(),
            ],
        ),
        Lang::En => (
            if resent { "Your new login verification code" } else { "Your login verification code" }.to_owned(),
            vec![
                format!("Dear {name},"),
                "Enter this 6-digit verification code on the login screen to finish logging in.".to_owned(),
                format!("Verification code: {code}\nValid for: {minutes} minutes (until {})", zone.seconds(expires_at)),
                "Never tell anyone this code. Our staff never ask for codes or passwords by phone or e-mail.".to_owned(),
                "If you did not try to log in, someone may know your password. Do not reply to this mail: open our site or app the way you always do, change your password, and call the support desk.".to_owned(),
            ],
        ),
    };
    compose("email_code", lang, firm, subject, &paras)
}

/// The welcome / "change by link" mail with the setup link and when it expires (CQG: "Finish
/// setting up your password here." … "The links will expire …"). It is the one mail that
/// carries a link (README, "Mail"): it answers what the customer just did — opened an
/// account or asked the desk for a new link — says so first, and says what to do if they did
/// not. The link is plain text (no HTML anchor), so what is shown is what is opened.
// The mail's facts, each a different thing to say; a struct would only rename them.
#[allow(clippy::too_many_arguments)]
pub fn setup_link(
    lang: Lang,
    zone: &Zone,
    firm: &str,
    support: &str,
    name: &str,
    url: &str,
    expires_at: Timestamp,
    work: SetupWork,
) -> Rendered {
    let tasks = work.words(lang);
    let support_line = |ja: bool| match (ja, support.is_empty()) {
        (true, true) => "当社サポートデスク".to_owned(),
        (true, false) => format!("当社サポートデスク({support})"),
        (false, true) => "our support desk".to_owned(),
        (false, false) => format!("our support desk ({support})"),
    };
    let (subject, paras, footer) = match lang {
        Lang::Ja => (
            "ログイン設定のご案内".to_owned(),
            vec![
                format!("{name} 様"),
                format!("{firm}の口座開設、またはサポートデスクへのお申し出にともない、ログインの設定用リンクをお送りします。次のリンクを開き、{tasks}を完了してください。"),
                format!("設定用リンク:\n{url}"),
                format!("このリンクの有効期限: {}({})\nリンクは1回限り有効です。期限を過ぎた場合は{}にご連絡ください。", zone.seconds(expires_at), utc(expires_at), support_line(true)),
                format!("お心当たりのない場合は、このリンクを開かず、{}にご連絡ください。", support_line(true)),
            ],
            format!("このメールは送信専用です。{firm}がリンク付きのメールをお送りするのは、口座開設時とお客さまからお申し出があった場合のログイン設定のご案内だけです。{firm}がメールでパスワードや認証コードをお尋ねすることはありません。"),
        ),
        Lang::En => (
            "Finish setting up your login".to_owned(),
            vec![
                format!("Dear {name},"),
                format!("You opened an account with {firm} or asked our support desk for a new setup link. Finish setting up {tasks} here:"),
                url.to_owned(),
                format!("The link will expire {} ({}). It works once. If it has expired, contact {}.", utc(expires_at), zone.seconds(expires_at), support_line(false)),
                format!("If you did not expect this e-mail, do not open the link and contact {}.", support_line(false)),
            ],
            format!("This is an automatic message. {firm} sends a link only in this setup mail, after you open an account or ask for one. {firm} never asks for your password or codes by e-mail."),
        ),
    };
    compose_with_footer("setup_link", lang, firm, subject, &paras, &footer)
}

/// What a setup link lets its holder do, as its mail names it: the password, the second
/// factor the login uses (the wizard's step 2), or both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SetupWork {
    /// The holder sets a password.
    pub password: bool,
    /// The second factor the holder registers, if the link registers one.
    pub second_factor: Option<SecondFactor>,
}

impl SetupWork {
    /// The tasks in words ("パスワードの設定と認証アプリの登録", "your password and your
    /// authenticator app").
    pub fn words(self, lang: Lang) -> String {
        let second = self.second_factor.map(|f| match (f, lang) {
            (SecondFactor::Email, Lang::Ja) => "認証コードの送信先の確認",
            (SecondFactor::Email, Lang::En) => "the address your codes are sent to",
            (SecondFactor::Token, Lang::Ja) => "トークンの利用開始登録",
            (SecondFactor::Token, Lang::En) => "your token",
            (SecondFactor::Passkey, Lang::Ja) => "パスキーの登録",
            (SecondFactor::Passkey, Lang::En) => "a passkey",
            // The wizard registers the authenticator app for every other login.
            (_, Lang::Ja) => "認証アプリの登録",
            (_, Lang::En) => "your authenticator app",
        });
        let password = self.password.then_some(match lang {
            Lang::Ja => "パスワードの設定",
            Lang::En => "your password",
        });
        match (password, second, lang) {
            (Some(p), Some(s), Lang::Ja) => format!("{p}と{s}"),
            (Some(p), Some(s), Lang::En) => format!("{p} and {s}"),
            (Some(p), None, _) => p.to_owned(),
            (None, Some(s), _) => s.to_owned(),
            (None, None, _) => String::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_is_escaped_and_no_link_appears() {
        let r = compose(
            "test",
            Lang::En,
            "Firm <&>",
            "s".into(),
            &["<script>x</script> https://evil".into()],
        );
        assert!(r.html.contains("&lt;script&gt;"));
        assert!(!r.html.contains("<script>"));
        assert!(!r.html.contains("href"));
        assert_eq!(
            Zone::default().seconds(Timestamp(0)),
            "1970-01-01 09:00:00 (JST)"
        );
        assert_eq!(utc(Timestamp(0)), "1970-01-01 00:00:00 UTC");
    }

    #[test]
    fn the_setup_mail_carries_its_link_and_expiry_in_utc_and_jst() {
        let url = "https://login.example.co.jp/setup/skst_abc";
        for lang in [Lang::Ja, Lang::En] {
            let r = setup_link(
                lang,
                &Zone::default(),
                "Kabu",
                "0120-00-0000",
                "N <Ng>",
                url,
                Timestamp(3600),
                SetupWork {
                    password: true,
                    second_factor: Some(SecondFactor::Totp),
                },
            );
            assert_eq!(r.kind, "setup_link");
            assert!(r.text.contains(url) && r.html.contains(url));
            assert!(r.text.contains("1970-01-01 01:00:00 UTC"));
            assert!(r.text.contains("1970-01-01 10:00:00 (JST)"));
            assert!(r.text.contains("0120-00-0000"));
            // Plain text only: no anchor, and the name is escaped in HTML.
            assert!(!r.html.contains("href") && r.html.contains("N &lt;Ng&gt;"));
            // Not the "we never send links" footer of the other mails.
            assert!(
                !r.text.contains("never sends links")
                    && !r.text.contains("リンクをお送りしたりすることはありません")
            );
        }
    }

    #[test]
    fn the_setup_mail_names_only_what_the_link_sets_up() {
        let mail = |lang, password, second_factor| {
            let work = SetupWork {
                password,
                second_factor,
            };
            let z = Zone::default();
            setup_link(lang, &z, "Kabu", "", "N", "https://x/s", Timestamp(0), work).text
        };
        let ja = mail(Lang::Ja, true, None);
        assert!(
            ja.contains("次のリンクを開き、パスワードの設定を完了してください。")
                && !ja.contains("認証アプリ"),
            "{ja}"
        );
        let en = mail(Lang::En, true, None);
        assert!(
            en.contains("Finish setting up your password here:") && !en.contains("authenticator"),
            "{en}"
        );
        let ja = mail(Lang::Ja, true, Some(SecondFactor::Token));
        assert!(
            ja.contains("パスワードの設定とトークンの利用開始登録を完了"),
            "{ja}"
        );
        let ja = mail(Lang::Ja, false, Some(SecondFactor::Totp));
        assert!(ja.contains("リンクを開き、認証アプリの登録を完了"), "{ja}");
        let en = mail(Lang::En, true, Some(SecondFactor::Email));
        assert!(
            en.contains("your password and the address your codes are sent to here:"),
            "{en}"
        );
    }
}
