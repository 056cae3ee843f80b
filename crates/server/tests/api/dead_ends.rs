//! No dead ends with live forms (issue 17 item 8): a locked token, a spent e-mail code and a
//! return hop without a session each say what to do next, and the page offers no form that
//! cannot succeed.

use crate::common::{spawn_app, TestApp};
use crate::email_code::{email_login, PASSWORD};
use crate::pages::{csrf, Browser};
use crate::tokens::{challenge, code, register, setup, step};
use reqwest::{Method, StatusCode};

const CODE_FORM: &str = "action=\"/login/second-factor\"";
const RESEND_FORM: &str = "action=\"/login/second-factor/resend\"";
const RESTART: &str = "href=\"/login\"";

/// The password step on the login page; the browser then waits at the second factor.
async fn password_step(app: &TestApp, b: &mut Browser, login_id: &str, password: &str) {
    let (_, to) = b.log_in(app, login_id, password).await;
    assert_eq!(to, "/login/second-factor");
}

async fn answer(app: &TestApp, b: &mut Browser, method: &str, otp: &str) -> (StatusCode, String) {
    let (_, _, html) = b.get(app, "/login/second-factor").await;
    let token = csrf(&html);
    let form = [("csrf", token.as_str()), ("method", method), ("otp", otp)];
    let (status, _, html) = b.post(app, "/login/second-factor", &form).await;
    (status, html)
}

#[tokio::test]
async fn a_locked_token_offers_neither_code_entry_nor_resync_until_unlocked() {
    let app = setup().await;
    let v = challenge(&app, "second_factor_not_initialized").await;
    let ch = v["challenge"].as_str().unwrap_or_default().to_owned();
    let s = step(&app);
    let r = register(&app, &ch, "VSMT25772182", &code(s - 1), &code(s)).await;
    assert_eq!(r.status(), StatusCode::OK);
    let mut b = Browser::new();
    password_step(&app, &mut b, "fx0000001", "Passw0rd99").await;
    // Wrong codes until the token locks (10 by default); the answer that locks it already
    // shows the locked state.
    let mut tries = 0;
    let html = loop {
        tries += 1;
        assert!(tries <= 10, "the token never locked");
        let (status, html) = answer(&app, &mut b, "token", &code(s + 40 + tries)).await;
        if html.contains("SKS-LGN-0008") {
            assert_eq!(status, StatusCode::FORBIDDEN);
            break html;
        }
        assert!(
            html.contains("SKS-LGN-0007") && html.contains(CODE_FORM),
            "{html}"
        );
    };
    assert_eq!(tries, 10);
    for html in [html, b.get(&app, "/login/second-factor").await.2] {
        assert!(
            html.contains("SKS-LGN-0008") && html.contains("サポートデスク"),
            "{html}"
        );
        assert!(
            !html.contains(CODE_FORM),
            "a code form on a locked token: {html}"
        );
        assert!(!html.contains("/login/token/resync"), "{html}");
        assert!(
            html.contains("VSMT25772182") && html.contains(RESTART),
            "{html}"
        );
    }
    // The resynchronisation page is no way round the lock.
    let (status, h, _) = b.get(&app, "/login/token/resync").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let to = h.get("location").and_then(|v| v.to_str().ok());
    assert_eq!(to, Some("/login/second-factor?method=token"));
    // Unlocked by the desk: the same page offers the code again, and it logs in.
    let r = app
        .admin(Method::POST, "/tokens/VSMT25772182/unlock", None)
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let (_, _, html) = b.get(&app, "/login/second-factor").await;
    assert!(
        html.contains(CODE_FORM) && !html.contains("SKS-LGN-0008"),
        "{html}"
    );
    app.clock.advance(30);
    let (status, _) = answer(&app, &mut b, "token", &code(step(&app))).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_spent_email_code_offers_a_new_one_and_then_only_a_new_login() {
    let app = spawn_app().await;
    email_login(&app, "yamada").await;
    let mut b = Browser::new();
    password_step(&app, &mut b, "yamada", PASSWORD).await;
    let (_, _, html) = b.get(&app, "/login/second-factor").await;
    assert!(
        html.contains("送信しました") && html.contains(CODE_FORM) && html.contains(RESEND_FORM)
    );
    // Five wrong codes wear the code out: no code form, no "we have sent", the re-issue stays.
    for _ in 0..5 {
        answer(&app, &mut b, "email", "00000000").await;
    }
    let (_, _, html) = b.get(&app, "/login/second-factor").await;
    assert!(html.contains("SKS-LGN-0012"), "{html}");
    assert!(
        !html.contains(CODE_FORM) && !html.contains("送信しました"),
        "{html}"
    );
    assert!(
        html.contains(RESEND_FORM) && html.contains(RESTART),
        "{html}"
    );
    // A new code opens the form again.
    app.clock.advance(31);
    let (_, _, html) = b.get(&app, "/login/second-factor").await;
    let token = csrf(&html);
    let (status, _, html) = b
        .post(&app, "/login/second-factor/resend", &[("csrf", &token)])
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains(CODE_FORM) && !html.contains("SKS-LGN-0012"),
        "{html}"
    );
    // The last code that may be sent, then its expiry: only a new login is left.
    for _ in 0..2 {
        app.clock.advance(31);
        let token = csrf(&html);
        let (status, _, _) = b
            .post(&app, "/login/second-factor/resend", &[("csrf", &token)])
            .await;
        assert_eq!(status, StatusCode::OK);
    }
    let (_, _, html) = b.get(&app, "/login/second-factor").await;
    assert!(
        html.contains(CODE_FORM) && !html.contains(RESEND_FORM),
        "{html}"
    );
    app.clock.advance(301);
    let (_, _, html) = b.get(&app, "/login/second-factor").await;
    assert!(html.contains("SKS-LGN-0014"), "{html}");
    assert!(
        !html.contains(CODE_FORM) && !html.contains(RESEND_FORM),
        "{html}"
    );
    assert!(html.contains(RESTART), "{html}");
}

#[tokio::test]
async fn the_return_hop_without_a_session_asks_for_a_login_and_comes_back() {
    let app = spawn_app().await;
    let mut b = Browser::new();
    let hop = "/login/return?to=https%3A%2F%2Ftrade.example.co.jp%2Fhome";
    let (status, h, _) = b.get(&app, hop).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let to = h
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    assert_eq!(
        to,
        "/login?done=ended&return_to=https%3A%2F%2Ftrade.example.co.jp%2Fhome"
    );
    let (status, _, html) = b.get(&app, to).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("もう一度ログインしてください") && !html.contains("ログインしました"));
    assert!(
        html.contains("value=\"https://trade.example.co.jp/home\""),
        "{html}"
    );
}
