//! The operator console (`/admin`) over plain HTTP: first setup from the link, login with
//! password and code in its own SameSite=Strict cookie, logout, and only where the admin API is.

use crate::common::{ok, spawn_app, spawn_with, Options, TestApp};
use crate::pages::{csrf, Browser};
use reqwest::{Method, StatusCode};
use sekisho_core::otp::{base32_decode, totp_at, totp_step, OtpParams};
use sekisho_core::Clock;
use serde_json::json;

pub(crate) const PASSWORD: &str = "Opr-pass-2026x";

pub(crate) fn code(app: &TestApp, secret: &[u8]) -> String {
    let p = OtpParams::default();
    totp_at(secret, totp_step(app.clock.now(), p.period), p)
}

fn between<'a>(html: &'a str, start: &str, end: &str) -> &'a str {
    html.split(start)
        .nth(1)
        .and_then(|r| r.split(end).next())
        .unwrap_or_default()
}

/// Creates an operator through the API; answers the setup token.
pub(crate) async fn create(app: &TestApp, name: &str, role: &str) -> String {
    let r = app
        .admin(
            Method::POST,
            "/operators",
            Some(json!({ "name": name, "role": role })),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: serde_json::Value = ok(r.json().await);
    let url = v["setup_url"].as_str().unwrap_or_default().to_owned();
    url.rsplit('/').next().unwrap_or_default().to_owned()
}

/// Completes the setup on the console; answers the authenticator key.
pub(crate) async fn setup(app: &TestApp, b: &mut Browser, tok: &str) -> Vec<u8> {
    let (status, h, html) = b.get(app, &format!("/admin/setup/{tok}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(h.get("content-security-policy").is_some_and(|v| v
        .to_str()
        .unwrap_or_default()
        .contains("frame-ancestors 'none'")));
    assert!(html.contains("パスワードの設定"), "{html}");
    let t = csrf(&html);
    // The two passwords must match.
    let (status, _, html) = b
        .post(
            app,
            &format!("/admin/setup/{tok}/password"),
            &[
                ("csrf", &t),
                ("new_password", PASSWORD),
                ("confirm_password", "other"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("一致しません"));
    let (status, _, html) = b
        .post(
            app,
            &format!("/admin/setup/{tok}/password"),
            &[
                ("csrf", &t),
                ("new_password", PASSWORD),
                ("confirm_password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("data:image/svg+xml;base64,"));
    let secret = base32_decode(between(&html, "id=\"secret-key\">", "<")).unwrap_or_default();
    assert!(!secret.is_empty());
    let (status, _, html) = b
        .post(
            app,
            &format!("/admin/setup/{tok}/confirm"),
            &[("csrf", &t), ("otp", "000000")],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{html}");
    let c = code(app, &secret);
    let (status, _, html) = b
        .post(
            app,
            &format!("/admin/setup/{tok}/confirm"),
            &[("csrf", &t), ("otp", &c)],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("初期設定が完了しました"));
    // The link works once.
    let (status, _, _) = b
        .post(
            app,
            &format!("/admin/setup/{tok}/password"),
            &[
                ("csrf", &t),
                ("new_password", PASSWORD),
                ("confirm_password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    secret
}

#[tokio::test]
async fn an_operator_sets_up_logs_in_and_out_on_the_console() {
    let app = spawn_app().await;
    let tok = create(&app, "suzuki", "admin").await;
    let mut b = Browser::new();
    let secret = setup(&app, &mut b, &tok).await;

    // Not signed in: the console sends to its login page.
    let (status, h, _) = b.get(&app, "/admin").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        h.get("location").and_then(|v| v.to_str().ok()),
        Some("/admin/login")
    );
    let (status, _, html) = b.get(&app, "/admin/login?lang=en").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Operator name"));
    let t = csrf(&html);
    // A form without its token is refused.
    app.clock.advance(30);
    let c = code(&app, &secret);
    let (status, _, _) = b
        .post(
            &app,
            "/admin/login",
            &[
                ("csrf", "x"),
                ("name", "suzuki"),
                ("password", PASSWORD),
                ("otp", &c),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // A wrong code.
    let (status, _, html) = b
        .post(
            &app,
            "/admin/login",
            &[
                ("csrf", &t),
                ("name", "suzuki"),
                ("password", PASSWORD),
                ("otp", "000000"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(html.contains("SKS-"), "{html}");
    let (status, h, _) = b
        .post(
            &app,
            "/admin/login",
            &[
                ("csrf", &t),
                ("name", "suzuki"),
                ("password", PASSWORD),
                ("otp", &c),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let set: Vec<&str> = h
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    let session = set
        .iter()
        .find(|c| c.starts_with("__Host-sekisho_admin=skso_"))
        .copied()
        .unwrap_or_default();
    for attr in ["Path=/", "Secure", "HttpOnly", "SameSite=Strict"] {
        assert!(session.contains(attr), "{session}");
    }
    let (status, _, html) = b.get(&app, "/admin").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("id=\"operator-name\">suzuki<") && html.contains("Administrator"));
    // The session is an operator session of the API too: the operator is the actor.
    let token = between(session, "=", ";").to_owned();
    let r = app.get("/api/admin/v1/session", Some(&token)).await;
    assert_eq!(r.status(), StatusCode::OK);

    let (status, h, _) = b.post(&app, "/admin/logout", &[("csrf", &t)]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        h.get("location").and_then(|v| v.to_str().ok()),
        Some("/admin/login?done=1")
    );
    let r = app.get("/api/admin/v1/session", Some(&token)).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let (status, _, _) = b.get(&app, "/admin").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn the_console_is_served_only_where_the_admin_api_is() {
    let app = spawn_with(Options {
        admin_listen: true,
        ..Options::default()
    })
    .await;
    let get = |base: String| {
        let http = app.http.clone();
        async move { ok(http.get(format!("{base}/admin/login")).send().await) }
    };
    let r = get(app.admin_url.clone()).await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = ok(app
        .http
        .get(format!("{}/assets/pages.css", app.admin_url))
        .send()
        .await);
    assert_eq!(r.status(), StatusCode::OK);
    let r = get(app.url.clone()).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}
