//! What the pages, mails and the history say (issue 17 items 5 and 12): the password rules box
//! states the rules the server enforces (the customer's setup, the operator's setup, both
//! presets), a code sent to the separate delivery address is said to go there, the history reads
//! in Japanese, and a setup mail names only what its link sets up.

use crate::code_address::{call, email_session};
use crate::common::{ok, spawn_app, spawn_with, Options};
use crate::email_code::{answer, email_login, start, PASSWORD};
use crate::pages::{csrf, Browser};
use reqwest::{Method, StatusCode};
use sekisho_core::password::Preset;
use serde_json::{json, Value};

/// The `<li>` of a rule in the box (its attributes and text).
fn rule<'a>(html: &'a str, id: &str) -> &'a str {
    let at = html
        .find(&format!("data-rule=\"{id}\""))
        .unwrap_or_else(|| unreachable!("no rule {id} in {html}"));
    let end = html[at..].find("</li>").map_or(html.len(), |e| at + e);
    &html[at..end]
}

#[tokio::test]
async fn the_rules_box_says_what_the_server_refuses() {
    let app = spawn_app().await;
    let path = app
        .newcomer(
            "nakamura",
            "totp",
            "ja",
            json!({ "password": true, "second_factor": true, "send_email": true }),
        )
        .await;
    let mut b = Browser::new();
    let (status, _, html) = b.get(&app, &path).await;
    assert_eq!(status, StatusCode::OK);
    // The rule the server applies: the login ID may not appear, in any case.
    assert!(
        rule(&html, "login_id").contains("ログインIDを含まない(大文字・小文字の違いは問いません)"),
        "{html}"
    );
    assert!(!html.contains("ログインIDと同じでない"));
    assert!(html.contains("data-login=\"nakamura\""));
    assert!(rule(&html, "length").contains("8文字以上16文字以下"));
    assert!(html.contains("全角で入力した英数字・記号は、半角として扱います。"));
    // The history needs the stored hashes: listed, not checked as the customer types.
    assert!(html.contains("直近2回分のパスワードと異なる(送信後に確認します)"));
    // A password that merely contains the ID is refused, and the box marks that rule.
    let t = csrf(&html);
    let pw = "Nakamura2026";
    let (status, _, html) = b
        .post(
            &app,
            &format!("{path}/password"),
            &[("csrf", &t), ("new_password", pw), ("confirm_password", pw)],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("SKS-PWD-0005"), "{html}");
    assert!(html.contains("パスワードにログインIDを含めることはできません。"));
    assert!(
        rule(&html, "login_id").contains("class=\"unmet\""),
        "{html}"
    );
    assert!(!rule(&html, "length").contains("unmet"));
    // Full-width input is read half-width: accepted as the box says.
    let t = csrf(&html);
    let pw = "ｋａｂｕ２０２６ｘｙ";
    let (status, _, _) = b
        .post(
            &app,
            &format!("{path}/password"),
            &[("csrf", &t), ("new_password", pw), ("confirm_password", pw)],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, _, html) = b.get(&app, &path).await;
    // Step 2 after step 1: numbered 2.1 / 2.2 under the steps line, no half-width colon.
    assert!(html.contains("1. パスワードの設定(完了) → 2.1"), "{html}");
    assert!(
        html.contains("<h2>2.1 シークレットキーの登録</h2>"),
        "{html}"
    );
    assert!(html.contains("<h2>2.2 ワンタイムパスワードの確認</h2>"));
    assert!(!html.contains("登録:"));
    // English.
    let (_, _, html) = b.get(&app, "/login?lang=en").await;
    assert!(html.contains("lang=\"en\""));
    let path = app
        .newcomer(
            "nakano",
            "totp",
            "ja",
            json!({ "password": true, "second_factor": true, "send_email": true }),
        )
        .await;
    let (_, _, html) = b.get(&app, &path).await;
    assert!(rule(&html, "login_id").contains("Does not contain your login ID"));
    assert!(rule(&html, "length").contains("8 to 16 characters"));
    assert!(html.contains("Full-width letters, digits and symbols"));
}

#[tokio::test]
async fn the_nist_preset_shows_its_own_rules_and_serves_its_list() {
    let app = spawn_with(Options {
        preset: Preset::Nist80063b4,
        ..Default::default()
    })
    .await;
    // A password-only link: the password is the only factor (15 characters).
    let path = app
        .newcomer(
            "nist0002",
            "none",
            "ja",
            json!({ "password": true, "second_factor": false, "send_email": true }),
        )
        .await;
    let mut b = Browser::new();
    let (_, _, html) = b.get(&app, &path).await;
    assert!(
        rule(&html, "length").contains("15文字以上64文字以下"),
        "{html}"
    );
    assert!(rule(&html, "common").contains("よく使われるパスワードではない"));
    assert!(html.contains("data-common=\"true\""));
    assert!(!html.contains("data-rule=\"mixed\"") && !html.contains("data-rule=\"ascii\""));
    assert!(!html.contains("data-rule=\"history\"") && !html.contains("直近"));
    // No steps to number on a password-only link.
    assert!(html.contains("<h2>パスワードの設定</h2>") && !html.contains("2.1"));
    let (status, h, list) = b.get(&app, "/assets/common-passwords.txt").await;
    assert_eq!(status, StatusCode::OK);
    assert!(h.get("content-security-policy").is_some());
    assert!(list.lines().any(|l| l == "1qaz2wsx3edc4rfv"));
}

#[tokio::test]
async fn the_operator_setup_page_shows_the_rules_before_refusing() {
    let app = spawn_app().await;
    let tok = crate::console::create(&app, "yoshida", "admin").await;
    let mut b = Browser::new();
    let (status, _, html) = b.get(&app, &format!("/admin/setup/{tok}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("パスワードの条件"), "{html}");
    assert!(html.contains("data-login=\"yoshida\""));
    assert!(rule(&html, "login_id").contains("オペレーター名を含まない"));
    // A first password has no history to check: not listed.
    assert!(!html.contains("直近"));
    let t = csrf(&html);
    let pw = "yoshida2026X";
    let (status, _, html) = b
        .post(
            &app,
            &format!("/admin/setup/{tok}/password"),
            &[("csrf", &t), ("new_password", pw), ("confirm_password", pw)],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("SKS-PWD-0005"), "{html}");
    assert!(rule(&html, "login_id").contains("unmet"));
    // An unknown link says so at once.
    let (status, _, _) = b.get(&app, "/admin/setup/nothing").await;
    assert_ne!(status, StatusCode::OK);
}

#[tokio::test]
async fn a_code_sent_to_the_delivery_address_is_said_to_go_there() {
    let app = spawn_app().await;
    for (login_id, separate) in [("moriya", true), ("morita", false)] {
        let registered = email_login(&app, login_id).await;
        if separate {
            let token = email_session(&app, login_id, &registered).await;
            let phone = format!("{login_id}.phone@example.ne.jp");
            let body = json!({ "address": phone, "current_password": PASSWORD });
            let r = call(
                &app,
                Method::PUT,
                "/api/v1/me/code-address",
                &token,
                Some(body),
            )
            .await;
            assert_eq!(r.status(), StatusCode::OK);
            let code = app.smtp.next_for(&phone, 10).await.code(6);
            let body = json!({ "code": code });
            let path = "/api/v1/me/code-address/confirm";
            let r = call(&app, Method::POST, path, &token, Some(body)).await;
            assert_eq!(r.status(), StatusCode::OK);
        }
        for (lang, separate_text, registered_text) in [
            (
                "ja",
                "ご指定の送信先メールアドレスに認証コードを送信しました。",
                "ご登録のメールアドレスに認証コードを送信しました。",
            ),
            (
                "en",
                "to the delivery address you registered for codes",
                "to your registered e-mail address",
            ),
        ] {
            let mut b = Browser::new();
            let (_, _, html) = b.get(&app, &format!("/login?lang={lang}")).await;
            let t = csrf(&html);
            let form = [
                ("csrf", t.as_str()),
                ("login_id", login_id),
                ("password", PASSWORD),
            ];
            let (status, _, _) = b.post(&app, "/login", &form).await;
            assert_eq!(status, StatusCode::SEE_OTHER);
            let (_, _, html) = b.get(&app, "/login/second-factor").await;
            assert_eq!(
                html.contains(separate_text),
                separate,
                "{login_id} {lang}: {html}"
            );
            assert_eq!(
                html.contains(registered_text),
                !separate,
                "{login_id} {lang}: {html}"
            );
        }
    }
}

#[tokio::test]
async fn the_history_reads_in_japanese() {
    let app = spawn_app().await;
    let address = email_login(&app, "hayashi").await;
    let (challenge, _) = start(&app, "hayashi", &address).await;
    let r = answer(&app, &challenge, "000000").await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = app
        .admin(Method::GET, "/audit?login_id=hayashi&lang=ja", None)
        .await;
    let v: Value = ok(r.json().await);
    let events = v["events"].as_array().cloned().unwrap_or_default();
    let failed = events
        .iter()
        .find(|e| e["event_type"] == "second_factor_failed")
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        failed["summary"], "二段階認証失敗(メール認証コード、コードの誤り)",
        "{failed}"
    );
    assert_eq!(failed["event_group"], "second_factor");
    assert_eq!(failed["event_group_label"], "二段階認証");
    // What the record says is kept as written.
    assert_eq!(failed["description"], "e-mail code: wrong code");
    let sent = events
        .iter()
        .find(|e| e["event_type"] == "email_code_sent")
        .cloned()
        .unwrap_or_default();
    let summary = sent["summary"].as_str().unwrap_or_default();
    assert!(
        summary.starts_with("メール認証コード送信(送信先 ha")
            && summary.ends_with("@example.co.jp)"),
        "{summary}"
    );
    // The CSV names the group in words.
    let r = app
        .admin(
            Method::GET,
            "/audit?login_id=hayashi&lang=ja&format=csv",
            None,
        )
        .await;
    let csv = ok(r.text().await);
    assert!(csv.contains(",二段階認証,second_factor_failed,"), "{csv}");
    // English keeps the record's own words.
    let r = app
        .admin(Method::GET, "/audit?login_id=hayashi&lang=en", None)
        .await;
    let v: Value = ok(r.json().await);
    let summaries: Vec<&str> = v["events"]
        .as_array()
        .map(|a| a.iter().filter_map(|e| e["summary"].as_str()).collect())
        .unwrap_or_default();
    assert!(summaries.contains(&"Second factor failed (e-mail code: wrong code)"));
}

#[tokio::test]
async fn a_setup_mail_names_only_what_its_link_sets_up() {
    let app = spawn_app().await;
    app.newcomer(
        "ishida",
        "none",
        "ja",
        json!({ "password": true, "second_factor": false, "send_email": true }),
    )
    .await;
    let m = app
        .smtp
        .next_kind("ishida@example.co.jp", "setup_link", 10)
        .await;
    let text = m.text();
    assert!(
        text.contains("次のリンクを開き、パスワードの設定を完了してください。"),
        "{text}"
    );
    assert!(!text.contains("認証アプリ"), "{text}");
    app.newcomer(
        "ishii",
        "token",
        "ja",
        json!({ "password": true, "second_factor": true, "send_email": true }),
    )
    .await;
    let m = app
        .smtp
        .next_kind("ishii@example.co.jp", "setup_link", 10)
        .await;
    assert!(
        m.text()
            .contains("パスワードの設定とトークンの利用開始登録を完了"),
        "{}",
        m.text()
    );
}

#[tokio::test]
async fn sentences_run_on_after_the_japanese_full_stop() {
    let app = spawn_app().await;
    app.create_login("okada", "kabu2026xyz").await;
    for (lang, joined) in [
        ("ja", "ロックされます。ログインがロックされた場合は"),
        ("en", "lock the login. If your login has been locked"),
    ] {
        let mut b = Browser::new();
        let (_, _, html) = b.get(&app, &format!("/login?lang={lang}")).await;
        let t = csrf(&html);
        let form = [
            ("csrf", t.as_str()),
            ("login_id", "okada"),
            ("password", "wrong2026xyz"),
        ];
        let (status, _, html) = b.post(&app, "/login", &form).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert!(html.contains(joined), "{lang}: {html}");
    }
}
