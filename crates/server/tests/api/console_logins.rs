//! The console's logins pages and what they rely on in the admin API: the setup-link flags,
//! the welcome mail sent with `send_email`, and the role checks a support operator meets.

use crate::common::{ok, spawn_app, TestApp};
use crate::console::{code, create, setup, PASSWORD};
use crate::pages::{csrf, Browser};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

async fn flags(app: &TestApp, q: &str) -> Value {
    let r = app
        .admin(Method::GET, &format!("/logins?q={q}"), None)
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = ok(r.json().await);
    v["logins"][0]["flags"].clone()
}

#[tokio::test]
async fn setup_links_raise_flags_and_the_welcome_mail_carries_the_link_and_its_expiry() {
    let app = spawn_app().await;
    let r = app
        .admin(
            Method::POST,
            "/logins",
            Some(json!({
                "login_id": "natalie",
                "email": "natalie@example.co.jp",
                "display_name": "Natalie Ng",
                "lang": "en",
                "second_factor": "totp",
            })),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let f = flags(&app, "natalie").await;
    assert_eq!(f["setup_link_pending"], false);
    assert_eq!(f["setup_link_expired"], false);
    assert_eq!(f["second_factor_not_registered"], true);

    let r = app
        .admin(
            Method::POST,
            "/logins/natalie/setup-link",
            Some(json!({ "send_email": true, "expires_in_secs": 3600 })),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = ok(r.json().await);
    assert_eq!(v["email_sent_to"], "natalie@example.co.jp");
    let url = v["url"].as_str().unwrap_or_default().to_owned();
    let m = app
        .smtp
        .next_kind("natalie@example.co.jp", "setup_link", 15)
        .await;
    let text = m.text();
    assert!(text.contains(&url), "{text}");
    assert!(text.contains("Dear Natalie Ng"), "{text}");
    assert!(text.contains(" UTC") && text.contains("(JST)"), "{text}");
    let f = flags(&app, "natalie").await;
    assert_eq!(f["setup_link_pending"], true);
    assert_eq!(f["setup_link_expired"], false);

    // Without send_email nothing is mailed (the next mail is the one asked for below).
    app.clock.advance(3601);
    let f = flags(&app, "natalie").await;
    assert_eq!(f["setup_link_pending"], false);
    assert_eq!(f["setup_link_expired"], true);
    let r = app
        .admin(Method::POST, "/logins/natalie/setup-link", Some(json!({})))
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = ok(r.json().await);
    assert_eq!(v["email_sent_to"], Value::Null);
    let f = flags(&app, "natalie").await;
    assert_eq!(f["setup_link_pending"], true);
    assert_eq!(f["setup_link_expired"], false);
}

/// An operator of `role`, set up and signed in on the console.
pub(crate) async fn signed_in(app: &TestApp, name: &str, role: &str) -> Browser {
    let tok = create(app, name, role).await;
    let mut b = Browser::new();
    let secret = setup(app, &mut b, &tok).await;
    app.clock.advance(30);
    let (_, _, html) = b.get(app, "/admin/login").await;
    let t = csrf(&html);
    let c = code(app, &secret);
    let (status, _, _) = b
        .post(
            app,
            "/admin/login",
            &[
                ("csrf", &t),
                ("name", name),
                ("password", PASSWORD),
                ("otp", &c),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    b
}

#[tokio::test]
async fn a_support_operator_unlocks_but_cannot_change_the_authentication_system() {
    let app = spawn_app().await;
    crate::browser::create(&app, "yamada", "kabu2026xyz", false, "totp").await;
    let mut b = signed_in(&app, "desk", "support").await;
    let (status, _, html) = b.get(&app, "/admin/logins?q=yama").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("data-login=\"yamada\""), "{html}");
    assert!(html.contains("二段階認証キー未登録"), "{html}");
    let (status, _, html) = b.get(&app, "/admin/logins/yamada").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("(管理者のみ)"), "{html}");
    let t = csrf(&html);
    let (status, _, html) = b
        .post(
            &app,
            "/admin/logins/yamada/auth",
            &[("csrf", &t), ("second_factor", "email")],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(html.contains("SKS-OPR-0001"), "{html}");
    let r = app.admin(Method::GET, "/logins/yamada", None).await;
    let v: Value = ok(r.json().await);
    assert_eq!(v["second_factor"], "totp");
    // Support's own work goes through, audited with the operator as actor.
    let (status, h, _) = b
        .post(&app, "/admin/logins/yamada/unlock", &[("csrf", &t)])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        h.get("location").and_then(|v| v.to_str().ok()),
        Some("/admin/logins/yamada?done=unlocked")
    );
    let events = app.audit("yamada").await;
    assert!(events.iter().any(|e| e["event_type"] == "login_unlocked"
        && e["actor"]["kind"] == "operator"
        && e["actor"]["id"] == "desk"));
    // Sessions and trusted browsers are the desk's to revoke; tokens are not.
    for (path, done) in [
        ("sessions/revoke", "sessions"),
        ("devices/revoke", "devices"),
    ] {
        let (status, h, _) = b
            .post(
                &app,
                &format!("/admin/logins/yamada/{path}"),
                &[("csrf", &t)],
            )
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{path}");
        let to = format!("/admin/logins/yamada?done={done}");
        assert_eq!(
            h.get("location").and_then(|v| v.to_str().ok()),
            Some(to.as_str())
        );
    }
    assert_eq!(app.count_events("yamada", "session_revoked").await, 1);
    assert_eq!(app.count_events("yamada", "device_revoked").await, 1);
    let (status, _, html) = b
        .post(
            &app,
            "/admin/logins/yamada/token/assign",
            &[("csrf", &t), ("token_id", "VSMT00000001")],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(html.contains("SKS-OPR-0001"), "{html}");
    // A form without its token changes nothing.
    let (status, _, _) = b
        .post(&app, "/admin/logins/yamada/unlock", &[("csrf", "x")])
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // The history page and its CSV are the support desk's too.
    let (status, _, html) = b.get(&app, "/admin/history?login_id=yamada").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("オペレーター desk"), "{html}");
    // The time range is read in the firm's zone (Japan time by default), which its labels name.
    assert!(
        html.contains("開始日時 (JST)") && html.contains("終了日時 (JST)"),
        "{html}"
    );
    let (_, _, html) = b
        .get(
            &app,
            "/admin/history?login_id=yamada&since=2000-01-01T00%3A00",
        )
        .await;
    assert!(html.contains("オペレーター desk"), "{html}");
    let (_, _, html) = b
        .get(
            &app,
            "/admin/history?login_id=yamada&since=2099-01-01T00%3A00",
        )
        .await;
    assert!(html.contains("該当する記録はありません"), "{html}");
    let (status, _, html) = b.get(&app, "/admin/history?since=yesterday").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("SKS-GEN-0001"), "{html}");
    let (status, h, csv) = b.get(&app, "/admin/history.csv?login_id=yamada").await;
    assert_eq!(status, StatusCode::OK);
    assert!(h
        .get("content-type")
        .is_some_and(|v| v.to_str().unwrap_or_default().starts_with("text/csv")));
    assert!(
        csv.contains("イベントID") && csv.contains("yamada"),
        "{csv}"
    );
}

#[tokio::test]
async fn an_admin_changes_credentials_by_link_and_erases_them() {
    let app = spawn_app().await;
    crate::browser::create(&app, "kimura", "kabu2026xyz", false, "totp").await;
    let mut b = signed_in(&app, "boss", "admin").await;
    let (_, _, html) = b.get(&app, "/admin/logins/kimura").await;
    let t = csrf(&html);
    // Nothing chosen under ③.
    let (status, _, html) = b
        .post(
            &app,
            "/admin/logins/kimura/credentials",
            &[("csrf", &t), ("action", "generate")],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("SKS-GEN-0001"), "{html}");
    // ② + ③ both + ⑥: a link shown once and mailed.
    let (status, _, html) = b
        .post(
            &app,
            "/admin/logins/kimura/credentials",
            &[
                ("csrf", &t),
                ("password", "on"),
                ("second_factor", "on"),
                ("action", "email"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(
        html.contains("id=\"setup-url\">http://sekisho.test/setup/skst_"),
        "{html}"
    );
    assert!(html.contains("kimura@example.co.jp"));
    assert!(html.contains("設定用リンク未使用"));
    let m = app
        .smtp
        .next_kind("kimura@example.co.jp", "setup_link", 15)
        .await;
    assert!(m.text().contains("http://sekisho.test/setup/skst_"));
    // No action chosen (only a hand-made request can do that).
    let (status, _, html) = b
        .post(
            &app,
            "/admin/logins/kimura/credentials",
            &[("csrf", &t), ("password", "on")],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("操作を選んでください"), "{html}");
    // Erase the password only: first the confirmation naming what goes, and nothing erased yet.
    let erase = [
        ("csrf", t.as_str()),
        ("password", "on"),
        ("action", "erase"),
    ];
    let (status, _, html) = b
        .post(&app, "/admin/logins/kimura/credentials", &erase)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("id=\"cred-confirm-form\""), "{html}");
    assert!(
        html.contains("<li>パスワード</li>") && !html.contains("認証アプリ"),
        "{html}"
    );
    let r = app.admin(Method::GET, "/logins/kimura", None).await;
    let v: Value = ok(r.json().await);
    assert_eq!(v["password_set"], true);
    assert_eq!(app.count_events("kimura", "credentials_erased").await, 0);
    let mut confirmed = erase.to_vec();
    confirmed.push(("confirmed", "1"));
    let (status, _, _) = b
        .post(&app, "/admin/logins/kimura/credentials", &confirmed)
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let r = app.admin(Method::GET, "/logins/kimura", None).await;
    let v: Value = ok(r.json().await);
    assert_eq!(v["password_set"], false);
    assert_eq!(v["flags"]["password_erased"], true);
    assert_eq!(app.count_events("kimura", "credentials_erased").await, 1);
}

#[tokio::test]
async fn a_pending_setup_link_is_named_in_the_refusal_only_after_the_password() {
    let app = spawn_app().await;
    app.create_login("ono00001", "abc12345").await;
    let r = app
        .admin(
            Method::PATCH,
            "/logins/ono00001",
            Some(json!({ "second_factor": "totp", "mfa_required": true, "lang": "en" })),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    // No link yet: the plain refusal.
    let r = app.login("ono00001", "abc12345").await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let v: Value = ok(r.json().await);
    assert_eq!(v["error"], "second_factor_not_initialized");
    assert_eq!(v["hint"], Value::Null);
    let r = app
        .admin(
            Method::POST,
            "/logins/ono00001/setup-link",
            Some(json!({ "password": false, "second_factor": true, "expires_in_secs": 600 })),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let link: Value = ok(r.json().await);
    // A wrong password learns nothing of the link.
    let r = app.login("ono00001", "wrong9999").await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let body = ok(r.text().await);
    assert!(!body.contains("setup"), "{body}");
    // The right one: the CQG hint, with the link's end but never the link.
    let r = app.login("ono00001", "abc12345").await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let v: Value = ok(r.json().await);
    assert_eq!(v["code"], "SKS-LGN-0005");
    assert_eq!(v["setup_link_pending"], true);
    assert_eq!(v["setup_link_expires_at"], link["expires_at"]);
    let hint = v["hint"].as_str().unwrap_or_default();
    assert!(
        hint.starts_with("Second factor authentication must be initialized (visit the setup link"),
        "{hint}"
    );
    let token = link["url"]
        .as_str()
        .unwrap_or_default()
        .rsplit('/')
        .next()
        .unwrap_or_default();
    assert!(!v.to_string().contains(token));
    // The hosted login page says the same in the page's language.
    let mut b = Browser::new();
    let (_, _, html) = b.get(&app, "/login").await;
    let t = csrf(&html);
    let form = [
        ("csrf", t.as_str()),
        ("login_id", "ono00001"),
        ("password", "abc12345"),
        ("return_to", ""),
    ];
    let (status, _, html) = b.post(&app, "/login", &form).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(html.contains("SKS-LGN-0005"), "{html}");
    assert!(html.contains("設定用リンクから登録してください"), "{html}");
    // Once the link has expired, the plain refusal again.
    app.clock.advance(601);
    let r = app.login("ono00001", "abc12345").await;
    let v: Value = ok(r.json().await);
    assert_eq!(v["hint"], Value::Null);
    app.clock.advance(60);
    let (status, _, html) = b.post(&app, "/login", &form).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        html.contains("SKS-LGN-0005") && !html.contains("設定用リンク"),
        "{html}"
    );
}

#[tokio::test]
async fn the_logins_list_searches_and_pages() {
    let app = spawn_app().await;
    for i in 1..=21 {
        app.create_login(&format!("page{i:04}"), "abc12345").await;
    }
    app.create_login("other001", "abc12345").await;
    let mut b = signed_in(&app, "desk", "support").await;
    let (status, _, html) = b.get(&app, "/admin/logins?q=page").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(html.matches("<tr data-login=").count(), 20);
    assert!(!html.contains("other001"));
    let next = html
        .split("href=\"")
        .find(|p| p.starts_with("/admin/logins?q=page&#38;after="))
        .and_then(|p| p.split('"').next())
        .unwrap_or_default()
        .replace("&#38;", "&");
    assert_eq!(next, "/admin/logins?q=page&after=page0020", "{html}");
    let (_, _, html) = b.get(&app, &next).await;
    assert_eq!(html.matches("<tr data-login=").count(), 1);
    assert!(html.contains("data-login=\"page0021\""));
    assert!(!html.contains("id=\"next-page\""));
}

#[tokio::test]
async fn an_admin_assigns_and_returns_a_token_on_the_console() {
    let app = spawn_app().await;
    let secret = "3132333435363738393031323334353637383930";
    let r = ok(app
        .http
        .post(format!("{}/api/admin/v1/tokens/import?batch=b", app.url))
        .bearer_auth(&app.admin_token)
        .header("content-type", "text/csv")
        .body(format!("T-1,{secret},totp,6,30\n"))
        .send()
        .await);
    assert_eq!(r.status(), StatusCode::OK);
    app.create_login("token001", "abc12345").await;
    let mut b = signed_in(&app, "boss", "admin").await;
    let (_, _, html) = b.get(&app, "/admin/logins/token001").await;
    let t = csrf(&html);
    let (status, h, _) = b
        .post(
            &app,
            "/admin/logins/token001/token/assign",
            &[("csrf", &t), ("token_id", "t-1")],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        h.get("location").and_then(|v| v.to_str().ok()),
        Some("/admin/logins/token001?done=token_assigned")
    );
    let (_, _, html) = b
        .get(&app, "/admin/logins/token001?done=token_assigned")
        .await;
    assert!(
        html.contains("トークンを割り当てました") && html.contains("T-1"),
        "{html}"
    );
    assert!(html.contains("割当済み"), "{html}");
    // A token already out of stock is refused with its code.
    let (status, _, html) = b
        .post(
            &app,
            "/admin/logins/token001/token/assign",
            &[("csrf", &t), ("token_id", "T-1")],
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{html}");
    assert!(html.contains("SKS-"), "{html}");
    let (status, _, _) = b
        .post(
            &app,
            "/admin/logins/token001/token/unassign",
            &[("csrf", &t), ("token_id", "T-1")],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(app.count_events("token001", "token_assigned").await, 1);
    assert_eq!(app.count_events("token001", "token_unassigned").await, 1);
}

#[tokio::test]
async fn the_history_pages_fifty_at_a_time() {
    let app = spawn_app().await;
    app.create_login("many0001", "abc12345").await;
    for _ in 0..55 {
        let r = app
            .admin(Method::POST, "/logins/many0001/unlock", None)
            .await;
        assert_eq!(r.status(), StatusCode::OK);
    }
    let mut b = signed_in(&app, "desk", "support").await;
    let (status, _, html) = b
        .get(
            &app,
            "/admin/history?login_id=many0001&event_type=login_unlocked",
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let rows = |html: &str| {
        html.split("<tbody>")
            .nth(1)
            .unwrap_or_default()
            .matches("<tr>")
            .count()
    };
    assert_eq!(rows(&html), 50);
    let next = html
        .split("\" id=\"next-page\"")
        .next()
        .and_then(|p| p.rsplit("href=\"").next())
        .unwrap_or_default()
        .replace("&#38;", "&");
    assert!(next.contains("before="), "{next}");
    let (_, _, html) = b.get(&app, &next).await;
    assert_eq!(rows(&html), 5);
    assert!(!html.contains("id=\"next-page\""));
}
