//! The setup wizard's step 2 for a `passkey` login, over HTTP with the software authenticator:
//! the link is the proof of identity, the passkey is registered with the security settings'
//! ceremony, the wizard finishes, and the login then answers its second step with that passkey.
//! A link of a login with another second factor cannot register one.

use crate::common::{expect_error, ok, spawn_app, TestApp};
use crate::pages::{csrf, Browser};
use crate::passkeys::SoftPasskey;
use reqwest::StatusCode;
use serde_json::{json, Value};

/// A new login of `second_factor` and the path of its setup link (password and second factor).
pub(crate) async fn link_for(app: &TestApp, login_id: &str, second_factor: &str) -> String {
    let link = json!({ "password": true, "second_factor": true });
    app.newcomer(login_id, second_factor, "ja", link).await
}

/// Step 1 through the form; answers step 2's page.
pub(crate) async fn set_password(app: &TestApp, b: &mut Browser, path: &str) -> String {
    let (status, _, html) = b.get(app, path).await;
    assert_eq!(status, StatusCode::OK);
    let token = csrf(&html);
    let form = [
        ("csrf", token.as_str()),
        ("new_password", "hana2026ko"),
        ("confirm_password", "hana2026ko"),
    ];
    let (status, _, body) = b.post(app, &format!("{path}/password"), &form).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    let (status, _, html) = b.get(app, path).await;
    assert_eq!(status, StatusCode::OK);
    html
}

#[tokio::test]
async fn a_passkey_login_registers_its_passkey_in_the_setup_wizard() {
    let app = spawn_app().await;
    let path = link_for(&app, "sato.pk01", "passkey").await;
    let mut b = Browser::new();
    let (_, _, first) = b.get(&app, &path).await;
    assert!(
        first.contains("2. パスキーの登録"),
        "the steps name the passkey"
    );
    let html = set_password(&app, &mut b, &path).await;
    assert!(
        html.contains(&format!("data-begin=\"{path}/passkey/begin\"")),
        "{html}"
    );

    let (status, _, body) = b
        .post_json(
            &app,
            &format!("{path}/passkey/begin"),
            &json!({ "csrf": csrf(&html) }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let begun: Value = ok(serde_json::from_str(&body));
    assert_eq!(begun["options"]["publicKey"]["user"]["name"], "sato.pk01");
    let (mut key, credential) = SoftPasskey::create(&begun["options"]);
    let cred = credential.to_string();
    let form = [
        ("csrf", csrf(&html)),
        (
            "ceremony",
            begun["ceremony"].as_str().unwrap_or_default().to_owned(),
        ),
        ("name", "スマートフォン".into()),
        ("credential", cred),
    ];
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, _, body) = b.post(&app, &format!("{path}/passkey"), &form).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    let (status, _, done) = b.get(&app, &path).await;
    assert_eq!(status, StatusCode::OK);
    assert!(done.contains("初期設定が完了しました"), "{done}");
    assert_eq!(app.count_events("sato.pk01", "passkey_added").await, 1);
    assert_eq!(app.count_events("sato.pk01", "setup_link_used").await, 1);

    // The password, then that passkey.
    let r = app.login("sato.pk01", "hana2026ko").await;
    let body = expect_error(
        r,
        StatusCode::UNAUTHORIZED,
        "second_factor_required",
        "SKS-LGN-0006",
    )
    .await;
    assert_eq!(body["methods"], json!(["passkey"]), "{body}");
    let r = app
        .post(
            "/api/v1/login/passkey/begin",
            None,
            json!({ "challenge": body["challenge"] }),
        )
        .await;
    let begun: Value = ok(r.json().await);
    let r = app
        .post(
            "/api/v1/login/passkey/finish",
            None,
            json!({
                "challenge": body["challenge"],
                "ceremony": begun["ceremony"],
                "credential": key.get(&begun["options"]),
            }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn other_logins_links_cannot_register_a_passkey() {
    let app = spawn_app().await;
    let path = link_for(&app, "sato.pk02", "totp").await;
    let mut b = Browser::new();
    let html = set_password(&app, &mut b, &path).await;
    assert!(!html.contains("/passkey/begin"));
    let (status, _, body) = b
        .post_json(
            &app,
            &format!("{path}/passkey/begin"),
            &json!({ "csrf": csrf(&html) }),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body.contains("invalid_request"), "{body}");
    assert_eq!(app.count_events("sato.pk02", "passkey_added").await, 0);
}
