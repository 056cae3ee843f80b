//! The security settings' recovery codes, delivery address and trading password over plain
//! HTTP, where the firm asks for the trading password before changes (JTG: the delivery address
//! changes only with the trading password).

use crate::common::{spawn_with, Options, TestApp};
use crate::pages::Browser;
use reqwest::StatusCode;

async fn signed_in(app: &TestApp, login_id: &str, password: &str) -> (Browser, String) {
    let mut b = Browser::new();
    let (token, _) = b.log_in(app, login_id, password).await;
    (b, token)
}

#[tokio::test]
async fn with_a_trading_password_the_address_changes_only_with_it() {
    let app = spawn_with(Options {
        trading_password_reauth: true,
        ..Options::default()
    })
    .await;
    app.create_login("nakano", "kabu2026nak").await;
    let (mut b, token) = signed_in(&app, "nakano", "kabu2026nak").await;
    let t = token.as_str();
    // The first trading password: the login password proves it; a mismatch is refused first.
    let first = |again: &'static str| {
        [
            ("csrf", t),
            ("password", "kabu2026nak"),
            ("new_trading_password", "Torihiki2026"),
            ("confirm_trading_password", again),
        ]
    };
    let (status, _, html) = b
        .post(&app, "/account/trading-password", &first("Torihiki2027"))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("一致しません"), "{html}");
    let (status, h, _) = b
        .post(&app, "/account/trading-password", &first("Torihiki2026"))
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(h["location"], "/account/security?done=trading");
    let (_, _, html) = b.get(&app, "/account/security").await;
    assert!(
        html.contains("name=\"trading_password\""),
        "proof asks for it now"
    );
    // The login password no longer proves a change of the delivery address.
    let change = |field: &'static str, secret: &'static str| {
        [
            ("csrf", t),
            ("address", "nakano.mobile@example.net"),
            (field, secret),
        ]
    };
    let (status, _, html) = b
        .post(
            &app,
            "/account/code-address",
            &change("password", "kabu2026nak"),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{html}");
    assert!(html.contains("SKS-PWD-0009"), "{html}");
    let (status, _, html) = b
        .post(
            &app,
            "/account/code-address",
            &change("trading_password", "Torihiki2099"),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(html.contains("SKS-PWD-0010"), "{html}");
    assert_eq!(app.smtp.count_for("nakano.mobile@example.net"), 0);
    // The proof accepted: first the confirmation, nothing sent yet.
    let (status, _, html) = b
        .post(
            &app,
            "/account/code-address",
            &change("trading_password", "Torihiki2026"),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("id=\"confirm-address\">nakano.mobile@example.net"),
        "{html}"
    );
    assert_eq!(app.smtp.count_for("nakano.mobile@example.net"), 0);
    let confirmed = [
        ("csrf", t),
        ("address", "nakano.mobile@example.net"),
        ("confirmed", "1"),
    ];
    let (status, h, _) = b.post(&app, "/account/code-address", &confirmed).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(h["location"], "/account/security/address?done=address_sent");
    let (_, _, html) = b
        .get(&app, "/account/security/address?done=address_sent")
        .await;
    assert!(
        html.contains("id=\"pending-address\">nakano.mobile@example.net"),
        "{html}"
    );
    let code = app
        .smtp
        .next_for("nakano.mobile@example.net", 10)
        .await
        .code(6);
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let (status, _, html) = b
        .post(
            &app,
            "/account/code-address/confirm",
            &[("csrf", t), ("code", wrong)],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("SKS-ACC-0006"), "{html}");
    let (status, _, _) = b
        .post(
            &app,
            "/account/code-address/confirm",
            &[("csrf", t), ("code", &code)],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(app.count_events("nakano", "code_address_changed").await, 1);
    // Still fresh from the trading password: recovery codes without another proof, never cached.
    let (status, h, html) = b
        .post(&app, "/account/recovery-codes", &[("csrf", t)])
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(h["cache-control"], "no-store");
    assert_eq!(html.matches("<li><code>").count(), 10, "{html}");
    // Five minutes later the proof is asked again.
    app.clock.advance(301);
    let (status, _, html) = b
        .post(&app, "/account/recovery-codes", &[("csrf", t)])
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("ご本人確認のため"), "{html}");
    assert_eq!(
        app.count_events("nakano", "recovery_codes_generated").await,
        1
    );
}
