//! Issue 16 item 4: a `support` operator may make a setup link but never see its URL (it is
//! only mailed to the registered address); the password set through a link is audited with
//! the link's creator as actor, and the customer always gets the password notice.

use crate::common::{ok, spawn_app, TestApp};
use crate::console_logins::signed_in;
use crate::pages::csrf;
use crate::passkeys::json_of;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

async fn newcomer(app: &TestApp, login_id: &str) {
    let r = app
        .admin(
            Method::POST,
            "/logins",
            Some(json!({
                "login_id": login_id,
                "email": format!("{login_id}@example.co.jp"),
                "display_name": "新人 一郎",
            })),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
}

/// The path of the first setup link in `text` (`/setup/skst_…`).
fn setup_path(text: &str) -> String {
    let at = text.find("/setup/skst_").unwrap_or(0);
    text[at..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || "/_-".contains(*c))
        .collect()
}

/// Sets `pw` through the wizard at `path`; the answer's status.
async fn set_through(app: &TestApp, path: &str, pw: &str) -> StatusCode {
    let http = ok(reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build());
    let r = ok(http.get(format!("{}{path}", app.url)).send().await);
    assert_eq!(r.status(), StatusCode::OK, "{path}");
    let cookie = r
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .unwrap_or_default()
        .to_owned();
    let html = ok(r.text().await);
    let t = csrf(&html);
    let r = ok(http
        .post(format!("{}{path}/password", app.url))
        .header("cookie", cookie)
        .form(&[
            ("csrf", t.as_str()),
            ("new_password", pw),
            ("confirm_password", pw),
        ])
        .send()
        .await);
    r.status()
}

fn password_set_by(events: &[Value]) -> Vec<(String, String, String)> {
    events
        .iter()
        .filter(|e| e["event_type"] == "password_set")
        .map(|e| {
            (
                e["actor"]["kind"].as_str().unwrap_or_default().to_owned(),
                e["actor"]["id"].as_str().unwrap_or_default().to_owned(),
                e["description"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

/// An operator's bearer session for the admin API.
async fn operator_session(app: &TestApp, name: &str, role: &str) -> String {
    let tok = crate::console::create(app, name, role).await;
    let mut b = crate::pages::Browser::new();
    let secret = crate::console::setup(app, &mut b, &tok).await;
    app.clock.advance(30);
    let otp = crate::console::code(app, &secret);
    let v = json_of(
        app.post(
            "/api/admin/v1/session",
            None,
            json!({ "name": name, "password": crate::console::PASSWORD, "otp": otp }),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    v["token"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn support_gets_no_url_the_link_is_mailed_and_its_use_names_the_creator() {
    let app = spawn_app().await;
    newcomer(&app, "taken01").await;
    let op = operator_session(&app, "desk3", "support").await;
    // Asked without `send_email`, support's link is mailed anyway and its URL not answered.
    let r = ok(app
        .http
        .post(format!(
            "{}/api/admin/v1/logins/taken01/setup-link",
            app.admin_url
        ))
        .bearer_auth(&op)
        .json(&json!({ "second_factor": false }))
        .send()
        .await);
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = ok(r.json().await);
    assert!(v["url"].is_null(), "{v}");
    assert!(!v.to_string().contains("skst_"), "{v}");
    assert_eq!(v["email_sent_to"], "taken01@example.co.jp");
    let m = app
        .smtp
        .next_kind("taken01@example.co.jp", "setup_link", 15)
        .await;
    let path = setup_path(&m.text());
    assert!(path.starts_with("/setup/skst_"), "{}", m.text());
    // The customer uses the mailed link: the record names the operator who made it, and the
    // customer is told the password changed.
    assert_eq!(
        set_through(&app, &path, "abcd1234").await,
        StatusCode::SEE_OTHER
    );
    let set = password_set_by(&app.audit("taken01").await);
    assert_eq!(set.len(), 1, "{set:?}");
    assert_eq!(
        (set[0].0.as_str(), set[0].1.as_str()),
        ("operator", "desk3")
    );
    assert!(set[0].2.contains("operator desk3"), "{set:?}");
    let n = app
        .smtp
        .next_kind("taken01@example.co.jp", "password_changed_notice", 15)
        .await;
    assert!(n.text().contains("パスワード"), "{}", n.text());
    let r = app.login("taken01", "abcd1234").await;
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn an_admin_still_gets_the_url_and_the_notice_goes_out_too() {
    let app = spawn_app().await;
    newcomer(&app, "taken02").await;
    let r = app
        .admin(
            Method::POST,
            "/logins/taken02/setup-link",
            Some(json!({ "second_factor": false })),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = ok(r.json().await);
    assert!(v["email_sent_to"].is_null(), "{v}");
    let url = v["url"].as_str().unwrap_or_default();
    let path = url.strip_prefix("http://sekisho.test").unwrap_or_default();
    assert!(path.starts_with("/setup/skst_"), "{v}");
    assert_eq!(
        set_through(&app, path, "abcd1234").await,
        StatusCode::SEE_OTHER
    );
    let set = password_set_by(&app.audit("taken02").await);
    assert_eq!(set.len(), 1, "{set:?}");
    assert_eq!(set[0].0, "api_token", "{set:?}");
    app.smtp
        .next_kind("taken02@example.co.jp", "password_changed_notice", 15)
        .await;
}

#[tokio::test]
async fn the_console_shows_support_no_url_and_mails_the_link() {
    let app = spawn_app().await;
    newcomer(&app, "taken03").await;
    let mut b = signed_in(&app, "desk4", "support").await;
    let (_, _, html) = b.get(&app, "/admin/logins/taken03").await;
    let t = csrf(&html);
    // ⑤ "generate" (no mail asked): for support it is mailed, and the page shows no URL.
    let (status, _, html) = b
        .post(
            &app,
            "/admin/logins/taken03/credentials",
            &[
                ("csrf", &t),
                ("mode", "link"),
                ("password", "on"),
                ("action", "generate"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(!html.contains("skst_"), "{html}");
    assert!(!html.contains("id=\"setup-url\""), "{html}");
    assert!(html.contains("id=\"link-mail-only\""), "{html}");
    assert!(html.contains("taken03@example.co.jp"), "{html}");
    let m = app
        .smtp
        .next_kind("taken03@example.co.jp", "setup_link", 15)
        .await;
    assert!(setup_path(&m.text()).starts_with("/setup/skst_"));
    let events = app.audit("taken03").await;
    assert!(events
        .iter()
        .any(|e| e["event_type"] == "setup_link_created"
            && e["actor"]["id"] == "desk4"
            && e["description"]
                .as_str()
                .is_some_and(|d| d.contains("mailed to the registered address only"))));
}
